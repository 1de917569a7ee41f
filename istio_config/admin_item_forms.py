"""The item forms of the admin's structured Istio forms: one HTTP route of a VirtualService, one subset of a
DestinationRule. Each shows some fields of its item and keeps the rest of the item in its own YAML field
(``istio_config.admin_spec``); the main form (``istio_config.admin_forms``) owns them as a formset."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from istio_config import admin_spec
from istio_config.admin_fields import (
    MatchMapField,
    StringMapField,
    StringMatchField,
    YamlMappingField,
    optional_int,
    optional_text,
)
from istio_config.admin_spec import OTHER, Leaf

OTHER_HELP = _(
    "Everything else of this part, as YAML. It is kept as it is: the form never drops what it does not show."
)


class ItemForm(forms.Form):
    """One item of a spec's list (an HTTP route, a subset): structured fields over the item's own YAML rest."""

    leaves: ClassVar[list[Leaf]] = []

    def to_item(self) -> dict[str, Any]:
        """The item this form makes (call on a valid form)."""
        fields = {leaf.field: self.cleaned_data.get(leaf.field) for leaf in self.leaves}
        return admin_spec.join(fields, self.leaves, self.cleaned_data.get(OTHER) or {})

    def field_of(self, field: str) -> str:
        """The form field showing a leaf of the item as written (a route renumbers its destinations)."""
        return field


class HttpRouteForm(ItemForm):
    """One HTTP route of a VirtualService (``http_route_form`` gives it its destination fields)."""

    slots: ClassVar[int] = admin_spec.MIN_DESTINATIONS

    name = optional_text(max_length=253)
    uri = StringMatchField(label=_("Match URI"), help_text=_("exact, prefix or regex, then the value: prefix /reviews"))
    headers = MatchMapField(label=_("Match headers"), help_text=_("One per line: name exact|prefix|regex value"))
    query_params = MatchMapField(
        label=_("Match query parameters"), help_text=_("One per line: name exact|prefix|regex value")
    )
    # xgettext:no-python-format
    delay_percent = forms.FloatField(required=False, min_value=0, max_value=100, label=_("Fault: delay % of requests"))
    delay_fixed = optional_text(label=_("Fault: fixed delay"), help_text=_("e.g. 5s"))
    # xgettext:no-python-format
    abort_percent = forms.FloatField(required=False, min_value=0, max_value=100, label=_("Fault: abort % of requests"))
    abort_status = optional_int(min_value=100, max_value=599, label=_("Fault: abort HTTP status"))
    timeout = optional_text(help_text=_("e.g. 10s"))
    retry_attempts = optional_int(min_value=0, label=_("Retries: attempts"))
    retry_per_try_timeout = optional_text(label=_("Retries: per-try timeout"))
    retry_on = optional_text(label=_("Retries: retry on"), help_text=_("e.g. 5xx,connect-failure"))
    other = YamlMappingField(
        label=_("Other fields of the route (YAML)"),
        help_text=format_lazy(
            "{} {}", OTHER_HELP, _("Its match and route lists line up with the fields above by position.")
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(self.slots):
            self.fields[f"dest{i}_host"] = optional_text(
                label=gettext("Destination %(number)d: host") % {"number": i + 1}
            )
            self.fields[f"dest{i}_subset"] = optional_text(
                label=gettext("Destination %(number)d: subset") % {"number": i + 1}
            )
            self.fields[f"dest{i}_port"] = optional_int(
                min_value=1, max_value=65535, label=gettext("Destination %(number)d: port") % {"number": i + 1}
            )
            self.fields[f"dest{i}_weight"] = optional_int(
                min_value=0, max_value=100, label=gettext("Destination %(number)d: weight") % {"number": i + 1}
            )
        self.order_fields(["name", "uri", "headers", "query_params", *[f for f in self.fields if f.startswith("dest")]])
        self._written_slots: list[int] = []

    @property
    def leaves(self) -> list[Leaf]:  # type: ignore[override]
        return admin_spec.http_route_leaves(self.slots)

    def to_item(self) -> dict[str, Any]:
        """The route, its filled destinations numbered in order (an emptied one leaves no hole)."""
        data = dict(self.cleaned_data)
        parts = ("host", "subset", "port", "weight")
        filled = [i for i in range(self.slots) if any(not admin_spec.is_empty(data.get(f"dest{i}_{p}")) for p in parts)]
        moved = {f"dest{i}_{p}": data.get(f"dest{slot}_{p}") for i, slot in enumerate(filled) for p in parts}
        for i in range(self.slots):
            for p in parts:
                data[f"dest{i}_{p}"] = moved.get(f"dest{i}_{p}")
        self._written_slots = filled
        return admin_spec.join(data, self.leaves, data.get(OTHER) or {})

    def field_of(self, field: str) -> str:
        if field.startswith("dest"):
            index, _, part = field[4:].partition("_")
            written = int(index)
            if written < len(self._written_slots):
                return f"dest{self._written_slots[written]}_{part}"
        return field


def http_route_form(slots: int) -> type[HttpRouteForm]:
    """The route form with ``slots`` destinations."""
    return type("HttpRouteForm", (HttpRouteForm,), {"slots": slots})


class SubsetForm(ItemForm):
    """One subset of a DestinationRule: its name, its labels, and the rest (its traffic policy) as YAML."""

    leaves: ClassVar[list[Leaf]] = admin_spec.SUBSET_LEAVES

    name = optional_text(max_length=253)
    labels = StringMapField(help_text=_("One per line: key=value, e.g. version=v1"))
    other = YamlMappingField(
        label=_("Traffic policy and other fields (YAML)"),
        help_text=format_lazy("{} {}", OTHER_HELP, _("e.g. trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}")),
    )
