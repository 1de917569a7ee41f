"""Constant-rate telemetry of a demo scenario: what the proxies (sidecars, gateways, ztunnel, waypoints) report.

A scenario's traffic is a list of :class:`Flow`: one kind of request (or TCP connection) at a fixed rate, and the
reports Istio's proxies make of it: which reporter (``source``, ``destination``, ``waypoint``), from which pod, with
which peers.  Every report of a flow has the same labels but the reporter, as Istio's proxies report one request, so
the counts are exact (``rate * seconds``, the fraction carried to the next step) and a test knows every rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.metrics import (
    TCP_CONNECTIONS_OPENED,
    TCP_RECEIVED_BYTES,
    TCP_SENT_BYTES,
    UNKNOWN,
    UNKNOWN_PEER,
    MetricsRegistry,
    PeerLabels,
    ServiceLabels,
    standard_labels,
)

HOME_CLUSTER = "Kubernetes"
TRUST_DOMAIN = "cluster.local"


def peer(
    workload: str, namespace: str, app: str, version: str = "v1", cluster: str = HOME_CLUSTER, account: str = ""
) -> PeerLabels:
    """A workload as Istio labels it (canonical service/revision from ``app``/``version``)."""
    principal = f"spiffe://{TRUST_DOMAIN}/ns/{namespace}/sa/{account or app}"
    return PeerLabels(workload, namespace, principal, app, version, app, version, cluster)


def no_workload(cluster: str = HOME_CLUSTER) -> PeerLabels:
    """The destination of a request that reached no workload (no route, no endpoint, an external host)."""
    return PeerLabels(cluster=cluster)


UNKNOWN_CALLER = UNKNOWN_PEER


def service(name: str, namespace: str) -> ServiceLabels:
    """A Kubernetes service of the cluster."""
    return ServiceLabels(f"{name}.{namespace}.svc.cluster.local", name, namespace)


@dataclass(frozen=True)
class Report:
    """One proxy's report of a flow: reporter, the pod whose proxy reports, and the mTLS policy it knows."""

    reporter: str
    pod: str
    security: str = UNKNOWN
    #: The labels Prometheus' pod-label relabelling gives the reporting pod's series (ztunnel's ``app="ztunnel"``).
    target: tuple[tuple[str, str], ...] = ()


@dataclass
class Flow:
    """Requests (``code`` set) or TCP connections (``code`` None) from ``source`` to ``destination`` at ``rate``/s.

    TCP flows move ``sent`` and ``received`` bytes per second (Istio's names: bytes the destination sent back, bytes
    it received) and open ``rate`` connections per second.
    """

    source: PeerLabels
    destination: PeerLabels
    service: ServiceLabels
    rate: float
    reports: tuple[Report, ...]
    code: str | None = "200"
    flags: str = "-"
    protocol: str = "http"
    duration_ms: float = 20.0
    sent: float = 0.0
    received: float = 0.0
    _carry: float = field(default=0.0, repr=False)

    def labels(self, report: Report) -> dict[str, str]:
        """The Istio labels of this flow as ``report`` sees it."""
        return standard_labels(
            reporter=report.reporter,
            source=self.source,
            destination=self.destination,
            service=self.service,
            request_protocol="tcp" if self.code is None else self.protocol,
            response_flags=self.flags,
            connection_security_policy=report.security,
            response_code=self.code,
            grpc_response_status="" if self.protocol != "grpc" else ("0" if self.code == "200" else "14"),
        )

    def record(self, registry: MetricsRegistry, seconds: float) -> None:
        """Add ``rate * seconds`` requests (or that many seconds of TCP bytes) to every report's series."""
        if self.code is None:
            for report in self.reports:
                if report.target:
                    registry.set_target_labels(report.pod, dict(report.target))
                labels = self.labels(report)
                registry.add_to_counter(report.pod, TCP_SENT_BYTES, labels, self.sent * seconds)
                registry.add_to_counter(report.pod, TCP_RECEIVED_BYTES, labels, self.received * seconds)
                registry.add_to_counter(report.pod, TCP_CONNECTIONS_OPENED, labels, self.rate * seconds)
            return
        exact = self.rate * seconds + self._carry
        count = int(exact + 1e-9)
        self._carry = max(0.0, exact - count)
        for report in self.reports:
            labels = self.labels(report)
            for _ in range(count):
                registry.record_request(report.pod, labels, self.duration_ms, 300.0, 0.0 if self.code == "0" else 900.0)


__all__ = ["HOME_CLUSTER", "UNKNOWN_CALLER", "Flow", "Report", "no_workload", "peer", "service"]
