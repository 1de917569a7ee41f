"""What each routing wizard asks for: one frozen dataclass per wizard, and the service it is opened on.

Plain data, no Django: the dashboard's forms fill these in, :mod:`istio_config.wizards.generate` turns them into
Istio objects, and :func:`check_wizard_input` says what is wrong with one before anything is generated, as
:class:`~istio_config.wizards.messages.Message` values (English templates the dashboard translates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from istio_config.wizards import messages
from istio_config.wizards.messages import Message

#: The label every object a wizard writes carries; its value is the wizard's name. "Remove routing" deletes only
#: objects with it (Kiali's ``kiali_wizard`` label plays the same part).
WIZARD_LABEL = "mesh-ui.io/wizard"

MatchField = Literal["header", "uri", "query"]
MatchKind = Literal["exact", "prefix", "regex"]
Protocol = Literal["http", "tcp"]

#: An Istio duration as the wizards accept it: a number and one unit (``7s``, ``0.5s``, ``100ms``, ``1m``).
_DURATION = re.compile(r"^\d+(\.\d+)?(ms|s|m|h)$")
#: What Envoy's retryOn accepts: a comma-separated list of policies (``5xx,reset``) or HTTP codes (``503``).
_RETRY_ON = re.compile(r"^[a-z0-9-]+(,[a-z0-9-]+)*$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class ServiceTarget:
    """The service a wizard is opened on: its namespace, name and the DestinationRule subsets it can route to.

    ``subsets`` are ``(name, labels)`` pairs: those of the DestinationRule the wizard replaces, then one
    ``{"version": v}`` subset named ``v`` per workload version no subset covers (see :func:`plan_subsets`).
    """

    namespace: str
    name: str
    subsets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @property
    def host(self) -> str:
        """The host the objects name: the service's short name, resolved in its own namespace (as Istio's samples)."""
        return self.name

    @property
    def subset_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.subsets)


@dataclass(frozen=True)
class Match:
    """One request condition: a header, the URI or a query parameter, compared exactly, by prefix or by regex."""

    field: MatchField
    kind: MatchKind
    value: str
    name: str = ""  # the header or query parameter; empty for the URI

    def as_istio(self) -> dict[str, object]:
        """The condition as a key of an ``HTTPMatchRequest``."""
        compared = {self.kind: self.value}
        if self.field == "uri":
            return {"uri": compared}
        key = "headers" if self.field == "header" else "queryParams"
        return {key: {self.name: compared}}


@dataclass(frozen=True)
class RouteRule:
    """Requests meeting every condition of ``matches`` go to ``subset``."""

    matches: tuple[Match, ...]
    subset: str


@dataclass(frozen=True)
class RequestRouting:
    """Rules tried in order, each to a subset; every other request to ``default_subset``."""

    rules: tuple[RouteRule, ...]
    default_subset: str
    wizard = "request-routing"


@dataclass(frozen=True)
class TrafficShifting:
    """A share of the traffic per subset, in percent (they sum to 100), for HTTP or TCP routes."""

    weights: tuple[tuple[str, int], ...]
    protocol: Protocol = "http"
    wizard = "traffic-shifting"


@dataclass(frozen=True)
class FaultInjection:
    """A delay and/or an abort, each for a percentage of requests; only for ``match`` when given."""

    delay_percent: float = 0.0
    delay: str = ""
    abort_percent: float = 0.0
    abort_status: int = 0
    match: Match | None = None
    route_subset: str = ""  # "" routes to the service (every version)
    wizard = "fault-injection"


@dataclass(frozen=True)
class TimeoutsRetries:
    """A request timeout and retries (attempts, per-try timeout, the conditions retried); empty/0 leaves one out."""

    timeout: str = ""
    attempts: int = 0
    per_try_timeout: str = ""
    retry_on: str = ""
    route_subset: str = ""
    wizard = "timeouts-retries"


@dataclass(frozen=True)
class CircuitBreaking:
    """The DestinationRule's connection pool and outlier detection; None leaves a setting out."""

    max_connections: int | None = None
    http1_max_pending_requests: int | None = None
    max_requests_per_connection: int | None = None
    consecutive_5xx_errors: int | None = None
    interval: str = ""
    base_ejection_time: str = ""
    max_ejection_percent: int | None = None
    wizard = "circuit-breaking"


@dataclass(frozen=True)
class Mirroring:
    """Every request to ``route_subset`` (or the service); ``percent`` of them copied to ``mirror_subset``."""

    mirror_subset: str
    percent: float = 100.0
    route_subset: str = ""
    wizard = "mirroring"


WizardInput = RequestRouting | TrafficShifting | FaultInjection | TimeoutsRetries | CircuitBreaking | Mirroring

#: Wizard name → its input class, in the order the pages list them.
WIZARDS: dict[str, type[WizardInput]] = {
    cls.wizard: cls
    for cls in (RequestRouting, TrafficShifting, FaultInjection, TimeoutsRetries, CircuitBreaking, Mirroring)
}


@dataclass
class InputErrors:
    """What is wrong with a wizard's input, by field (``""`` for the whole input)."""

    by_field: dict[str, list[Message]] = field(default_factory=dict)

    def add(self, name: str, template: str, /, **params: str | Message) -> None:
        """One more message on ``name``: ``template`` (one of :data:`messages.TEMPLATES`) filled with ``params``."""
        self.by_field.setdefault(name, []).append(Message(template, params))

    def __bool__(self) -> bool:
        return bool(self.by_field)


def _check_subset(errors: InputErrors, name: str, subset: str, target: ServiceTarget, optional: bool) -> None:
    if optional and not subset:
        return
    if subset not in target.subset_names:
        known: str | Message = ", ".join(target.subset_names) or Message(messages.NO_VERSION_SUBSETS)
        if subset:
            errors.add(name, messages.NOT_A_SUBSET, subset=subset, service=target.name, known=known)
        else:
            errors.add(name, messages.CHOOSE_A_SUBSET, known=known)


def _check_percent(errors: InputErrors, name: str, value: float) -> None:
    if not 0 <= value <= 100:
        errors.add(name, messages.NOT_A_PERCENTAGE, value=str(value))


def _check_duration(errors: InputErrors, name: str, value: str, required: bool = False) -> None:
    if (value or required) and not _DURATION.match(value):
        errors.add(name, messages.NOT_A_DURATION, value=value or Message(messages.EMPTY_VALUE))


def _check_match(errors: InputErrors, name: str, match: Match) -> None:
    if not match.value:
        errors.add(name, messages.VALUE_REQUIRED)
    if match.field == "uri" and match.name:
        errors.add(name, messages.URI_HAS_NO_NAME)
    if match.field != "uri" and (not match.name or not _HEADER_NAME.match(match.name)):
        errors.add(name, messages.HEADER_NAME_REQUIRED if match.field == "header" else messages.QUERY_NAME_REQUIRED)
    if match.field == "query" and match.kind == "prefix":
        errors.add(name, messages.QUERY_BY_PREFIX)
    if match.kind == "regex":
        try:
            re.compile(match.value)
        except re.error as exc:
            errors.add(name, messages.NOT_A_REGEX, error=str(exc))


def check_wizard_input(wizard: WizardInput, target: ServiceTarget) -> InputErrors:
    """What is wrong with ``wizard`` for ``target`` (empty when it can be generated)."""
    errors = InputErrors()
    if isinstance(wizard, RequestRouting):
        _check_request_routing(errors, wizard, target)
    elif isinstance(wizard, TrafficShifting):
        _check_traffic_shifting(errors, wizard, target)
    elif isinstance(wizard, FaultInjection):
        _check_fault_injection(errors, wizard, target)
    elif isinstance(wizard, TimeoutsRetries):
        _check_timeouts(errors, wizard, target)
    elif isinstance(wizard, CircuitBreaking):
        _check_circuit_breaking(errors, wizard)
    else:
        _check_subset(errors, "route_subset", wizard.route_subset, target, optional=True)
        _check_subset(errors, "mirror_subset", wizard.mirror_subset, target, optional=False)
        _check_percent(errors, "percent", wizard.percent)
        if wizard.mirror_subset and wizard.mirror_subset == wizard.route_subset:
            errors.add("mirror_subset", messages.MIRROR_TO_ITSELF)
    return errors


def _check_request_routing(errors: InputErrors, wizard: RequestRouting, target: ServiceTarget) -> None:
    for index, rule in enumerate(wizard.rules):
        if not rule.matches:
            errors.add(f"rule{index}", messages.RULE_WITHOUT_CONDITION)
        seen: set[tuple[str, str]] = set()
        for match in rule.matches:
            _check_match(errors, f"rule{index}", match)
            if (match.field, match.name) in seen:
                errors.add(f"rule{index}", messages.COMPARED_TWICE, field=match.field, name=match.name)
            seen.add((match.field, match.name))
        _check_subset(errors, f"rule{index}", rule.subset, target, optional=False)
    _check_subset(errors, "default_subset", wizard.default_subset, target, optional=False)


def _check_traffic_shifting(errors: InputErrors, wizard: TrafficShifting, target: ServiceTarget) -> None:
    for subset, weight in wizard.weights:
        _check_subset(errors, f"weight_{subset}", subset, target, optional=False)
        if not 0 <= weight <= 100:
            errors.add(f"weight_{subset}", messages.NOT_A_WEIGHT, value=str(weight))
    total = sum(weight for _, weight in wizard.weights)
    if total != 100:
        errors.add("", messages.WEIGHTS_SUM, total=str(total))


def _check_fault_injection(errors: InputErrors, wizard: FaultInjection, target: ServiceTarget) -> None:
    if not wizard.delay_percent and not wizard.abort_percent:
        errors.add("", messages.NO_FAULT)
    _check_percent(errors, "delay_percent", wizard.delay_percent)
    _check_percent(errors, "abort_percent", wizard.abort_percent)
    if wizard.delay_percent:
        _check_duration(errors, "delay", wizard.delay, required=True)
    if wizard.abort_percent and not 200 <= wizard.abort_status <= 599:
        errors.add("abort_status", messages.NOT_AN_HTTP_STATUS, value=str(wizard.abort_status))
    if wizard.match is not None:
        _check_match(errors, "match", wizard.match)
    _check_subset(errors, "route_subset", wizard.route_subset, target, optional=True)


def _check_timeouts(errors: InputErrors, wizard: TimeoutsRetries, target: ServiceTarget) -> None:
    if not wizard.timeout and not wizard.attempts:
        errors.add("", messages.NO_TIMEOUT_OR_RETRIES)
    _check_duration(errors, "timeout", wizard.timeout)
    _check_duration(errors, "per_try_timeout", wizard.per_try_timeout)
    if wizard.attempts < 0:
        errors.add("attempts", messages.NEGATIVE_ATTEMPTS)
    if not wizard.attempts and (wizard.per_try_timeout or wizard.retry_on):
        errors.add("attempts", messages.RETRIES_WITHOUT_ATTEMPTS)
    if wizard.retry_on and not _RETRY_ON.match(wizard.retry_on):
        errors.add("retry_on", messages.NOT_A_RETRY_LIST)
    _check_subset(errors, "route_subset", wizard.route_subset, target, optional=True)


def _check_circuit_breaking(errors: InputErrors, wizard: CircuitBreaking) -> None:
    numbers = {
        "max_connections": wizard.max_connections,
        "http1_max_pending_requests": wizard.http1_max_pending_requests,
        "max_requests_per_connection": wizard.max_requests_per_connection,
        "consecutive_5xx_errors": wizard.consecutive_5xx_errors,
    }
    for name, value in numbers.items():
        if value is not None and value < 1:
            errors.add(name, messages.AT_LEAST_ONE)
    if wizard.max_ejection_percent is not None:
        _check_percent(errors, "max_ejection_percent", wizard.max_ejection_percent)
    _check_duration(errors, "interval", wizard.interval)
    _check_duration(errors, "base_ejection_time", wizard.base_ejection_time)
    outlier = (wizard.interval, wizard.base_ejection_time, wizard.max_ejection_percent)
    if any(v not in ("", None) for v in outlier) and wizard.consecutive_5xx_errors is None:
        errors.add("consecutive_5xx_errors", messages.OUTLIER_WITHOUT_ERRORS)
    if all(v is None for v in numbers.values()):
        errors.add("", messages.NO_CIRCUIT_BREAKER)
