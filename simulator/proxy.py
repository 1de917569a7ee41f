"""The Envoy proxies of the simulated mesh: what happens between two applications.

``SidecarProxies`` plays every client-side proxy (sidecar or gateway) for HTTP: it routes a
request through the VirtualServices and DestinationRules (``simulator.routing``), injects
faults, picks endpoints (``simulator.upstreams``), makes tries within per-try, route and
application timeouts, mirrors and negotiates mutual TLS (``simulator.mutual_tls``).  What the
client proxy (``reporter="source"``) and the server proxy (``reporter="destination"``) report
is recorded by :class:`~simulator.proxy_telemetry.ProxyTelemetry`; the long-lived TCP
connections are kept by :class:`~simulator.tcp_connections.TcpConnections`.

What the server *application* does (its own latency, errors and outgoing calls) is asked of a
:class:`ServerApplication`, the :class:`~simulator.traffic.TrafficEngine`.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from simulator.mesh_snapshot import MeshSnapshot, PodInfo, ServiceInfo
from simulator.metrics import MetricsRegistry, ServiceLabels
from simulator.mutual_tls import decide_mutual_tls, peer_authentication_mode
from simulator.proxy_telemetry import LOCAL_REPLY_BYTES, ProxyTelemetry
from simulator.request_matching import RequestAttributes
from simulator.route_policies import NO_RETRIES, Destination, HttpRouteDecision, should_retry
from simulator.routing import choose_weighted, decide_http_route
from simulator.tcp_connections import TcpConnections
from simulator.upstreams import LoadBalancer, Upstream, resolve_upstream
from simulator.workloads import CallEdge, WorkloadProfile, sample_latency_ms

CLIENT_PROXY_OVERHEAD_MS = 0.5  # outbound sidecar + network, added to the source-reported duration
RETRY_BACKOFF_BASE_MS = 25.0


@dataclass(frozen=True)
class CallOutcome:
    """What the calling application observes for one call."""

    status: int
    elapsed_ms: float


@dataclass(frozen=True)
class TryResult:
    """What one hop returns to the proxy that sent it: status, Envoy flags, time taken, body size."""

    status: int
    flags: str
    elapsed_ms: float
    response_bytes: int
    pod: PodInfo | None = None  # the upstream pod of the last try
    mutual_tls: bool = False


def join_flags(*flags: str) -> str:
    """Envoy's comma-separated response flags, ``-`` when there are none."""
    return ",".join(flag for flag in flags if flag and flag != "-") or "-"


class ServerApplication(Protocol):
    """The application behind the proxies: serves requests and says how each workload behaves."""

    def serve_request(self, snapshot: MeshSnapshot, pod: PodInfo, request: RequestAttributes, depth: int) -> TryResult:
        """Handle ``request`` in ``pod`` (including its own outgoing calls)."""
        ...

    def profile_for(self, pod: PodInfo) -> WorkloadProfile:
        """Behaviour of the workload running in ``pod``."""
        ...

    def external_profile_for(self, host: str) -> WorkloadProfile:
        """Behaviour of an external (ServiceEntry) host."""
        ...


class SidecarProxies:
    """Every Envoy of the mesh; keeps load-balancer positions, TCP connections and a per-step label cache."""

    def __init__(
        self,
        application: ServerApplication,
        rng: random.Random,
        registry: MetricsRegistry,
        cluster: str = "Kubernetes",
        trust_domain: str = "cluster.local",
    ) -> None:
        self._application = application
        self._rng = rng
        self._telemetry = ProxyTelemetry(registry, cluster, trust_domain)
        self._balancer = LoadBalancer(rng)
        self._tcp = TcpConnections(rng, registry, self._telemetry, self._balancer, application.profile_for)

    def begin_step(self, snapshot: MeshSnapshot, keep_clients: Sequence[str] = ()) -> None:
        """Forget what the previous cluster snapshot made stale: labels, vanished clients, dead connections."""
        self._telemetry.begin_step()
        self._balancer.forget_clients({pod.name for pod in snapshot.pods} | set(keep_clients))
        self._tcp.close_stale(snapshot)

    def pick_round_robin(self, key: tuple[str, ...], pods: Sequence[PodInfo]) -> PodInfo:
        """The next of ``pods`` in the rotation ``key`` (e.g. the ingress gateway pod of a user request)."""
        return self._balancer.pick_round_robin(key, pods)

    # ------------------------------------------------------------------ HTTP

    def http_call(
        self,
        snapshot: MeshSnapshot,
        source: PodInfo,
        fqdn: str,
        request: RequestAttributes,
        request_bytes: int,
        app_timeout_seconds: float | None,
        depth: int,
    ) -> CallOutcome:
        """One application request through the source proxy: route, faults, endpoints, tries, reports."""
        app_deadline_ms = app_timeout_seconds * 1000 if app_timeout_seconds is not None else math.inf
        route: HttpRouteDecision | None
        if source.has_sidecar:
            route = decide_http_route(snapshot, fqdn, request)
        else:  # plain Kubernetes: kube-proxy spreads over the endpoints, no VirtualService, no retries
            route = HttpRouteDecision(destinations=((Destination(fqdn), 100.0),), retries=NO_RETRIES)
        overhead = CLIENT_PROXY_OVERHEAD_MS
        if route is None or route.direct_response_status is not None:
            status, flags = (404, "NR") if route is None else (route.direct_response_status or 200, "-")
            self._telemetry.record_source_only(source, ServiceLabels(), status, flags, overhead, request_bytes)
            return CallOutcome(status, overhead)
        destination = choose_weighted(route.destinations, self._rng) or Destination(fqdn)
        service_labels = self._telemetry.service_labels(snapshot.services.get(destination.host), destination.host)
        fault = route.fault
        delay_ms = 0.0
        if fault.delay_seconds is not None and self._rng.random() * 100 < fault.delay_percent:
            delay_ms = fault.delay_seconds * 1000
        delay_flag = "DI" if delay_ms else "-"
        if delay_ms >= app_deadline_ms:  # the application gives up while the proxy still delays
            self._telemetry.record_source_only(source, service_labels, 0, "DI,DC", app_deadline_ms, request_bytes)
            return CallOutcome(0, app_deadline_ms)
        if fault.abort_status is not None and self._rng.random() * 100 < fault.abort_percent:
            status = fault.abort_status
            self._telemetry.record_source_only(
                source, service_labels, status, join_flags(delay_flag, "FI"), delay_ms + overhead, request_bytes
            )
            return CallOutcome(status, delay_ms + overhead)
        upstream = resolve_upstream(snapshot, source, destination)
        if isinstance(upstream, str):
            self._telemetry.record_source_only(
                source, service_labels, 503, join_flags(delay_flag, upstream), delay_ms + overhead, request_bytes
            )
            return CallOutcome(503, delay_ms + overhead)
        if upstream.service.external:
            result = self._call_external(upstream.service)
        else:
            result = self._send_tries(
                snapshot, source, upstream, route, request, request_bytes, app_deadline_ms - delay_ms, depth
            )
        self._mirror(snapshot, source, route, request, request_bytes, depth)
        elapsed = delay_ms + result.elapsed_ms + overhead
        if source.has_sidecar:
            labels = self._telemetry.labels(
                "source",
                source,
                result.pod,
                service_labels,
                result.mutual_tls,
                join_flags(delay_flag, result.flags),
                result.status,
            )
            self._telemetry.record_http(source, labels, elapsed, request_bytes, result.response_bytes)
        return CallOutcome(result.status, elapsed)

    def _send_tries(
        self,
        snapshot: MeshSnapshot,
        source: PodInfo,
        upstream: Upstream,
        route: HttpRouteDecision,
        request: RequestAttributes,
        request_bytes: int,
        app_budget_ms: float,
        depth: int,
    ) -> TryResult:
        """The router: the first try and retries, within route timeout, per-try timeout and app patience."""
        retries = route.retries
        route_budget_ms = route.timeout_seconds * 1000 if route.timeout_seconds else math.inf
        per_try_ms = retries.per_try_timeout_seconds * 1000 if retries.per_try_timeout_seconds else math.inf
        spent, tries = 0.0, 0
        while True:
            tries += 1
            pod = self._balancer.pick_endpoint(source, upstream)
            server_mode = peer_authentication_mode(snapshot, pod, upstream.destination.port)
            mutual_tls, tls_failure = decide_mutual_tls(
                source.has_sidecar, pod.has_sidecar, server_mode, upstream.tls_mode
            )
            route_left, app_left = route_budget_ms - spent, app_budget_ms - spent
            limit = min(route_left, per_try_ms, app_left)
            deadline_hit = False
            if tls_failure is not None:
                status, flags, took, body = 503, tls_failure, 1.0, LOCAL_REPLY_BYTES.get(tls_failure, 0)
            else:
                served = self._application.serve_request(snapshot, pod, request, depth + 1)
                if served.elapsed_ms <= limit:
                    status, flags, took, body = served.status, "-", served.elapsed_ms, served.response_bytes
                    self._telemetry.record_destination(
                        source, pod, upstream.service, mutual_tls, status, "-", took, request_bytes, body
                    )
                else:  # the stream is reset by the application (DC) or a proxy timeout (UT): server sees DC
                    self._telemetry.record_destination(
                        source, pod, upstream.service, mutual_tls, 0, "DC", limit, request_bytes, 0
                    )
                    deadline_hit = limit in (app_left, route_left)
                    if limit == app_left:
                        status, flags, took, body = 0, "DC", limit, 0
                    else:
                        status, flags, took, body = 504, "UT", limit, LOCAL_REPLY_BYTES["UT"]
            spent += took
            if 0 < status < 500 or deadline_hit:
                return TryResult(status, flags, spent, body, pod, mutual_tls)
            retriable = should_retry(retries, status, flags)
            if not retriable or tries > retries.attempts:
                return TryResult(status, join_flags(flags, "URX" if retriable else "-"), spent, body, pod, mutual_tls)
            spent += self._rng.uniform(0, RETRY_BACKOFF_BASE_MS * 2 ** (tries - 1))
            if spent >= app_budget_ms:
                return TryResult(0, "DC", app_budget_ms, 0, pod, mutual_tls)
            if spent >= route_budget_ms:
                return TryResult(504, "UT", route_budget_ms, LOCAL_REPLY_BYTES["UT"], pod, mutual_tls)

    def _call_external(self, service: ServiceInfo) -> TryResult:
        """A ServiceEntry host: no sidecar on the other side, so only the source reports."""
        profile = self._application.external_profile_for(service.fqdn)
        failed = profile.error_rate > 0 and self._rng.random() < profile.error_rate
        status = profile.error_code if failed else 200
        body = 0 if failed else profile.response_bytes
        return TryResult(status, "-", sample_latency_ms(profile, self._rng), body)

    def _mirror(
        self,
        snapshot: MeshSnapshot,
        source: PodInfo,
        route: HttpRouteDecision,
        request: RequestAttributes,
        request_bytes: int,
        depth: int,
    ) -> None:
        """Fire-and-forget shadow copies; only the receiving sidecar reports them."""
        for mirror in route.mirrors:
            if self._rng.random() * 100 >= mirror.percent:
                continue
            upstream = resolve_upstream(snapshot, source, mirror.destination)
            if isinstance(upstream, str) or upstream.service.external:
                continue
            pod = self._balancer.pick_endpoint(source, upstream, purpose="mirror")
            server_mode = peer_authentication_mode(snapshot, pod)
            mutual_tls, failure = decide_mutual_tls(source.has_sidecar, pod.has_sidecar, server_mode, upstream.tls_mode)
            if failure is None:
                shadow = dataclasses.replace(request, authority=f"{request.authority}-shadow")
                served = self._application.serve_request(snapshot, pod, shadow, depth + 1)
                self._telemetry.record_destination(
                    source,
                    pod,
                    upstream.service,
                    mutual_tls,
                    served.status,
                    "-",
                    served.elapsed_ms,
                    request_bytes,
                    served.response_bytes,
                )

    # ------------------------------------------------------------------ TCP

    def tcp_exchange(self, snapshot: MeshSnapshot, caller: PodInfo, service: ServiceInfo, edge: CallEdge) -> float:
        """Send one request's bytes over the caller's long-lived connection (opening it if needed)."""
        return self._tcp.exchange(snapshot, caller, service, edge) + CLIENT_PROXY_OVERHEAD_MS

    def close_tcp_connections(self) -> int:
        """Close every open TCP connection; returns how many were closed (the caller serialises with steps)."""
        return self._tcp.close_all()
