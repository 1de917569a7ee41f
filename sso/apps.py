"""App configuration for single sign-on."""

from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.events import LOGIN_METHODS

        LOGIN_METHODS["sso.backend.SsoBackend"] = "sso"
