"""Template filters of the routing wizards' pages."""

from __future__ import annotations

from typing import Any

from django import template

from istio_config.wizards.generate import wizard_of

register = template.Library()


@register.filter
def written_by(obj: Any) -> str:
    """The wizard that wrote a routing object (its ``mesh-ui.io/wizard`` label); empty when written by hand."""
    return wizard_of(getattr(obj, "labels", None))
