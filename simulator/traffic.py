"""Simulated Bookinfo traffic that honours Istio routing, and the sidecar metrics it produces.

``TrafficEngine`` reads the current cluster objects through ``read_objects(plural)`` on every
tick, sends ``rps`` user requests per simulated second into the ingress gateway, follows the
Bookinfo call graph (declared as data in ``BOOKINFO_CALL_GRAPH``) through the routing rules
(``simulator.routing``) and records what every Envoy proxy would report
(``simulator.metrics``): a ``reporter="source"`` series from the client sidecar or gateway and
a ``reporter="destination"`` series from the server sidecar.

Everything random comes from one ``random.Random(seed)``; ``step(seconds)`` is the pure,
synchronous core used by tests, ``start_background``/``stop`` only drive it from a thread.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator import metrics
from simulator.mesh_snapshot import MeshSnapshot, PodInfo, ServiceInfo, service_fqdn
from simulator.metrics import MetricsRegistry, MetricsSnapshot, PeerLabels, ServiceLabels
from simulator.routing import (
    MESH_GATEWAY,
    NO_RETRIES,
    Destination,
    HttpRouteDecision,
    RequestAttributes,
    choose_weighted,
    decide_http_route,
    decide_mutual_tls,
    decide_tcp_destinations,
    destination_rule_for,
    peer_authentication_mode,
    should_retry,
    subset_endpoints,
    traffic_policy,
)
from simulator.workloads import (
    BOOKINFO_CALL_GRAPH,
    DEFAULT_PROFILES,
    EXTERNAL_PROFILE,
    FALLBACK_PROFILE,
    CallEdge,
    WorkloadProfile,
)

__all__ = ["BOOKINFO_CALL_GRAPH", "CallEdge", "CallOutcome", "TrafficEngine", "WorkloadProfile"]

logger = logging.getLogger(__name__)

INGRESS_NAMESPACE = "istio-system"
INGRESS_WORKLOAD = "istio-ingressgateway"
INGRESS_GATEWAY = "ingress"  # any non-"mesh" gateway name binds gateway VirtualServices
PROPAGATED_HEADERS = ("end-user", "x-request-id", "user-agent")
MAX_CALL_DEPTH = 8
SERVER_PROXY_OVERHEAD_MS = 0.2  # inbound sidecar processing, part of the destination-reported duration
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
class _TryResult:
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
    source_pod: PodInfo
    destination_pod: PodInfo
    source_labels: dict[str, str]
    destination_labels: dict[str, str]


class TrafficEngine:
    """Generates Bookinfo load through the routing rules and accumulates Istio metrics."""

    def __init__(
        self,
        read_objects: Callable[[str], list[dict[str, Any]]],
        namespace: str = "bookinfo",
        seed: int = 1,
        rps: float = 10.0,
        cluster: str = "Kubernetes",
        trust_domain: str = "cluster.local",
        profiles: Mapping[str, WorkloadProfile] | None = None,
        *,
        jason_share: float = 0.1,
        entry_service: str = "productpage",
        entry_path: str = "/productpage",
        call_graph: Sequence[CallEdge] = BOOKINFO_CALL_GRAPH,
    ) -> None:
        self.read_objects = read_objects
        self.namespace = namespace
        self.rps = rps
        self.cluster = cluster
        self.trust_domain = trust_domain
        self.profiles: dict[str, WorkloadProfile] = dict(profiles or {})
        self.jason_share = jason_share
        self.entry_service = entry_service
        self.entry_path = entry_path
        self.call_graph = tuple(call_graph)
        self.user_requests_sent = 0
        self.user_requests_dropped = 0
        self._rng = random.Random(seed)
        self._registry = MetricsRegistry()
        self._step_lock = threading.Lock()
        self._simulated_seconds = 0.0
        self._request_carry = 0.0
        self._round_robin: dict[tuple[str, ...], int] = {}
        self._tcp_connections: dict[tuple[str, str, str], _TcpConnection] = {}
        self._peer_cache: dict[tuple[tuple[str, str], bool], PeerLabels] = {}  # valid for one step
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()

    # ------------------------------------------------------------------ public API

    @property
    def simulated_seconds(self) -> float:
        """Simulated time advanced so far by :meth:`step`."""
        return self._simulated_seconds

    def step(self, seconds: float) -> int:
        """Advance simulated time: re-read the objects, send ``rps * seconds`` requests; returns how many."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._step_lock:
            snapshot = MeshSnapshot.from_reader(self.read_objects)
            self._peer_cache.clear()
            self._forget_vanished_clients(snapshot)
            self._close_stale_tcp_connections(snapshot)
            exact = self.rps * seconds + self._request_carry
            count = int(exact + 1e-9)
            self._request_carry = max(0.0, exact - count)
            gateways = self._ingress_pods(snapshot)
            for _ in range(count):
                self._send_user_request(snapshot, gateways)
            self._simulated_seconds += seconds
            return count

    def _forget_vanished_clients(self, snapshot: MeshSnapshot) -> None:
        """Drop load-balancer positions of client pods that no longer exist (keeps memory bounded)."""
        alive = {pod.name for pod in snapshot.pods} | {INGRESS_WORKLOAD}
        for key in [key for key in self._round_robin if key[0] not in alive]:
            del self._round_robin[key]

    def render_metrics(self, pod: str | None = None) -> str:
        """Prometheus text exposition (0.0.4) of every proxy's series, or of one reporting pod."""
        return self._registry.render(pod)

    def counters(self, pod: str | None = None) -> MetricsSnapshot:
        """Structured snapshot of the raw counters and histograms (summed over pods unless ``pod``)."""
        return self._registry.snapshot(self._simulated_seconds, pod)

    def reporter_pods(self) -> list[str]:
        """Names of the pods whose proxies have reported something."""
        return self._registry.reporter_pods()

    def start_background(self, tick: float = 1.0) -> None:
        """Run :meth:`step` in a daemon thread in real time, every ``tick`` seconds."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop_event = threading.Event()
        self._thread = threading.Thread(
            target=self._run_in_real_time, args=(tick, self._stop_event), name="mesh-traffic", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread (no-op when not running)."""
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run_in_real_time(self, tick: float, stop_event: threading.Event) -> None:
        last = time.monotonic()
        while not stop_event.wait(tick):
            now = time.monotonic()
            try:
                self.step(now - last)
            except Exception:  # keep the demo alive when the store hiccups
                logger.exception("traffic step failed")
            last = now

    # ------------------------------------------------------------------ identities and labels

    def _profile(self, pod: PodInfo) -> WorkloadProfile:
        app = pod.labels.get("app", "")
        for table in (self.profiles, DEFAULT_PROFILES):
            for key in (pod.workload, app):
                if key in table:
                    return table[key]
        return FALLBACK_PROFILE

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

    # ------------------------------------------------------------------ load generation

    def _ingress_pods(self, snapshot: MeshSnapshot) -> list[PodInfo]:
        if snapshot.deployment_exists(INGRESS_NAMESPACE, INGRESS_WORKLOAD):
            pods = [
                pod
                for pod in snapshot.pods
                if pod.ready and pod.namespace == INGRESS_NAMESPACE and pod.workload == INGRESS_WORKLOAD
            ]
        else:  # no control plane objects at all: behave as if a single gateway were running
            pods = [
                PodInfo(
                    INGRESS_WORKLOAD,
                    INGRESS_NAMESPACE,
                    {"app": INGRESS_WORKLOAD, "istio": "ingressgateway"},
                    True,
                    True,
                    f"{INGRESS_WORKLOAD}-service-account",
                    INGRESS_WORKLOAD,
                )
            ]
        # A gateway is an Envoy itself, even without an injected sidecar container.
        return [dataclasses.replace(pod, has_sidecar=True) for pod in pods]

    def _send_user_request(self, snapshot: MeshSnapshot, gateways: Sequence[PodInfo]) -> None:
        self.user_requests_sent += 1
        if not gateways:
            self.user_requests_dropped += 1
            return
        gateway = self._pick_round_robin((INGRESS_WORKLOAD,), gateways)
        headers = {"end-user": "jason"} if self._rng.random() < self.jason_share else {}
        request = RequestAttributes(
            uri=self.entry_path,
            method="GET",
            headers=headers,
            authority="bookinfo",
            source_labels=gateway.labels,
            source_namespace=gateway.namespace,
            gateway=INGRESS_GATEWAY,
            port=80,
        )
        fqdn = service_fqdn(self.entry_service, self.namespace, snapshot.cluster_domain)
        self._proxy_http_call(snapshot, gateway, fqdn, request, 720, None, 0)

    # ------------------------------------------------------------------ servers

    def _pick_round_robin(self, key: tuple[str, ...], pods: Sequence[PodInfo]) -> PodInfo:
        index = self._round_robin.get(key, 0)
        self._round_robin[key] = index + 1
        return pods[index % len(pods)]

    def _sample_latency_ms(self, profile: WorkloadProfile) -> float:
        if profile.latency_jitter <= 0:
            return profile.latency_ms
        return profile.latency_ms * self._rng.lognormvariate(0.0, profile.latency_jitter)

    def _edges_for(self, pod: PodInfo) -> list[CallEdge]:
        app, version = pod.labels.get("app"), pod.labels.get("version", "")
        return [
            edge
            for edge in self.call_graph
            if edge.caller_app == app and (edge.caller_versions is None or version in edge.caller_versions)
        ]

    def _serve(self, snapshot: MeshSnapshot, pod: PodInfo, request: RequestAttributes, depth: int) -> _TryResult:
        """The server application: own work, its outgoing calls (in order), then success or error."""
        profile = self._profile(pod)
        elapsed = self._sample_latency_ms(profile)
        if depth < MAX_CALL_DEPTH:
            for edge in self._edges_for(pod):
                elapsed += self._call(snapshot, pod, edge, request, depth)
        failed = profile.error_rate > 0 and self._rng.random() < profile.error_rate
        status = profile.error_code if failed else 200
        body = 0 if failed else max(1, round(profile.response_bytes * self._rng.uniform(0.95, 1.05)))
        return _TryResult(status, "-", elapsed + SERVER_PROXY_OVERHEAD_MS, body)

    def _call(
        self, snapshot: MeshSnapshot, caller: PodInfo, edge: CallEdge, incoming: RequestAttributes, depth: int
    ) -> float:
        """One outgoing call of the caller's application (with its own retries); returns elapsed ms."""
        service = snapshot.service_named(edge.callee_service, caller.namespace)
        if service is None:
            return 0.0  # DNS lookup fails: nothing reaches a proxy
        if edge.only_if_deployed and not snapshot.has_deployment(caller.namespace, edge.callee_service):
            return 0.0
        if edge.protocol == "tcp":
            return self._tcp_exchange(snapshot, caller, service, edge)
        headers = {name: value for name, value in incoming.headers.items() if name in PROPAGATED_HEADERS}
        request = RequestAttributes(
            uri=edge.path,
            method="GET",
            headers=headers,
            authority=f"{edge.callee_service}:{edge.port}",
            source_labels=caller.labels,
            source_namespace=caller.namespace,
            gateway=MESH_GATEWAY,
            port=edge.port,
        )
        elapsed = 0.0
        for _ in range(max(1, edge.client_attempts)):
            outcome = self._proxy_http_call(
                snapshot, caller, service.fqdn, request, edge.request_bytes, edge.client_timeout_seconds, depth
            )
            elapsed += outcome.elapsed_ms
            if outcome.status == 200:
                break
        return elapsed

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
        return self._pick_round_robin(key, upstream.endpoints)

    def _proxy_http_call(
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
    ) -> _TryResult:
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
                served = self._serve(snapshot, pod, request, depth + 1)
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
                return _TryResult(status, flags, spent, body, pod, mutual_tls)
            retriable = should_retry(retries, status, flags)
            if not retriable or tries > retries.attempts:
                return _TryResult(status, join_flags(flags, "URX" if retriable else "-"), spent, body, pod, mutual_tls)
            spent += self._rng.uniform(0, RETRY_BACKOFF_BASE_MS * 2 ** (tries - 1))
            if spent >= app_budget_ms:
                return _TryResult(0, "DC", app_budget_ms, 0, pod, mutual_tls)
            if spent >= route_budget_ms:
                return _TryResult(504, "UT", route_budget_ms, LOCAL_REPLY_BYTES["UT"], pod, mutual_tls)

    def _call_external(self, service: ServiceInfo) -> _TryResult:
        """A ServiceEntry host: no sidecar on the other side, so only the source reports."""
        profile = self.profiles.get(service.fqdn) or DEFAULT_PROFILES.get(service.fqdn) or EXTERNAL_PROFILE
        failed = profile.error_rate > 0 and self._rng.random() < profile.error_rate
        status = profile.error_code if failed else 200
        body = 0 if failed else profile.response_bytes
        return _TryResult(status, "-", self._sample_latency_ms(profile), body)

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
                served = self._serve(snapshot, pod, shadow, depth + 1)
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

    def _tcp_exchange(self, snapshot: MeshSnapshot, caller: PodInfo, service: ServiceInfo, edge: CallEdge) -> float:
        """Send one request's bytes over the caller's long-lived connection (opening it if needed)."""
        key = (caller.name, caller.namespace, service.fqdn)
        connection = self._tcp_connections.get(key)
        if connection is None:
            connection = self._open_tcp_connection(snapshot, caller, service, edge)
            if connection is None:
                return CLIENT_PROXY_OVERHEAD_MS
            self._tcp_connections[key] = connection
        profile = self._profile(connection.destination_pod)
        received = edge.request_bytes  # request direction: client → server
        sent = max(1, round(profile.response_bytes * self._rng.uniform(0.9, 1.1)))  # response direction
        for pod, labels in self._tcp_reporters(connection):
            self._registry.add_to_counter(pod.name, metrics.TCP_RECEIVED_BYTES, labels, received)
            self._registry.add_to_counter(pod.name, metrics.TCP_SENT_BYTES, labels, sent)
        return self._sample_latency_ms(profile) + CLIENT_PROXY_OVERHEAD_MS

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
        """Close every open TCP connection (e.g. when the demo stops); returns how many were closed."""
        with self._step_lock:
            closed = len(self._tcp_connections)
            for connection in self._tcp_connections.values():
                for reporter, labels in self._tcp_reporters(connection):
                    self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_CLOSED, labels)
            self._tcp_connections.clear()
            return closed
