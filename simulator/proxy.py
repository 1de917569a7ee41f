"""The Envoy proxies of the simulated mesh: what happens between two applications.

``SidecarProxies`` plays every client-side proxy (sidecar or gateway): it routes a request
through the VirtualServices and DestinationRules (``simulator.routing``), injects faults,
picks endpoints (round robin or random), makes tries within per-try, route and application
timeouts, mirrors, negotiates mutual TLS, keeps the long-lived TCP connections, and records
what the client proxy (``reporter="source"``) and the server proxy (``reporter="destination"``)
report into a :class:`~simulator.metrics.MetricsRegistry`.

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

from simulator import metrics
from simulator.destination_rules import destination_rule_for, subset_endpoints, traffic_policy
from simulator.mesh_snapshot import MeshSnapshot, PodInfo, ServiceInfo
from simulator.metrics import MetricsRegistry, PeerLabels, ServiceLabels
from simulator.mutual_tls import decide_mutual_tls, peer_authentication_mode
from simulator.request_matching import RequestAttributes
from simulator.route_policies import NO_RETRIES, Destination, HttpRouteDecision, should_retry
from simulator.routing import choose_weighted, decide_http_route, decide_tcp_destinations
from simulator.workloads import CallEdge, WorkloadProfile, sample_latency_ms

CLIENT_PROXY_OVERHEAD_MS = 0.5  # outbound sidecar + network, added to the source-reported duration
RETRY_BACKOFF_BASE_MS = 25.0
#: Body sizes of Envoy's local replies, by response flag.
LOCAL_REPLY_BYTES = {"UH": 19, "FI": 18, "UT": 24, "NR": 0, "NC": 0, "DC": 0, "UF": 91, "UC": 95}


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


@dataclass(frozen=True)
class _Upstream:
    """The cluster a route destination names: service, ready subset endpoints, client-side policy."""

    service: ServiceInfo
    destination: Destination
    endpoints: list[PodInfo]
    tls_mode: str | None
    random_load_balancing: bool


def join_flags(*flags: str) -> str:
    """Envoy's comma-separated response flags, ``-`` when there are none."""
    return ",".join(flag for flag in flags if flag and flag != "-") or "-"


@dataclass
class _TcpConnection:
    """A long-lived TCP connection and the labels both of its proxies report it with."""

    source_pod: PodInfo
    destination_pod: PodInfo
    source_labels: dict[str, str]
    destination_labels: dict[str, str]


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
        self._registry = registry
        self.cluster = cluster
        self.trust_domain = trust_domain
        self._round_robin: dict[tuple[str, ...], int] = {}
        self._tcp_connections: dict[tuple[str, str, str], _TcpConnection] = {}
        self._peer_cache: dict[tuple[tuple[str, str], bool], PeerLabels] = {}  # valid for one step

    def begin_step(self, snapshot: MeshSnapshot, keep_clients: Sequence[str] = ()) -> None:
        """Forget what the previous cluster snapshot made stale: labels, vanished clients, dead connections."""
        self._peer_cache.clear()
        alive = {pod.name for pod in snapshot.pods} | set(keep_clients)
        for key in [key for key in self._round_robin if key[0] not in alive]:
            del self._round_robin[key]
        self._close_stale_tcp_connections(snapshot)

    # ------------------------------------------------------------------ identities and labels

    def _peer_labels(self, pod: PodInfo | None, mutual_tls: bool) -> PeerLabels:
        if pod is None:
            return metrics.UNKNOWN_PEER
        cached = self._peer_cache.get((pod.key, mutual_tls))
        if cached is not None:
            return cached
        labels = pod.labels
        app = labels.get("app") or labels.get("app.kubernetes.io/name") or metrics.UNKNOWN
        version = labels.get("version") or labels.get("app.kubernetes.io/version") or metrics.UNKNOWN
        principal = (
            f"spiffe://{self.trust_domain}/ns/{pod.namespace}/sa/{pod.service_account}"
            if mutual_tls
            else metrics.UNKNOWN
        )
        peer = PeerLabels(
            workload=pod.workload,
            namespace=pod.namespace,
            principal=principal,
            app=app,
            version=version,
            canonical_service=(
                labels.get("service.istio.io/canonical-name")
                or labels.get("app.kubernetes.io/name")
                or labels.get("app")
                or pod.workload
            ),
            canonical_revision=(
                labels.get("service.istio.io/canonical-revision")
                or labels.get("app.kubernetes.io/version")
                or labels.get("version")
                or "latest"
            ),
            cluster=self.cluster,
        )
        self._peer_cache[(pod.key, mutual_tls)] = peer
        return peer

    @staticmethod
    def _service_labels(service: ServiceInfo | None, host: str) -> ServiceLabels:
        if service is None:
            return ServiceLabels(fqdn=host, name=host, namespace=metrics.UNKNOWN)
        return ServiceLabels(fqdn=service.fqdn, name=service.name, namespace=service.namespace)

    def _labels(
        self,
        reporter: str,
        source: PodInfo | None,
        destination: PodInfo | None,
        service: ServiceLabels,
        mutual_tls: bool,
        flags: str,
        status: int | None,
        protocol: str = "http",
    ) -> dict[str, str]:
        known_source = source if source is not None and source.has_sidecar else None
        return metrics.standard_labels(
            reporter=reporter,
            source=self._peer_labels(known_source, mutual_tls),
            destination=self._peer_labels(destination, mutual_tls),
            service=service,
            request_protocol=protocol,
            response_code=str(status) if status is not None else None,
            response_flags=flags,
            connection_security_policy=("unknown" if reporter == "source" else "mutual_tls" if mutual_tls else "none"),
        )

    def _record_http(
        self, reporter_pod: PodInfo, labels: dict[str, str], duration_ms: float, request_bytes: int, response_bytes: int
    ) -> None:
        self._registry.record_request(reporter_pod.name, labels, round(duration_ms, 3), request_bytes, response_bytes)

    def _record_source_only(
        self, source: PodInfo, service: ServiceLabels, status: int, flags: str, duration_ms: float, request_bytes: int
    ) -> None:
        if source.has_sidecar:
            labels = self._labels("source", source, None, service, False, flags, status)
            self._record_http(source, labels, duration_ms, request_bytes, LOCAL_REPLY_BYTES.get(flags, 0))

    # ------------------------------------------------------------------ endpoints

    def pick_round_robin(self, key: tuple[str, ...], pods: Sequence[PodInfo]) -> PodInfo:
        index = self._round_robin.get(key, 0)
        self._round_robin[key] = index + 1
        return pods[index % len(pods)]

    # ------------------------------------------------------------------ the client-side proxy

    def _resolve_upstream(self, snapshot: MeshSnapshot, source: PodInfo, destination: Destination) -> _Upstream | str:
        """The cluster for a route destination, or the response flag when there is none (NC/UH)."""
        service = snapshot.services.get(destination.host)
        if service is None:
            return "NC"
        rule = destination_rule_for(snapshot, service.fqdn, source.namespace)
        endpoints = subset_endpoints(snapshot, service, destination.subset, rule)
        if endpoints is None:
            return "NC"
        if not endpoints and not service.external:
            return "UH"
        policy = traffic_policy(rule, destination.subset)
        return _Upstream(
            service,
            destination,
            endpoints,
            (policy.get("tls") or {}).get("mode"),
            (policy.get("loadBalancer") or {}).get("simple") == "RANDOM",
        )

    def _pick_endpoint(self, source: PodInfo, upstream: _Upstream, purpose: str = "") -> PodInfo:
        if upstream.random_load_balancing:
            return upstream.endpoints[self._rng.randrange(len(upstream.endpoints))]
        key = (source.name, upstream.service.fqdn, upstream.destination.subset or "", purpose)
        return self.pick_round_robin(key, upstream.endpoints)

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
            self._record_source_only(source, ServiceLabels(), status, flags, overhead, request_bytes)
            return CallOutcome(status, overhead)
        destination = choose_weighted(route.destinations, self._rng) or Destination(fqdn)
        service_labels = self._service_labels(snapshot.services.get(destination.host), destination.host)
        fault = route.fault
        delay_ms = 0.0
        if fault.delay_seconds is not None and self._rng.random() * 100 < fault.delay_percent:
            delay_ms = fault.delay_seconds * 1000
        delay_flag = "DI" if delay_ms else "-"
        if delay_ms >= app_deadline_ms:  # the application gives up while the proxy still delays
            self._record_source_only(source, service_labels, 0, "DI,DC", app_deadline_ms, request_bytes)
            return CallOutcome(0, app_deadline_ms)
        if fault.abort_status is not None and self._rng.random() * 100 < fault.abort_percent:
            status = fault.abort_status
            self._record_source_only(
                source, service_labels, status, join_flags(delay_flag, "FI"), delay_ms + overhead, request_bytes
            )
            return CallOutcome(status, delay_ms + overhead)
        upstream = self._resolve_upstream(snapshot, source, destination)
        if isinstance(upstream, str):
            self._record_source_only(
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
            labels = self._labels(
                "source",
                source,
                result.pod,
                service_labels,
                result.mutual_tls,
                join_flags(delay_flag, result.flags),
                result.status,
            )
            self._record_http(source, labels, elapsed, request_bytes, result.response_bytes)
        return CallOutcome(result.status, elapsed)

    def _send_tries(
        self,
        snapshot: MeshSnapshot,
        source: PodInfo,
        upstream: _Upstream,
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
            pod = self._pick_endpoint(source, upstream)
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
                    self._record_destination(
                        source, pod, upstream.service, mutual_tls, status, "-", took, request_bytes, body
                    )
                else:  # the stream is reset by the application (DC) or a proxy timeout (UT): server sees DC
                    self._record_destination(
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

    def _record_destination(
        self,
        source: PodInfo,
        pod: PodInfo,
        service: ServiceInfo,
        mutual_tls: bool,
        status: int,
        flags: str,
        duration_ms: float,
        request_bytes: int,
        response_bytes: int,
    ) -> None:
        if pod.has_sidecar:
            labels = self._labels(
                "destination", source, pod, self._service_labels(service, service.fqdn), mutual_tls, flags, status
            )
            self._record_http(pod, labels, duration_ms, request_bytes, response_bytes)

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
            upstream = self._resolve_upstream(snapshot, source, mirror.destination)
            if isinstance(upstream, str) or upstream.service.external:
                continue
            pod = self._pick_endpoint(source, upstream, purpose="mirror")
            server_mode = peer_authentication_mode(snapshot, pod)
            mutual_tls, failure = decide_mutual_tls(source.has_sidecar, pod.has_sidecar, server_mode, upstream.tls_mode)
            if failure is None:
                shadow = dataclasses.replace(request, authority=f"{request.authority}-shadow")
                served = self._application.serve_request(snapshot, pod, shadow, depth + 1)
                self._record_destination(
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
        key = (caller.name, caller.namespace, service.fqdn)
        connection = self._tcp_connections.get(key)
        if connection is None:
            connection = self._open_tcp_connection(snapshot, caller, service, edge)
            if connection is None:
                return CLIENT_PROXY_OVERHEAD_MS
            self._tcp_connections[key] = connection
        profile = self._application.profile_for(connection.destination_pod)
        received = edge.request_bytes  # request direction: client → server
        sent = max(1, round(profile.response_bytes * self._rng.uniform(0.9, 1.1)))  # response direction
        for pod, labels in self._tcp_reporters(connection):
            self._registry.add_to_counter(pod.name, metrics.TCP_RECEIVED_BYTES, labels, received)
            self._registry.add_to_counter(pod.name, metrics.TCP_SENT_BYTES, labels, sent)
        return sample_latency_ms(profile, self._rng) + CLIENT_PROXY_OVERHEAD_MS

    @staticmethod
    def _tcp_reporters(connection: _TcpConnection) -> list[tuple[PodInfo, dict[str, str]]]:
        reporters = []
        if connection.source_pod.has_sidecar:
            reporters.append((connection.source_pod, connection.source_labels))
        if connection.destination_pod.has_sidecar:
            reporters.append((connection.destination_pod, connection.destination_labels))
        return reporters

    def _open_tcp_connection(
        self, snapshot: MeshSnapshot, caller: PodInfo, service: ServiceInfo, edge: CallEdge
    ) -> _TcpConnection | None:
        """Route (``tcp`` VirtualService routes), pick a server pod and report the opened connection."""
        routes = None
        if caller.has_sidecar:  # without a sidecar nobody applies VirtualServices
            routes = decide_tcp_destinations(snapshot, service.fqdn, caller.labels, edge.port)
        destination = choose_weighted(routes or ((Destination(service.fqdn), 100.0),), self._rng)
        upstream = self._resolve_upstream(snapshot, caller, destination or Destination(service.fqdn))
        target = service if isinstance(upstream, str) else upstream.service
        service_labels = self._service_labels(target, target.fqdn)
        pod, mutual_tls, failure = None, False, upstream if isinstance(upstream, str) else None
        if not isinstance(upstream, str):
            pod = self._pick_endpoint(caller, upstream, purpose="tcp")
            server_mode = peer_authentication_mode(snapshot, pod, edge.port)
            mutual_tls, failure = decide_mutual_tls(caller.has_sidecar, pod.has_sidecar, server_mode, upstream.tls_mode)
        # Without mTLS there is no ALPN metadata exchange: neither side learns the other's workload.
        known_pod = pod if mutual_tls else None
        source_labels = self._labels(
            "source", caller, known_pod, service_labels, mutual_tls, failure or "-", None, "tcp"
        )
        if failure is not None or pod is None:
            if caller.has_sidecar:
                for name in (metrics.TCP_CONNECTIONS_OPENED, metrics.TCP_CONNECTIONS_CLOSED):
                    self._registry.add_to_counter(caller.name, name, source_labels)
            return None
        destination_labels = self._labels(
            "destination", caller if mutual_tls else None, pod, service_labels, mutual_tls, "-", None, "tcp"
        )
        connection = _TcpConnection(caller, pod, source_labels, destination_labels)
        for reporter, labels in self._tcp_reporters(connection):
            self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_OPENED, labels)
        return connection

    def _close_stale_tcp_connections(self, snapshot: MeshSnapshot) -> None:
        """Connections whose client or server pod is gone or unready are closed."""
        ready = {pod.key for pod in snapshot.pods if pod.ready}
        for key, connection in list(self._tcp_connections.items()):
            if connection.source_pod.key in ready and connection.destination_pod.key in ready:
                continue
            for reporter, labels in self._tcp_reporters(connection):
                self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_CLOSED, labels)
            del self._tcp_connections[key]

    def close_tcp_connections(self) -> int:
        """Close every open TCP connection; returns how many were closed (the caller serialises with steps)."""
        closed = len(self._tcp_connections)
        for connection in self._tcp_connections.values():
            for reporter, labels in self._tcp_reporters(connection):
                self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_CLOSED, labels)
        self._tcp_connections.clear()
        return closed
