"""Simulated Bookinfo traffic that honours Istio routing, and the sidecar metrics it produces.

``TrafficEngine`` reads the current cluster objects through ``read_objects(plural)`` on every
tick, sends ``rps`` user requests per simulated second into the ingress gateway, follows the
Bookinfo call graph (declared as data in ``BOOKINFO_CALL_GRAPH``) through the routing rules
(``simulator.routing``) and records what every Envoy proxy would report
(``simulator.metrics``): a ``reporter="source"`` series from the client sidecar or gateway and
a ``reporter="destination"`` series from the server sidecar.

This module is the load generator and the applications (what each workload does with a request);
everything between two applications (routing, faults, tries, timeouts, mTLS, TCP) is the
sidecars' job, in :mod:`simulator.proxy`.

Everything random comes from one ``random.Random(seed)``; ``step(seconds)`` is the pure,
synchronous core used by tests, ``start_background``/``stop`` only drive it from a thread.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from simulator.mesh_snapshot import MeshSnapshot, PodInfo, service_fqdn
from simulator.metrics import MetricsRegistry, MetricsSnapshot, render_exposition
from simulator.proxy import SidecarProxies, TryResult
from simulator.request_matching import MESH_GATEWAY, RequestAttributes
from simulator.workloads import (
    BOOKINFO_CALL_GRAPH,
    DEFAULT_PROFILES,
    EXTERNAL_PROFILE,
    FALLBACK_PROFILE,
    CallEdge,
    WorkloadProfile,
    sample_latency_ms,
)

logger = logging.getLogger(__name__)

INGRESS_NAMESPACE = "istio-system"
INGRESS_WORKLOAD = "istio-ingressgateway"
INGRESS_GATEWAY = "ingress"  # any non-"mesh" gateway name binds gateway VirtualServices
PROPAGATED_HEADERS = ("end-user", "x-request-id", "user-agent")
MAX_CALL_DEPTH = 8
SERVER_PROXY_OVERHEAD_MS = 0.2  # inbound sidecar processing, part of the destination-reported duration


class TrafficEngine:
    """Generates Bookinfo load through the routing rules and accumulates Istio metrics.

    Thread-safe: :meth:`step`, :meth:`render_metrics`, :meth:`counters` and the setters serialise
    on one lock, so a scrape never sees half of a tick and a profile change applies between ticks.
    """

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
        self._proxies = SidecarProxies(self, self._rng, self._registry, cluster, trust_domain)
        self._step_lock = threading.Lock()
        self._simulated_seconds = 0.0
        self._request_carry = 0.0
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        #: Opt-in demo scenarios' own traffic (``simulator.scenarios``): called with the registry and the seconds of
        #: every step, after the user requests.
        self.scenario_traffic: list[Callable[[MetricsRegistry, float], None]] = []

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
            self._proxies.begin_step(snapshot, keep_clients=(INGRESS_WORKLOAD,))
            exact = self.rps * seconds + self._request_carry
            count = int(exact + 1e-9)
            self._request_carry = max(0.0, exact - count)
            gateways = self._ingress_pods(snapshot)
            for _ in range(count):
                self._send_user_request(snapshot, gateways)
            for record in self.scenario_traffic:
                record(self._registry, seconds)
            self._simulated_seconds += seconds
            return count

    def render_metrics(self, pod: str | None = None) -> str:
        """Prometheus text exposition (0.0.4) of every proxy's series, or of one reporting pod.

        The series are copied between ticks, so the source and destination reports of a request appear together;
        the text is written after the lock is released, so a scrape holds up the traffic only while it copies.
        """
        with self._step_lock:
            collector = self._registry.collector(pod)
        return render_exposition(collector)

    def counters(self, pod: str | None = None) -> MetricsSnapshot:
        """Structured snapshot of the raw counters and histograms (summed over pods unless ``pod``)."""
        with self._step_lock:
            return self._registry.snapshot(self._simulated_seconds, pod)

    def reporter_pods(self) -> list[str]:
        """Names of the pods whose proxies have reported something."""
        return self._registry.reporter_pods()

    def set_profile(self, key: str, profile: WorkloadProfile) -> None:
        """Make ``key`` (``namespace/workload``, workload, app label or external host) behave as ``profile``.

        Applies from the next tick; the profiles dict is replaced, never mutated, so readers need no lock.
        """
        with self._step_lock:
            self.profiles = {**self.profiles, key: profile}

    def clear_profile(self, key: str) -> bool:
        """Drop the configured profile ``key``; returns whether there was one."""
        with self._step_lock:
            found = key in self.profiles
            self.profiles = {name: profile for name, profile in self.profiles.items() if name != key}
            return found

    def set_load(self, rps: float | None = None, jason_share: float | None = None) -> None:
        """Change the user request rate and/or the share of requests logged in as ``jason``."""
        with self._step_lock:
            if rps is not None:
                self.rps = rps
            if jason_share is not None:
                self.jason_share = jason_share

    @property
    def is_running(self) -> bool:
        """Whether the background thread of :meth:`start_background` is ticking."""
        return self._thread is not None and self._thread.is_alive()

    def start_background(self, tick: float = 1.0) -> None:
        """Run :meth:`step` in a daemon thread in real time, every ``tick`` seconds."""
        if self.is_running:
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

    def close_tcp_connections(self) -> int:
        """Close every open TCP connection (e.g. when the demo stops); returns how many were closed."""
        with self._step_lock:
            return self._proxies.close_tcp_connections()

    def _run_in_real_time(self, tick: float, stop_event: threading.Event) -> None:
        last = time.monotonic()
        while not stop_event.wait(tick):
            now = time.monotonic()
            try:
                self.step(now - last)
            except Exception:  # keep the demo alive when the store hiccups
                logger.exception("traffic step failed")
            last = now

    # ------------------------------------------------------------------ the application (ServerApplication)

    def profile_for(self, pod: PodInfo) -> WorkloadProfile:
        """How the workload in ``pod`` behaves (see :meth:`workload_profile`)."""
        return self.workload_profile(pod.namespace, pod.workload, pod.labels.get("app", ""))

    def workload_profile(self, namespace: str, workload: str, app: str = "") -> WorkloadProfile:
        """Configured profile, else Bookinfo default; keys tried: ``namespace/workload``, workload, app."""
        keys = (f"{namespace}/{workload}", workload, app)
        for table in (self.profiles, DEFAULT_PROFILES):
            for key in keys:
                if key in table:
                    return table[key]
        return FALLBACK_PROFILE

    def external_profile_for(self, host: str) -> WorkloadProfile:
        """How an external (ServiceEntry) host behaves."""
        return self.profiles.get(host) or DEFAULT_PROFILES.get(host) or EXTERNAL_PROFILE

    def serve_request(self, snapshot: MeshSnapshot, pod: PodInfo, request: RequestAttributes, depth: int) -> TryResult:
        """The server application: own work, its outgoing calls (in order), then success or error."""
        profile = self.profile_for(pod)
        elapsed = sample_latency_ms(profile, self._rng)
        if depth < MAX_CALL_DEPTH:
            for edge in self._edges_for(pod):
                elapsed += self._call(snapshot, pod, edge, request, depth)
        failed = profile.error_rate > 0 and self._rng.random() < profile.error_rate
        status = profile.error_code if failed else 200
        body = 0 if failed else max(1, round(profile.response_bytes * self._rng.uniform(0.95, 1.05)))
        return TryResult(status, "-", elapsed + SERVER_PROXY_OVERHEAD_MS, body)

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
            return self._proxies.tcp_exchange(snapshot, caller, service, edge)
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
            outcome = self._proxies.http_call(
                snapshot, caller, service.fqdn, request, edge.request_bytes, edge.client_timeout_seconds, depth
            )
            elapsed += outcome.elapsed_ms
            if outcome.status == 200:
                break
        return elapsed

    def _edges_for(self, pod: PodInfo) -> list[CallEdge]:
        app, version = pod.labels.get("app"), pod.labels.get("version", "")
        return [
            edge
            for edge in self.call_graph
            if edge.caller_app == app and (edge.caller_versions is None or version in edge.caller_versions)
        ]

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
        gateway = self._proxies.pick_round_robin((INGRESS_WORKLOAD,), gateways)
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
        self._proxies.http_call(snapshot, gateway, fqdn, request, 720, None, 0)
