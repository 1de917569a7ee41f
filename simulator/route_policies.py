"""What one matched Istio route does, parsed from VirtualService dicts into immutable policies.

A matched ``http`` (or ``tcp``) route becomes an ``HttpRouteDecision``: its weighted
destinations, fault injection (``FaultPolicy``), timeout, retries (``RetryPolicy``, with
Istio's default policy when absent), mirrors and direct response.  ``should_retry`` evaluates
Envoy's ``retryOn`` conditions for a failed try.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.mesh_snapshot import CLUSTER_DOMAIN, KubeObject, object_name, object_namespace, service_fqdn

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration_seconds(value: object) -> float | None:
    """Parse an Istio/Go duration such as ``"7s"``, ``"0.5s"``, ``"100ms"``, ``"1m30s"``; None if invalid."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    position, total = 0, 0.0
    for part in _DURATION_PART.finditer(text):
        if part.start() != position:
            return None
        total += float(part.group(1)) * _DURATION_UNIT_SECONDS[part.group(2)]
        position = part.end()
    return total if position == len(text) and position > 0 else None


def percentage_of(spec: Mapping[str, Any], default: float = 100.0) -> float:
    """A fault/mirror percentage: ``percentage.value`` (0-100, may be fractional) or legacy ``percent``."""
    percentage = spec.get("percentage")
    if isinstance(percentage, Mapping) and percentage.get("value") is not None:
        return float(percentage["value"])
    if spec.get("percent") is not None:
        return float(spec["percent"])
    return default


@dataclass(frozen=True)
class Destination:
    """A route destination: fully qualified host plus optional subset and port."""

    host: str
    subset: str | None = None
    port: int | None = None


@dataclass(frozen=True)
class FaultPolicy:
    """Parsed ``fault``: delays and aborts with their percentages (0-100)."""

    delay_seconds: float | None = None
    delay_percent: float = 0.0
    abort_status: int | None = None
    abort_percent: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """Parsed ``retries``; ``attempts`` is the number of retries after the first try."""

    attempts: int
    per_try_timeout_seconds: float | None = None
    retry_on: frozenset[str] = frozenset()
    retriable_status_codes: frozenset[int] = frozenset()


DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
#: What Istio programs when a route has no ``retries``: 2 retries, 503 counted as retriable.
DEFAULT_RETRY_POLICY = RetryPolicy(2, None, frozenset(DEFAULT_RETRY_ON.split(",")), frozenset({503}))
NO_RETRIES = RetryPolicy(0)


@dataclass(frozen=True)
class Mirror:
    """A mirror target with the share of requests copied to it (0-100)."""

    destination: Destination
    percent: float = 100.0


@dataclass(frozen=True)
class HttpRouteDecision:
    """The effective behaviour of one matched HTTP route (or the default route without a VirtualService)."""

    destinations: tuple[tuple[Destination, float], ...]
    fault: FaultPolicy = FaultPolicy()
    timeout_seconds: float | None = None
    retries: RetryPolicy = DEFAULT_RETRY_POLICY
    mirrors: tuple[Mirror, ...] = ()
    direct_response_status: int | None = None
    virtual_service: str | None = None
    route_name: str | None = None


def parse_retry_policy(spec: Mapping[str, Any] | None) -> RetryPolicy:
    """``retries`` block → RetryPolicy (Istio's default policy when absent; ``attempts: 0`` disables)."""
    if spec is None:
        return DEFAULT_RETRY_POLICY
    attempts = int(spec.get("attempts", DEFAULT_RETRY_POLICY.attempts))
    conditions, codes = set(), set()
    for item in str(spec.get("retryOn") or DEFAULT_RETRY_ON).split(","):
        item = item.strip()
        if item.isdigit():
            codes.add(int(item))
            conditions.add("retriable-status-codes")
        elif item:
            conditions.add(item)
    if "retriable-status-codes" in conditions and not codes:
        codes = {503}
    return RetryPolicy(
        attempts, parse_duration_seconds(spec.get("perTryTimeout")), frozenset(conditions), frozenset(codes)
    )


def parse_fault_policy(spec: Mapping[str, Any] | None) -> FaultPolicy:
    """``fault`` block → FaultPolicy (a fault without a percentage applies to every request)."""
    if not spec:
        return FaultPolicy()
    delay = spec.get("delay") or {}
    abort = spec.get("abort") or {}
    delay_seconds = parse_duration_seconds(delay.get("fixedDelay") or delay.get("exponentialDelay"))
    abort_status = abort.get("httpStatus")
    return FaultPolicy(
        delay_seconds=delay_seconds,
        delay_percent=percentage_of(delay) if delay_seconds is not None else 0.0,
        abort_status=int(abort_status) if abort_status is not None else None,
        abort_percent=percentage_of(abort) if abort_status is not None else 0.0,
    )


def _parse_destination(spec: Mapping[str, Any], namespace: str, cluster_domain: str) -> Destination:
    host = str(spec.get("host") or "")
    fqdn = service_fqdn(host, namespace, cluster_domain) if host and "." not in host else host.lower().rstrip(".")
    port = (spec.get("port") or {}).get("number")
    return Destination(fqdn, spec.get("subset"), int(port) if port is not None else None)


def _parse_mirrors(route: Mapping[str, Any], namespace: str, cluster_domain: str) -> tuple[Mirror, ...]:
    mirrors = []
    if route.get("mirror"):
        percent = percentage_of({"percentage": route.get("mirrorPercentage")}, default=100.0)
        if route.get("mirrorPercent") is not None:
            percent = float(route["mirrorPercent"])
        mirrors.append(Mirror(_parse_destination(route["mirror"], namespace, cluster_domain), percent))
    for item in route.get("mirrors") or []:
        destination = _parse_destination(item.get("destination") or {}, namespace, cluster_domain)
        mirrors.append(Mirror(destination, percentage_of(item, default=100.0)))
    return tuple(mirrors)


def parse_http_route(
    route: Mapping[str, Any], vs: KubeObject, cluster_domain: str = CLUSTER_DOMAIN
) -> HttpRouteDecision:
    """Turn one ``http`` route of a VirtualService into an HttpRouteDecision."""
    namespace = object_namespace(vs)
    entries = list(route.get("route") or [])
    destinations: list[tuple[Destination, float]] = []
    for entry in entries:
        weight = entry.get("weight")
        destinations.append(
            (
                _parse_destination(entry.get("destination") or {}, namespace, cluster_domain),
                float(weight) if weight is not None else (100.0 if len(entries) == 1 else 0.0),
            )
        )
    direct = route.get("directResponse") or (
        {"status": route["redirect"].get("redirectCode", 301)} if route.get("redirect") else None
    )
    return HttpRouteDecision(
        destinations=tuple(destinations),
        fault=parse_fault_policy(route.get("fault")),
        timeout_seconds=parse_duration_seconds(route.get("timeout")),
        retries=parse_retry_policy(route.get("retries")),
        mirrors=_parse_mirrors(route, namespace, cluster_domain),
        direct_response_status=int(direct["status"]) if direct else None,
        virtual_service=f"{namespace}/{object_name(vs)}",
        route_name=route.get("name"),
    )


def should_retry(policy: RetryPolicy, status: int, response_flags: str) -> bool:
    """Whether Envoy's ``retryOn`` conditions cover a failed try (status 0 = reset/timeout)."""
    flags = set(response_flags.split(",")) if response_flags not in ("", "-") else set()
    conditions = policy.retry_on
    if "5xx" in conditions and (status >= 500 or status == 0):
        return True
    if "gateway-error" in conditions and status in (502, 503, 504):
        return True
    if "reset" in conditions and (status == 0 or flags & {"UR", "UC", "UF"}):
        return True
    if "connect-failure" in conditions and flags & {"UF", "UC"}:
        return True
    if "retriable-4xx" in conditions and status == 409:
        return True
    return "retriable-status-codes" in conditions and status in policy.retriable_status_codes
