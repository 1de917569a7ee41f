"""The long-lived TCP connections of the simulated mesh (e.g. ratings → MongoDB) and their TCP metrics.

A client opens one connection per destination service and keeps it: opening routes it through
the ``tcp`` VirtualService routes, picks a server pod, negotiates mutual TLS and reports
``istio_tcp_connections_opened_total``; every request then adds to the sent/received byte
counters of both proxies; a connection whose client or server pod goes away is closed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from simulator import metrics
from simulator.mesh_snapshot import MeshSnapshot, PodInfo, ServiceInfo
from simulator.metrics import MetricsRegistry
from simulator.mutual_tls import decide_mutual_tls, peer_authentication_mode
from simulator.proxy_telemetry import ProxyTelemetry
from simulator.route_policies import Destination
from simulator.routing import choose_weighted, decide_tcp_destinations
from simulator.upstreams import LoadBalancer, resolve_upstream
from simulator.workloads import CallEdge, WorkloadProfile, sample_latency_ms


@dataclass
class _TcpConnection:
    """A long-lived TCP connection and the labels both of its proxies report it with."""

    source_pod: PodInfo
    destination_pod: PodInfo
    source_labels: dict[str, str]
    destination_labels: dict[str, str]


class TcpConnections:
    """Every open TCP connection of the mesh, keyed by client pod and destination service."""

    def __init__(
        self,
        rng: random.Random,
        registry: MetricsRegistry,
        telemetry: ProxyTelemetry,
        balancer: LoadBalancer,
        profile_for: Callable[[PodInfo], WorkloadProfile],
    ) -> None:
        self._rng = rng
        self._registry = registry
        self._telemetry = telemetry
        self._balancer = balancer
        self._profile_for = profile_for
        self._connections: dict[tuple[str, str, str], _TcpConnection] = {}

    def exchange(self, snapshot: MeshSnapshot, caller: PodInfo, service: ServiceInfo, edge: CallEdge) -> float:
        """Send one request's bytes over the caller's connection (opening it if needed).

        Returns the server's latency in milliseconds, 0 when the connection could not be opened.
        """
        key = (caller.name, caller.namespace, service.fqdn)
        connection = self._connections.get(key)
        if connection is None:
            connection = self._open(snapshot, caller, service, edge)
            if connection is None:
                return 0.0
            self._connections[key] = connection
        profile = self._profile_for(connection.destination_pod)
        received = edge.request_bytes  # request direction: client → server
        sent = max(1, round(profile.response_bytes * self._rng.uniform(0.9, 1.1)))  # response direction
        for pod, labels in self._reporters(connection):
            self._registry.add_to_counter(pod.name, metrics.TCP_RECEIVED_BYTES, labels, received)
            self._registry.add_to_counter(pod.name, metrics.TCP_SENT_BYTES, labels, sent)
        return sample_latency_ms(profile, self._rng)

    @staticmethod
    def _reporters(connection: _TcpConnection) -> list[tuple[PodInfo, dict[str, str]]]:
        reporters = []
        if connection.source_pod.has_sidecar:
            reporters.append((connection.source_pod, connection.source_labels))
        if connection.destination_pod.has_sidecar:
            reporters.append((connection.destination_pod, connection.destination_labels))
        return reporters

    def _open(
        self, snapshot: MeshSnapshot, caller: PodInfo, service: ServiceInfo, edge: CallEdge
    ) -> _TcpConnection | None:
        """Route (``tcp`` VirtualService routes), pick a server pod and report the opened connection."""
        routes = None
        if caller.has_sidecar:  # without a sidecar nobody applies VirtualServices
            routes = decide_tcp_destinations(snapshot, service.fqdn, caller.labels, edge.port)
        destination = choose_weighted(routes or ((Destination(service.fqdn), 100.0),), self._rng)
        upstream = resolve_upstream(snapshot, caller, destination or Destination(service.fqdn))
        target = service if isinstance(upstream, str) else upstream.service
        service_labels = self._telemetry.service_labels(target, target.fqdn)
        pod, mutual_tls, failure = None, False, upstream if isinstance(upstream, str) else None
        if not isinstance(upstream, str):
            pod = self._balancer.pick_endpoint(caller, upstream, purpose="tcp")
            server_mode = peer_authentication_mode(snapshot, pod, edge.port)
            mutual_tls, failure = decide_mutual_tls(caller.has_sidecar, pod.has_sidecar, server_mode, upstream.tls_mode)
        # Without mTLS there is no ALPN metadata exchange: neither side learns the other's workload.
        known_pod = pod if mutual_tls else None
        source_labels = self._telemetry.labels(
            "source", caller, known_pod, service_labels, mutual_tls, failure or "-", None, "tcp"
        )
        if failure is not None or pod is None:
            if caller.has_sidecar:
                for name in (metrics.TCP_CONNECTIONS_OPENED, metrics.TCP_CONNECTIONS_CLOSED):
                    self._registry.add_to_counter(caller.name, name, source_labels)
            return None
        destination_labels = self._telemetry.labels(
            "destination", caller if mutual_tls else None, pod, service_labels, mutual_tls, "-", None, "tcp"
        )
        connection = _TcpConnection(caller, pod, source_labels, destination_labels)
        for reporter, labels in self._reporters(connection):
            self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_OPENED, labels)
        return connection

    def close_stale(self, snapshot: MeshSnapshot) -> None:
        """Connections whose client or server pod is gone or unready are closed."""
        ready = {pod.key for pod in snapshot.pods if pod.ready}
        for key, connection in list(self._connections.items()):
            if connection.source_pod.key in ready and connection.destination_pod.key in ready:
                continue
            for reporter, labels in self._reporters(connection):
                self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_CLOSED, labels)
            del self._connections[key]

    def close_all(self) -> int:
        """Close every open TCP connection; returns how many were closed (the caller serialises with steps)."""
        closed = len(self._connections)
        for connection in self._connections.values():
            for reporter, labels in self._reporters(connection):
                self._registry.add_to_counter(reporter.name, metrics.TCP_CONNECTIONS_CLOSED, labels)
        self._connections.clear()
        return closed
