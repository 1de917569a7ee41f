"""``{% sso_button_label as label %}``: the SSO button's text when single sign-on is on, "" when it is off."""

from django import template

from sso.provider import current_config

register = template.Library()


@register.simple_tag
def sso_button_label() -> str:
    config = current_config()
    return config.button_label if config is not None else ""
