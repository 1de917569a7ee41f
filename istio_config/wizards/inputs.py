"""What each routing wizard asks for: one frozen dataclass per wizard, and the service it is opened on.

Plain data, no Django: the dashboard's forms fill these in, :mod:`istio_config.wizards.generate` turns them into
Istio objects, and :func:`check_wizard_input` says what is wrong with one before anything is generated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

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

    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


def _check_subset(errors: InputErrors, name: str, subset: str, target: ServiceTarget, optional: bool) -> None:
    if optional and not subset:
        return
    if subset not in target.subset_names:
        known = ", ".join(target.subset_names) or "none: its workloads have no version label"
        what = f"{subset} is not a subset of {target.name}" if subset else "choose a subset"
        errors.add(name, f"{what} (subsets: {known})")


def _check_percent(errors: InputErrors, name: str, value: float) -> None:
    if not 0 <= value <= 100:
        errors.add(name, f"{value} is not a percentage (0 to 100)")


def _check_duration(errors: InputErrors, name: str, value: str, required: bool = False) -> None:
    if (value or required) and not _DURATION.match(value):
        errors.add(name, f"{value or '(empty)'} is not a duration such as 7s, 0.5s or 100ms")


def _check_match(errors: InputErrors, name: str, match: Match) -> None:
    if not match.value:
        errors.add(name, "a value to compare with is required")
    if match.field == "uri" and match.name:
        errors.add(name, "a URI match has no name")
    if match.field != "uri" and (not match.name or not _HEADER_NAME.match(match.name)):
        what = "header" if match.field == "header" else "query parameter"
        errors.add(name, f"a {what} name (letters, digits, -, _) is required")
    if match.field == "query" and match.kind == "prefix":
        errors.add(name, "a query parameter is compared exactly or by regex, not by prefix")
    if match.kind == "regex":
        try:
            re.compile(match.value)
        except re.error as exc:
            errors.add(name, f"not a regular expression: {exc}")


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
            errors.add("mirror_subset", "mirroring to the subset the traffic goes to copies every request to itself")
    return errors


def _check_request_routing(errors: InputErrors, wizard: RequestRouting, target: ServiceTarget) -> None:
    for index, rule in enumerate(wizard.rules):
        if not rule.matches:
            errors.add(f"rule{index}", "a rule needs a condition (a header, the URI or a query parameter)")
        seen: set[tuple[str, str]] = set()
        for match in rule.matches:
            _check_match(errors, f"rule{index}", match)
            if (match.field, match.name) in seen:
                errors.add(f"rule{index}", f"the {match.field} {match.name} is compared twice in one rule")
            seen.add((match.field, match.name))
        _check_subset(errors, f"rule{index}", rule.subset, target, optional=False)
    _check_subset(errors, "default_subset", wizard.default_subset, target, optional=False)


def _check_traffic_shifting(errors: InputErrors, wizard: TrafficShifting, target: ServiceTarget) -> None:
    for subset, weight in wizard.weights:
        _check_subset(errors, f"weight_{subset}", subset, target, optional=False)
        if not 0 <= weight <= 100:
            errors.add(f"weight_{subset}", f"{weight} is not a weight (0 to 100)")
    total = sum(weight for _, weight in wizard.weights)
    if total != 100:
        errors.add("", f"the weights sum to {total}, not 100")


def _check_fault_injection(errors: InputErrors, wizard: FaultInjection, target: ServiceTarget) -> None:
    if not wizard.delay_percent and not wizard.abort_percent:
        errors.add("", "choose a delay, an abort or both (a percentage above 0)")
    _check_percent(errors, "delay_percent", wizard.delay_percent)
    _check_percent(errors, "abort_percent", wizard.abort_percent)
    if wizard.delay_percent:
        _check_duration(errors, "delay", wizard.delay, required=True)
    if wizard.abort_percent and not 200 <= wizard.abort_status <= 599:
        errors.add("abort_status", f"{wizard.abort_status} is not an HTTP status (200 to 599)")
    if wizard.match is not None:
        _check_match(errors, "match", wizard.match)
    _check_subset(errors, "route_subset", wizard.route_subset, target, optional=True)


def _check_timeouts(errors: InputErrors, wizard: TimeoutsRetries, target: ServiceTarget) -> None:
    if not wizard.timeout and not wizard.attempts:
        errors.add("", "choose a timeout, retries or both")
    _check_duration(errors, "timeout", wizard.timeout)
    _check_duration(errors, "per_try_timeout", wizard.per_try_timeout)
    if wizard.attempts < 0:
        errors.add("attempts", "attempts cannot be negative")
    if not wizard.attempts and (wizard.per_try_timeout or wizard.retry_on):
        errors.add("attempts", "a per-try timeout or retry conditions need attempts above 0")
    if wizard.retry_on and not _RETRY_ON.match(wizard.retry_on):
        errors.add("retry_on", "a comma-separated list such as 5xx,reset,connect-failure")
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
            errors.add(name, "at least 1 (leave it empty for no limit)")
    if wizard.max_ejection_percent is not None:
        _check_percent(errors, "max_ejection_percent", wizard.max_ejection_percent)
    _check_duration(errors, "interval", wizard.interval)
    _check_duration(errors, "base_ejection_time", wizard.base_ejection_time)
    outlier = (wizard.interval, wizard.base_ejection_time, wizard.max_ejection_percent)
    if any(v not in ("", None) for v in outlier) and wizard.consecutive_5xx_errors is None:
        errors.add("consecutive_5xx_errors", "outlier detection needs the number of errors that ejects a host")
    if all(v is None for v in numbers.values()):
        errors.add("", "set a connection limit or outlier detection")
