"""Istio traffic-management semantics evaluated over plain Kubernetes/Istio object dicts.

Pure functions and immutable data only: over a ``MeshSnapshot`` (one indexed read of the
cluster objects, see ``simulator.mesh_snapshot``) the helpers below answer the questions an
Envoy sidecar answers for every request:

* which VirtualService and which ``http`` route apply to a request (ordered routes, first
  matching ``match`` block wins; headers/uri/method/sourceLabels...),
* which weighted destination, subset (through the DestinationRule) and ready pods serve it,
* which fault injection, timeout, retry and mirror policies the route carries,
* whether the hop is mutual TLS according to PeerAuthentication and DestinationRule TLS mode.

Randomness is always passed in as a ``random.Random`` so callers stay deterministic.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from simulator.mesh_snapshot import (
    CLUSTER_DOMAIN,
    ROOT_NAMESPACE,
    KubeObject,
    MeshSnapshot,
    PodInfo,
    ServiceInfo,
    configured_hosts_match,
    host_candidates,
    host_pattern_matches,
    labels_include,
    object_name,
    object_namespace,
    object_spec,
    service_fqdn,
)

MESH_GATEWAY = "mesh"

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


# --------------------------------------------------------------------------- request matching


@dataclass(frozen=True)
class RequestAttributes:
    """What a proxy can match on: the request plus who sends it and through which gateway."""

    uri: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    authority: str = ""
    source_labels: Mapping[str, str] = field(default_factory=dict)
    source_namespace: str = ""
    gateway: str = MESH_GATEWAY
    port: int | None = None

    @property
    def path(self) -> str:
        """URI without the query string."""
        return self.uri.split("?", 1)[0]

    @property
    def query_params(self) -> dict[str, str]:
        """Query parameters (last value wins)."""
        if "?" not in self.uri:
            return {}
        pairs = (item.split("=", 1) for item in self.uri.split("?", 1)[1].split("&") if item)
        return {pair[0]: (pair[1] if len(pair) > 1 else "") for pair in pairs}


@lru_cache(maxsize=512)
def _compiled_regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def string_matches(spec: Mapping[str, Any] | None, value: str | None, ignore_case: bool = False) -> bool:
    """Istio ``StringMatch``: ``exact``, ``prefix`` or (full-match RE2-like) ``regex``; ``{}`` = present."""
    if value is None:
        return False
    if not spec:
        return True
    if ignore_case:
        value = value.lower()
    if "exact" in spec:
        expected = str(spec["exact"])
        return value == (expected.lower() if ignore_case else expected)
    if "prefix" in spec:
        expected = str(spec["prefix"])
        return value.startswith(expected.lower() if ignore_case else expected)
    if "regex" in spec:
        pattern = _compiled_regex(str(spec["regex"]))
        return pattern is not None and pattern.fullmatch(value) is not None
    return True


def _gateway_selected(gateways: Sequence[str], gateway: str) -> bool:
    """Whether a ``gateways`` list binds the given proxy (``mesh`` = sidecars, anything else = ingress)."""
    if gateway == MESH_GATEWAY:
        return MESH_GATEWAY in gateways
    return any(name != MESH_GATEWAY for name in gateways)


def request_matches(block: Mapping[str, Any], request: RequestAttributes) -> bool:
    """One ``HTTPMatchRequest``: every condition present must hold (AND)."""
    ignore_case = bool(block.get("ignoreUriCase"))
    if "uri" in block and not string_matches(block["uri"], request.path, ignore_case):
        return False
    if "method" in block and not string_matches(block["method"], request.method):
        return False
    if "authority" in block and not string_matches(block["authority"], request.authority):
        return False
    if "scheme" in block and not string_matches(block["scheme"], "http"):
        return False
    headers = {name.lower(): value for name, value in request.headers.items()}
    for name, spec in (block.get("headers") or {}).items():
        if not string_matches(spec, headers.get(str(name).lower())):
            return False
    for name, spec in (block.get("withoutHeaders") or {}).items():
        if string_matches(spec, headers.get(str(name).lower())):
            return False
    query = request.query_params
    for name, spec in (block.get("queryParams") or {}).items():
        if not string_matches(spec, query.get(str(name))):
            return False
    if not labels_include(request.source_labels, block.get("sourceLabels")):
        return False
    if block.get("sourceNamespace") and block["sourceNamespace"] != request.source_namespace:
        return False
    if block.get("port") is not None and request.port is not None and int(block["port"]) != request.port:
        return False
    return not (block.get("gateways") and not _gateway_selected(block["gateways"], request.gateway))


def route_matches(route: Mapping[str, Any], request: RequestAttributes) -> bool:
    """A route's ``match`` list: no list matches everything, otherwise any block (OR)."""
    blocks = route.get("match") or []
    return not blocks or any(request_matches(block, request) for block in blocks)


# --------------------------------------------------------------------------- route decisions


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


def virtual_services_for_host(snapshot: MeshSnapshot, fqdn: str, gateway: str = MESH_GATEWAY) -> list[dict[str, Any]]:
    """VirtualServices bound to the proxy (``gateway``) whose hosts denote ``fqdn``, oldest first."""
    key = ("virtual_services", fqdn, gateway)
    if key not in snapshot.memo:
        snapshot.memo[key] = _virtual_services_for_host(snapshot, fqdn, gateway)
    result: list[dict[str, Any]] = snapshot.memo[key]
    return result


def _virtual_services_for_host(snapshot: MeshSnapshot, fqdn: str, gateway: str) -> list[dict[str, Any]]:
    return [
        vs
        for vs in snapshot.virtual_services
        if _gateway_selected(object_spec(vs).get("gateways") or [MESH_GATEWAY], gateway)
        and configured_hosts_match(
            object_spec(vs).get("hosts") or [], object_namespace(vs), fqdn, snapshot.cluster_domain
        )
    ]


def decide_http_route(snapshot: MeshSnapshot, fqdn: str, request: RequestAttributes) -> HttpRouteDecision | None:
    """The route a proxy applies to a request for ``fqdn``; None when a VirtualService applies but no
    route matches (Envoy answers 404 "NR").

    Sidecars use the oldest applicable VirtualService; gateways merge the routes of all of them
    in creation order.  Without any VirtualService the request goes straight to the service.
    """
    candidates = virtual_services_for_host(snapshot, fqdn, request.gateway)
    if not candidates:
        return HttpRouteDecision(destinations=((Destination(fqdn), 100.0),))
    if request.gateway == MESH_GATEWAY:
        candidates = candidates[:1]
    for vs in candidates:
        for index, route in enumerate(object_spec(vs).get("http") or []):
            if route_matches(route, request):
                key = ("http_route", object_namespace(vs), object_name(vs), index)
                if key not in snapshot.memo:
                    snapshot.memo[key] = parse_http_route(route, vs, snapshot.cluster_domain)
                decision: HttpRouteDecision = snapshot.memo[key]
                return decision
    return None


def decide_tcp_destinations(
    snapshot: MeshSnapshot, fqdn: str, source_labels: Mapping[str, str], port: int | None
) -> tuple[tuple[Destination, float], ...] | None:
    """Weighted destinations of the first matching ``tcp`` route; None when no VirtualService has one."""
    for vs in virtual_services_for_host(snapshot, fqdn)[:1]:
        for route in object_spec(vs).get("tcp") or []:
            blocks = route.get("match") or []
            if blocks and not any(
                labels_include(source_labels, block.get("sourceLabels"))
                and (block.get("port") is None or port is None or int(block["port"]) == port)
                for block in blocks
            ):
                continue
            parsed = parse_http_route(route, vs, snapshot.cluster_domain)
            return parsed.destinations
    return None


def choose_weighted(destinations: Sequence[tuple[Destination, float]], rng: random.Random) -> Destination | None:
    """Pick a destination proportionally to its weight (uniformly when all weights are zero)."""
    if not destinations:
        return None
    total = sum(max(weight, 0.0) for _, weight in destinations)
    if total <= 0:
        return destinations[rng.randrange(len(destinations))][0]
    point = rng.random() * total
    for destination, weight in destinations:
        point -= max(weight, 0.0)
        if point < 0:
            return destination
    return destinations[-1][0]


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


# --------------------------------------------------------------------------- destination rules


def destination_rule_for(snapshot: MeshSnapshot, fqdn: str, client_namespace: str) -> dict[str, Any] | None:
    """The DestinationRule for ``fqdn`` as seen from ``client_namespace``.

    Precedence: the client's namespace, then the service's namespace, then the root namespace;
    within one namespace an exact host beats a wildcard, then the oldest wins.
    """
    key = ("destination_rule", fqdn, client_namespace)
    if key not in snapshot.memo:
        snapshot.memo[key] = _destination_rule_for(snapshot, fqdn, client_namespace)
    rule: dict[str, Any] | None = snapshot.memo[key]
    return rule


def _destination_rule_for(snapshot: MeshSnapshot, fqdn: str, client_namespace: str) -> dict[str, Any] | None:
    service = snapshot.services.get(fqdn)
    namespaces = [client_namespace, service.namespace if service else client_namespace, ROOT_NAMESPACE]
    for namespace in dict.fromkeys(namespaces):
        exact, wildcard = [], []
        for rule in snapshot.destination_rules:
            if object_namespace(rule) != namespace:
                continue
            host = str(object_spec(rule).get("host") or "")
            candidates = host_candidates(host, namespace, snapshot.cluster_domain)
            if fqdn in candidates:
                exact.append(rule)
            elif any(host_pattern_matches(candidate, fqdn) for candidate in candidates):
                wildcard.append(rule)
        if exact or wildcard:
            return (exact or wildcard)[0]
    return None


def subset_labels(rule: Mapping[str, Any] | None, subset: str) -> dict[str, str] | None:
    """Labels of ``subset`` in the DestinationRule; None when the subset is not defined."""
    for item in object_spec(rule or {}).get("subsets") or []:
        if item.get("name") == subset:
            return {str(k): str(v) for k, v in (item.get("labels") or {}).items()}
    return None


def traffic_policy(rule: Mapping[str, Any] | None, subset: str | None) -> dict[str, Any]:
    """The rule's ``trafficPolicy`` with a subset's own policy layered on top."""
    policy = dict(object_spec(rule or {}).get("trafficPolicy") or {})
    for item in object_spec(rule or {}).get("subsets") or []:
        if subset is not None and item.get("name") == subset:
            policy.update(item.get("trafficPolicy") or {})
    return policy


def subset_endpoints(
    snapshot: MeshSnapshot, service: ServiceInfo, subset: str | None, rule: Mapping[str, Any] | None
) -> list[PodInfo] | None:
    """Ready pods of the service restricted to the subset; None when the subset is undefined."""
    endpoints = snapshot.ready_endpoints(service)
    if subset is None:
        return endpoints
    labels = subset_labels(rule, subset)
    if labels is None:
        return None
    return [pod for pod in endpoints if labels_include(pod.labels, labels)]


# --------------------------------------------------------------------------- mutual TLS


def peer_authentication_mode(snapshot: MeshSnapshot, pod: PodInfo, port: int | None = None) -> str:
    """Effective mTLS mode of a server pod: workload → namespace → mesh-wide policy, else PERMISSIVE."""
    key = ("peer_authentication", pod.key, port)
    if key not in snapshot.memo:
        snapshot.memo[key] = _peer_authentication_mode(snapshot, pod, port)
    mode: str = snapshot.memo[key]
    return mode


def _peer_authentication_mode(snapshot: MeshSnapshot, pod: PodInfo, port: int | None) -> str:
    scoped: list[KubeObject] = []
    for namespace, with_selector in ((pod.namespace, True), (pod.namespace, False), (ROOT_NAMESPACE, False)):
        for policy in snapshot.peer_authentications:
            selector = (object_spec(policy).get("selector") or {}).get("matchLabels")
            if object_namespace(policy) != namespace or bool(selector) != with_selector:
                continue
            if with_selector and not labels_include(pod.labels, selector):
                continue
            scoped.append(policy)
            break
    for chosen in scoped:
        spec = object_spec(chosen)
        port_mode = ((spec.get("portLevelMtls") or {}).get(str(port)) or {}).get("mode") if port else None
        mode = str(port_mode or (spec.get("mtls") or {}).get("mode") or "UNSET").upper()
        if mode != "UNSET":
            return mode
    return "PERMISSIVE"


def decide_mutual_tls(
    source_has_sidecar: bool, destination_has_sidecar: bool, server_mode: str, client_tls_mode: str | None
) -> tuple[bool, str | None]:
    """Whether a hop is mutual TLS, and the response flag when the handshake cannot work.

    ``client_tls_mode`` is the DestinationRule ``trafficPolicy.tls.mode`` (None = auto mTLS,
    which sends mTLS to sidecar-injected servers unless their PeerAuthentication is DISABLE).
    """
    if not destination_has_sidecar:
        return False, ("UF" if client_tls_mode == "ISTIO_MUTUAL" else None)
    if not source_has_sidecar:
        return False, ("UC" if server_mode == "STRICT" else None)
    if client_tls_mode in ("DISABLE", "SIMPLE"):
        return False, ("UC" if server_mode == "STRICT" else None)
    if server_mode == "DISABLE":
        return False, ("UC" if client_tls_mode == "ISTIO_MUTUAL" else None)
    return True, None
