"""Health calculators for workloads, apps, services and namespaces, as Kiali users know them.

Pure functions over plain typed data: replica counts and request rates by class (HTTP 4xx/5xx, gRPC errors).
Thresholds come from :data:`DEFAULT_HEALTH_CONFIG`, can be changed globally with a settings dict
(:func:`build_health_config`) and per object with the ``mesh-ui.io/health-rate`` annotation
(:func:`resolve_health_config`).  See ``docs/health.md`` for the exact rules.

Rate rule, per error class with thresholds ``(degraded, failure)`` in percent of requests:
``Failure`` when ``pct >= failure``; else ``Degraded`` when ``pct > 0 and pct >= degraded``; else healthy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Literal

HEALTH_RATE_ANNOTATION: Final = "mesh-ui.io/health-rate"

ErrorClass = Literal["5xx", "4xx", "grpc", "noresponse"]
ERROR_CLASSES: Final[tuple[ErrorClass, ...]] = ("5xx", "4xx", "grpc", "noresponse")


class HealthStatus(StrEnum):
    """Health status names, identical to Kiali's (``NA`` is Kiali's "No health information")."""

    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    FAILURE = "Failure"
    NOT_READY = "Not Ready"
    NA = "No health information"


_PRIORITY: Final[dict[HealthStatus, int]] = {
    HealthStatus.NA: 0,
    HealthStatus.HEALTHY: 1,
    HealthStatus.NOT_READY: 2,
    HealthStatus.DEGRADED: 3,
    HealthStatus.FAILURE: 4,
}


@dataclass(frozen=True, slots=True)
class RateThreshold:
    """Degraded/failure thresholds in percent for one error class; ``enabled=False`` ignores the class."""

    degraded: float
    failure: float
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """Thresholds per error class; ``annotations`` holds the per-object override that produced it."""

    thresholds: Mapping[ErrorClass, RateThreshold]
    annotations: Mapping[str, str] = field(default_factory=dict)
    error: str = ""  # set when an annotation could not be parsed (the base thresholds apply)


DEFAULT_HEALTH_CONFIG: Final = HealthConfig(
    thresholds={
        "5xx": RateThreshold(degraded=0.0, failure=10.0),
        "4xx": RateThreshold(degraded=10.0, failure=20.0),
        "grpc": RateThreshold(degraded=0.0, failure=10.0),
        # Requests that got no response (code "-", Istio's response_code 0), http and grpc together: Kiali's default
        # tolerance for the "^-$" code.
        "noresponse": RateThreshold(degraded=0.0, failure=10.0),
    }
)


@dataclass(frozen=True, slots=True)
class HealthResult:
    """A status with the human reasons behind it and non-status warnings (e.g. a missing sidecar)."""

    status: HealthStatus
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """All reasons joined by ``"; "`` (empty when healthy without remarks)."""
        return "; ".join(self.reasons)


#: Shared results of the common cases (results are immutable).
_NO_REQUESTS: Final = HealthResult(HealthStatus.NA)
_NO_ERRORS: Final = HealthResult(HealthStatus.HEALTHY)


@dataclass(frozen=True, slots=True)
class RequestRates:
    """Request rates (req/s) of one entity in one direction, split into the classes health looks at."""

    http: float = 0.0
    http_4xx: float = 0.0
    http_5xx: float = 0.0
    grpc: float = 0.0
    grpc_err: float = 0.0
    #: Requests (http or grpc) that got no response; part of ``http``/``grpc``, not of the other error classes.
    no_response: float = 0.0

    @property
    def total(self) -> float:
        """All requests, http plus grpc."""
        return self.http + self.grpc


@dataclass(frozen=True, slots=True)
class WorkloadReplicas:
    """Replica counts of one workload: desired (spec), current (created pods) and available (ready pods)."""

    name: str
    desired: int
    current: int
    available: int
    has_sidecar: bool = True


class HealthAnnotationError(ValueError):
    """Raised for a malformed ``mesh-ui.io/health-rate`` value."""


def parse_health_rate(value: str) -> dict[ErrorClass, RateThreshold]:
    """Parse ``"5xx:1:5;4xx:10:20;grpc:off"`` into thresholds per error class.

    Each ``;``-separated entry is ``<class>:<degraded%>:<failure%>`` with ``class`` one of ``5xx``, ``4xx``,
    ``grpc``, ``noresponse``, ``0 <= degraded <= failure <= 100``; or ``<class>:off`` to ignore that class.
    """
    parsed: dict[ErrorClass, RateThreshold] = {}
    for raw_entry in value.split(";"):
        entry = raw_entry.strip()
        if not entry:
            continue
        parts = [p.strip() for p in entry.split(":")]
        error_class = parts[0].lower()
        if error_class not in ERROR_CLASSES:
            raise HealthAnnotationError(f"{entry!r}: class must be one of {', '.join(ERROR_CLASSES)}")
        key: ErrorClass = error_class  # type: ignore[assignment]
        if len(parts) == 2 and parts[1].lower() == "off":
            parsed[key] = RateThreshold(0.0, 0.0, enabled=False)
            continue
        if len(parts) != 3:
            raise HealthAnnotationError(f"{entry!r}: expected <class>:<degraded>:<failure> or <class>:off")
        try:
            degraded, failure = float(parts[1].rstrip("%")), float(parts[2].rstrip("%"))
        except ValueError as exc:
            raise HealthAnnotationError(f"{entry!r}: thresholds must be numbers") from exc
        if not 0 <= degraded <= failure <= 100:
            raise HealthAnnotationError(f"{entry!r}: need 0 <= degraded <= failure <= 100")
        parsed[key] = RateThreshold(degraded, failure)
    return parsed


def build_health_config(settings: Mapping[str, Any] | None = None) -> HealthConfig:
    """Build the global config from a settings dict, starting from the defaults.

    Accepted shapes: ``{"rate": "5xx:0:10;4xx:10:20"}`` or
    ``{"rate": {"5xx": {"degraded": 0, "failure": 10}, "4xx": {"enabled": False}}}``.
    """
    thresholds = dict(DEFAULT_HEALTH_CONFIG.thresholds)
    rate = (settings or {}).get("rate")
    if isinstance(rate, str):
        thresholds.update(parse_health_rate(rate))
    elif isinstance(rate, Mapping):
        for error_class, spec in rate.items():
            if error_class not in ERROR_CLASSES:
                raise HealthAnnotationError(f"rate.{error_class}: unknown error class")
            base = thresholds[error_class]
            threshold = RateThreshold(
                float(spec.get("degraded", base.degraded)),
                float(spec.get("failure", base.failure)),
                bool(spec.get("enabled", True)),
            )
            if threshold.enabled and not 0 <= threshold.degraded <= threshold.failure <= 100:
                raise HealthAnnotationError(f"rate.{error_class}: need 0 <= degraded <= failure <= 100")
            thresholds[error_class] = threshold
    elif rate is not None:
        raise HealthAnnotationError("rate: expected a string or a mapping")
    return HealthConfig(thresholds=thresholds)


def resolve_health_config(
    base: HealthConfig = DEFAULT_HEALTH_CONFIG, annotations: Mapping[str, str] | None = None
) -> HealthConfig:
    """Apply an object's ``mesh-ui.io/health-rate`` annotation on top of ``base``.

    Classes the annotation does not mention keep the base thresholds.  A malformed annotation never breaks
    health: the base applies and ``error`` says what was wrong.
    """
    value = (annotations or {}).get(HEALTH_RATE_ANNOTATION)
    if value is None:
        return base
    try:
        override = parse_health_rate(value)
    except HealthAnnotationError as exc:
        return replace(base, error=f"{HEALTH_RATE_ANNOTATION}: {exc}")
    thresholds = dict(base.thresholds)
    thresholds.update(override)
    return HealthConfig(thresholds=thresholds, annotations={HEALTH_RATE_ANNOTATION: value})


def worst_status(statuses: Iterable[HealthStatus]) -> HealthStatus:
    """Return the most severe status (Failure > Degraded > Not Ready > Healthy > NA); NA when empty."""
    worst = HealthStatus.NA
    for status in statuses:
        if _PRIORITY[status] > _PRIORITY[worst]:
            worst = status
    return worst


def _format_percent(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) < 0.1:
        return f"{value:.2g}"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _classify(pct: float, threshold: RateThreshold, label: str) -> tuple[HealthStatus, str]:
    if not threshold.enabled or pct <= 0:
        return HealthStatus.HEALTHY, ""
    if pct >= threshold.failure:
        limit = _format_percent(threshold.failure)
        return HealthStatus.FAILURE, f"{label} {_format_percent(pct)}% ≥ {limit}%"
    if pct >= threshold.degraded:
        sign = ">" if threshold.degraded == 0 else "≥"
        limit = _format_percent(threshold.degraded)
        return HealthStatus.DEGRADED, f"{label} {_format_percent(pct)}% {sign} {limit}%"
    return HealthStatus.HEALTHY, ""


_ERROR_CLASS_LABELS: Final[dict[str, str]] = {"grpc": "gRPC errors", "noresponse": "no response"}


def compute_rate_health(
    rates: RequestRates, config: HealthConfig = DEFAULT_HEALTH_CONFIG, direction: str = ""
) -> HealthResult:
    """Status from request error rates: NA without requests, otherwise the worst class status.

    ``direction`` (``"inbound"``/``"outbound"``) prefixes the reasons when given.
    """
    if rates.total <= 0:
        return _NO_REQUESTS
    if not (rates.http_5xx or rates.http_4xx or rates.grpc_err or rates.no_response):  # the common case: no errors
        return _NO_ERRORS
    prefix = f"{direction} " if direction else ""
    checks: list[tuple[ErrorClass, float, float]] = [
        ("5xx", rates.http_5xx, rates.http),
        ("4xx", rates.http_4xx, rates.http),
        ("grpc", rates.grpc_err, rates.grpc),
        ("noresponse", rates.no_response, rates.http + rates.grpc),
    ]
    statuses = [HealthStatus.HEALTHY]
    reasons: list[str] = []
    for error_class, errors, total in checks:
        if total <= 0:
            continue
        threshold = config.thresholds.get(error_class)
        if threshold is None:
            continue
        label = _ERROR_CLASS_LABELS.get(error_class, error_class)
        status, reason = _classify(errors / total * 100.0, threshold, prefix + label)
        statuses.append(status)
        if reason:
            reasons.append(reason)
    return HealthResult(worst_status(statuses), tuple(reasons))


def compute_replica_health(replicas: WorkloadReplicas) -> HealthResult:
    """Pod status: Not Ready when scaled to 0, Failure when none ready, Degraded when fewer than desired."""
    if replicas.desired <= 0:
        if replicas.current > 0:
            return HealthResult(HealthStatus.DEGRADED, (f"{replicas.name}: scaling down, {replicas.current} left",))
        return HealthResult(HealthStatus.NOT_READY, (f"{replicas.name}: scaled to 0 pods",))
    if replicas.available <= 0:
        return HealthResult(
            HealthStatus.FAILURE, (f"{replicas.name}: {replicas.available}/{replicas.desired} pods ready",)
        )
    if replicas.available < replicas.desired:
        return HealthResult(
            HealthStatus.DEGRADED, (f"{replicas.name}: {replicas.available}/{replicas.desired} pods ready",)
        )
    return _NO_ERRORS


def _combine(parts: Sequence[HealthResult], warnings: Sequence[str] = ()) -> HealthResult:
    status = worst_status(p.status for p in parts)
    reasons = tuple(r for p in parts if p.status != HealthStatus.HEALTHY for r in p.reasons)
    all_warnings = tuple(w for p in parts for w in p.warnings) + tuple(warnings)
    return HealthResult(status, reasons, all_warnings)


def compute_workload_health(
    replicas: WorkloadReplicas | None = None,
    inbound: RequestRates | None = None,
    outbound: RequestRates | None = None,
    config: HealthConfig = DEFAULT_HEALTH_CONFIG,
) -> HealthResult:
    """Workload health: worst of pod readiness, inbound and outbound request health.

    A workload without a sidecar gets a ``missing sidecar`` warning (its status is not lowered: without a
    proxy its telemetry is simply incomplete, as in Kiali).
    """
    parts: list[HealthResult] = []
    warnings: list[str] = []
    if replicas is not None:
        parts.append(compute_replica_health(replicas))
        if not replicas.has_sidecar:
            warnings.append(f"{replicas.name}: missing sidecar")
    if inbound is not None:
        parts.append(compute_rate_health(inbound, config, "inbound"))
    if outbound is not None:
        parts.append(compute_rate_health(outbound, config, "outbound"))
    if config.error:
        warnings.append(config.error)
    return _combine(parts, warnings)


def compute_app_health(
    workloads: Sequence[WorkloadReplicas] = (),
    inbound: RequestRates | None = None,
    outbound: RequestRates | None = None,
    config: HealthConfig = DEFAULT_HEALTH_CONFIG,
) -> HealthResult:
    """App health: worst of its workloads' pod readiness and the app's inbound/outbound request health."""
    parts = [compute_replica_health(w) for w in workloads]
    warnings = [f"{w.name}: missing sidecar" for w in workloads if not w.has_sidecar]
    if inbound is not None:
        parts.append(compute_rate_health(inbound, config, "inbound"))
    if outbound is not None:
        parts.append(compute_rate_health(outbound, config, "outbound"))
    if config.error:
        warnings.append(config.error)
    return _combine(parts, warnings)


def compute_service_health(inbound: RequestRates | None, config: HealthConfig = DEFAULT_HEALTH_CONFIG) -> HealthResult:
    """Service health: inbound request error rates only (NA without requests)."""
    result = compute_rate_health(inbound or RequestRates(), config)
    if config.error:
        return replace(result, warnings=(*result.warnings, config.error))
    return result


@dataclass(frozen=True, slots=True)
class NamespaceHealth:
    """Counts of entities per status in a namespace, and the worst status among them."""

    counts: Mapping[HealthStatus, int]
    status: HealthStatus

    @property
    def reason(self) -> str:
        """Human summary such as ``"1 Failure, 2 Healthy"`` (most severe first)."""
        ordered = sorted(self.counts.items(), key=lambda item: -_PRIORITY[item[0]])
        return ", ".join(f"{count} {status.value}" for status, count in ordered if count)


def compute_namespace_health(results: Iterable[HealthResult]) -> NamespaceHealth:
    """Summarise the health of a namespace's apps, workloads or services."""
    counts = {status: 0 for status in HealthStatus}
    for result in results:
        counts[result.status] += 1
    present = [status for status, count in counts.items() if count]
    return NamespaceHealth(counts=counts, status=worst_status(present))


def build_request_rates(by_code: Mapping[str, float], protocol: str = "http") -> RequestRates:
    """Build :class:`RequestRates` from rates keyed by response code (HTTP code, or gRPC status for grpc).

    ``-`` (and for http Istio's ``0``) is a request that got no response: its own error class.
    """
    total = sum(by_code.values())
    if protocol == "grpc":
        no_response = by_code.get("-", 0.0)
        errors = sum(rate for code, rate in by_code.items() if code not in ("0", "OK", "-"))
        return RequestRates(grpc=total, grpc_err=errors, no_response=no_response)
    return RequestRates(
        http=total,
        http_4xx=sum(rate for code, rate in by_code.items() if code.startswith("4")),
        http_5xx=sum(rate for code, rate in by_code.items() if code.startswith("5")),
        no_response=sum(rate for code, rate in by_code.items() if code in ("0", "-")),
    )
