"""The routing wizards' forms: each reads what a person typed into one :mod:`istio_config.wizards.inputs` dataclass,
with the service's subsets as the choices, and shows the input checks' messages beside the fields they are about.

Plain HTML forms (they work without script); the traffic-shifting page's script adds sliders that keep the weights
at 100.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from dashboard.wizard_messages import translate_message
from istio_config.wizards.inputs import (
    CircuitBreaking,
    FaultInjection,
    InputErrors,
    Match,
    MatchField,
    MatchKind,
    Mirroring,
    Protocol,
    RequestRouting,
    RouteRule,
    ServiceTarget,
    TimeoutsRetries,
    TrafficShifting,
    WizardInput,
)

RULE_ROWS = 3
MATCH_FIELDS = [("header", _("header")), ("uri", "URI"), ("query", _("query parameter"))]
MATCH_KINDS = [("exact", _("exact")), ("prefix", _("prefix")), ("regex", _("regex"))]
DURATION_HELP = _("e.g. 7s, 0.5s, 100ms")


def _subset_choices(target: ServiceTarget, blank: StrOrPromise = "") -> list[tuple[str, StrOrPromise]]:
    choices: list[tuple[str, StrOrPromise]] = [(name, name) for name in target.subset_names]
    return [("", blank), *choices] if blank else choices


class WizardForm(forms.Form):
    """A wizard's form on one service: ``groups`` lays its fields out, ``to_input`` reads them."""

    title: StrOrPromise = ""
    summary: StrOrPromise = ""
    #: Fields that start a new line in their fieldset.
    line_breaks: frozenset[str] = frozenset()

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        self.target = target
        super().__init__(*args, **kwargs)

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Fieldsets to render: (legend, fields); the default is one set of every field."""
        return [("", list(self))]

    def to_input(self) -> WizardInput:  # pragma: no cover - every wizard form overrides it
        raise NotImplementedError

    def show_errors(self, errors: InputErrors) -> None:
        """The input checks' messages in the reader's language, on their field when the form has it, else at the top."""
        for name, messages in errors.by_field.items():
            for found in messages:
                message = translate_message(found)
                if name in self.fields:
                    self.add_error(name, message)
                else:
                    prefix = (
                        gettext("Rule %(number)d: ") % {"number": int(name[4:]) + 1} if name.startswith("rule") else ""
                    )
                    self.add_error(None, prefix + message)


def _match_fields(prefix: str, optional: StrOrPromise = "", label: StrOrPromise = "") -> dict[str, forms.Field]:
    """The four fields of one condition; ``optional`` names the choice that means "no condition"."""
    field_choices = [("", optional), *MATCH_FIELDS] if optional else MATCH_FIELDS
    label = label or gettext("Match on")
    return {
        f"{prefix}field": forms.ChoiceField(label=label, choices=field_choices, required=False),
        f"{prefix}name": forms.CharField(label=_("Header / parameter"), required=False, max_length=253),
        f"{prefix}kind": forms.ChoiceField(label=_("Compared"), choices=MATCH_KINDS, required=False),
        f"{prefix}value": forms.CharField(label=_("Value"), required=False, max_length=1024),
    }


def _match_of(data: dict[str, Any], prefix: str) -> Match | None:
    value, field = data.get(f"{prefix}value") or "", data.get(f"{prefix}field") or ""
    if not field or not value:
        return None
    match_field = cast(MatchField, field)  # one of the field's choices
    kind = cast(MatchKind, data.get(f"{prefix}kind") or "exact")
    return Match(match_field, kind, value, "" if field == "uri" else (data.get(f"{prefix}name") or "").strip())


class RequestRoutingForm(WizardForm):
    title = _("Request routing")
    summary = _(
        "Requests that match a rule (all its conditions) go to its subset, rules tried in order; all others to the"
        " default subset."
    )

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        super().__init__(target, *args, **kwargs)
        for row in range(RULE_ROWS):
            self.fields.update(_match_fields(f"rule{row}_"))
            self.fields.update(_match_fields(f"rule{row}_and_", optional="—", label=_("And on")))
            self.fields[f"rule{row}_subset"] = forms.ChoiceField(
                label=_("Route to"), choices=_subset_choices(target, "—"), required=False
            )
        self.fields["default_subset"] = forms.ChoiceField(
            label=_("Everything else to"), choices=_subset_choices(target)
        )

    line_breaks = frozenset(f"rule{row}_{name}" for row in range(RULE_ROWS) for name in ("and_field", "subset"))

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        rows = [
            (gettext("Rule %(number)d") % {"number": row + 1}, [f for f in self if f.name.startswith(f"rule{row}_")])
            for row in range(RULE_ROWS)
        ]
        return [*rows, (gettext("Default route"), [self["default_subset"]])]

    def to_input(self) -> WizardInput:
        data = self.cleaned_data
        rules = []
        for row in range(RULE_ROWS):
            found = (_match_of(data, f"rule{row}_"), _match_of(data, f"rule{row}_and_"))
            matches = tuple(m for m in found if m is not None)
            subset = data.get(f"rule{row}_subset") or ""
            if matches or subset:
                rules.append(RouteRule(matches, subset))
        return RequestRouting(tuple(rules), data["default_subset"])


class TrafficShiftingForm(WizardForm):
    title = _("Traffic shifting")
    summary = _(
        "A share of the traffic per subset, in percent. Moving one slider rebalances the others: they sum to 100."
    )

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        super().__init__(target, *args, **kwargs)
        names = target.subset_names  # a service without versions gets no weights: the checks say the sum is 0
        for index, name in enumerate(names):
            even = 100 // len(names) + (1 if index < 100 % len(names) else 0)
            self.fields[f"weight_{name}"] = forms.IntegerField(
                label=gettext("Weight of %(subset)s (%%)") % {"subset": name},
                min_value=0,
                max_value=100,
                initial=even,
                widget=forms.NumberInput(attrs={"data-weight": name, "step": 1}),
            )
        self.fields["protocol"] = forms.ChoiceField(
            label=_("Routes"), choices=[("http", "HTTP"), ("tcp", "TCP")], initial="http", required=False
        )

    def to_input(self) -> WizardInput:
        data = self.cleaned_data
        weights = tuple((name, int(data[f"weight_{name}"])) for name in self.target.subset_names)
        protocol = cast(Protocol, data.get("protocol") or "http")
        return TrafficShifting(weights, protocol)


def _percent(label: StrOrPromise, initial: float | None = None) -> forms.FloatField:
    return forms.FloatField(label=label, required=False, min_value=0, max_value=100, initial=initial)


def _duration(label: StrOrPromise, initial: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=20, initial=initial, help_text=DURATION_HELP)


def _count(label: StrOrPromise) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=2**31 - 1)


class FaultInjectionForm(WizardForm):
    title = _("Fault injection")
    summary = _("Delay and/or abort a percentage of requests, optionally only those that match.")

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        super().__init__(target, *args, **kwargs)
        # xgettext:no-python-format
        self.fields["delay_percent"] = _percent(_("Delay (% of requests)"))
        self.fields["delay"] = _duration(_("Delay by"), "7s")
        # xgettext:no-python-format
        self.fields["abort_percent"] = _percent(_("Abort (% of requests)"))
        self.fields["abort_status"] = forms.IntegerField(
            label=_("Abort with HTTP status"), required=False, min_value=200, max_value=599, initial=500
        )
        self.fields.update(_match_fields("match_", optional=_("every request")))
        self.fields["route_subset"] = forms.ChoiceField(
            label=_("Route to"), choices=_subset_choices(target, _("every version")), required=False
        )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (gettext("Delay"), [self["delay_percent"], self["delay"]]),
            (gettext("Abort"), [self["abort_percent"], self["abort_status"]]),
            (gettext("Only for"), [f for f in self if f.name.startswith("match_")]),
            (gettext("Route"), [self["route_subset"]]),
        ]

    def to_input(self) -> WizardInput:
        data = self.cleaned_data
        return FaultInjection(
            delay_percent=data.get("delay_percent") or 0.0,
            delay=(data.get("delay") or "").strip(),
            abort_percent=data.get("abort_percent") or 0.0,
            abort_status=data.get("abort_status") or 0,
            match=_match_of(data, "match_"),
            route_subset=data.get("route_subset") or "",
        )


class TimeoutsRetriesForm(WizardForm):
    title = _("Timeouts and retries")
    summary = _("How long a request may take, and how often a failed one is tried again.")

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        super().__init__(target, *args, **kwargs)
        self.fields["timeout"] = _duration(_("Timeout"))
        self.fields["attempts"] = _count(_("Retry attempts"))
        self.fields["per_try_timeout"] = _duration(_("Per-try timeout"))
        self.fields["retry_on"] = forms.CharField(
            label=_("Retry on"), required=False, max_length=200, help_text=_("e.g. 5xx,reset,connect-failure")
        )
        self.fields["route_subset"] = forms.ChoiceField(
            label=_("Route to"), choices=_subset_choices(target, _("every version")), required=False
        )

    def to_input(self) -> WizardInput:
        data = self.cleaned_data
        return TimeoutsRetries(
            timeout=(data.get("timeout") or "").strip(),
            attempts=data.get("attempts") or 0,
            per_try_timeout=(data.get("per_try_timeout") or "").strip(),
            retry_on=(data.get("retry_on") or "").strip(),
            route_subset=data.get("route_subset") or "",
        )


class CircuitBreakingForm(WizardForm):
    title = _("Circuit breaking")
    summary = _("The DestinationRule's connection pool and outlier detection. Empty fields are left out.")

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        super().__init__(target, *args, **kwargs)
        self.fields["max_connections"] = _count(_("Max connections"))
        self.fields["http1_max_pending_requests"] = _count(_("Max pending HTTP requests"))
        self.fields["max_requests_per_connection"] = _count(_("Max requests per connection"))
        self.fields["consecutive_5xx_errors"] = _count(_("Eject after consecutive 5xx errors"))
        self.fields["interval"] = _duration(_("Scan interval"))
        self.fields["base_ejection_time"] = _duration(_("Base ejection time"))
        self.fields["max_ejection_percent"] = forms.IntegerField(
            label=_("Max ejection (%)"), required=False, min_value=0, max_value=100
        )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        pool = ["max_connections", "http1_max_pending_requests", "max_requests_per_connection"]
        return [
            (gettext("Connection pool"), [self[name] for name in pool]),
            (gettext("Outlier detection"), [f for f in self if f.name not in pool]),
        ]

    def to_input(self) -> WizardInput:
        data = self.cleaned_data
        return CircuitBreaking(
            max_connections=data.get("max_connections"),
            http1_max_pending_requests=data.get("http1_max_pending_requests"),
            max_requests_per_connection=data.get("max_requests_per_connection"),
            consecutive_5xx_errors=data.get("consecutive_5xx_errors"),
            interval=(data.get("interval") or "").strip(),
            base_ejection_time=(data.get("base_ejection_time") or "").strip(),
            max_ejection_percent=data.get("max_ejection_percent"),
        )


class MirroringForm(WizardForm):
    title = _("Mirroring")
    summary = _("Copy a percentage of the requests to a subset (its answers are dropped); Kiali has no such wizard.")

    def __init__(self, target: ServiceTarget, *args: Any, **kwargs: Any) -> None:
        super().__init__(target, *args, **kwargs)
        self.fields["route_subset"] = forms.ChoiceField(
            label=_("Route to"), choices=_subset_choices(target, _("every version")), required=False
        )
        self.fields["mirror_subset"] = forms.ChoiceField(label=_("Mirror to"), choices=_subset_choices(target))
        # xgettext:no-python-format
        self.fields["percent"] = _percent(_("Mirror (% of requests)"), 100)

    def to_input(self) -> WizardInput:
        data = self.cleaned_data
        percent = data.get("percent")
        return Mirroring(
            mirror_subset=data["mirror_subset"],
            percent=100.0 if percent is None else percent,
            route_subset=data.get("route_subset") or "",
        )


WIZARD_FORMS: dict[str, type[WizardForm]] = {
    "request-routing": RequestRoutingForm,
    "traffic-shifting": TrafficShiftingForm,
    "fault-injection": FaultInjectionForm,
    "timeouts-retries": TimeoutsRetriesForm,
    "circuit-breaking": CircuitBreakingForm,
    "mirroring": MirroringForm,
}
