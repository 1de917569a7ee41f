"""What the simulated Envoy proxies report: Istio standard labels and request records.

``ProxyTelemetry`` turns pods and services into the peer and service label sets of Istio's
standard metrics (workload, canonical service and revision, SPIFFE principal when the hop is
mutual TLS) and records what the client proxy (``reporter="source"``) and the server proxy
(``reporter="destination"``) report for an HTTP request into a
:class:`~simulator.metrics.MetricsRegistry`.
"""

from __future__ import annotations

from simulator import metrics
from simulator.mesh_snapshot import PodInfo, ServiceInfo
from simulator.metrics import MetricsRegistry, PeerLabels, ServiceLabels

#: Body sizes of Envoy's local replies, by response flag.
LOCAL_REPLY_BYTES = {"UH": 19, "FI": 18, "UT": 24, "NR": 0, "NC": 0, "DC": 0, "UF": 91, "UC": 95}


class ProxyTelemetry:
    """Label sets and HTTP reports of every proxy; peer labels are cached for one step."""

    def __init__(self, registry: MetricsRegistry, cluster: str, trust_domain: str) -> None:
        self._registry = registry
        self.cluster = cluster
        self.trust_domain = trust_domain
        self._peer_cache: dict[tuple[tuple[str, str], bool], PeerLabels] = {}  # valid for one step

    def begin_step(self) -> None:
        """Forget the cached peer labels: a new cluster snapshot may have relabelled pods."""
        self._peer_cache.clear()

    def peer_labels(self, pod: PodInfo | None, mutual_tls: bool) -> PeerLabels:
        """How a proxy names ``pod`` as a peer (``unknown`` without a pod, no principal without mTLS)."""
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
    def service_labels(service: ServiceInfo | None, host: str) -> ServiceLabels:
        """The ``destination_service*`` labels of a request to ``host`` (``unknown`` namespace if no Service)."""
        if service is None:
            return ServiceLabels(fqdn=host, name=host, namespace=metrics.UNKNOWN)
        return ServiceLabels(fqdn=service.fqdn, name=service.name, namespace=service.namespace)

    def labels(
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
        """The full standard label set one proxy reports for a request or a TCP connection."""
        known_source = source if source is not None and source.has_sidecar else None
        return metrics.standard_labels(
            reporter=reporter,
            source=self.peer_labels(known_source, mutual_tls),
            destination=self.peer_labels(destination, mutual_tls),
            service=service,
            request_protocol=protocol,
            response_code=str(status) if status is not None else None,
            response_flags=flags,
            connection_security_policy=("unknown" if reporter == "source" else "mutual_tls" if mutual_tls else "none"),
        )

    def record_http(
        self, reporter_pod: PodInfo, labels: dict[str, str], duration_ms: float, request_bytes: int, response_bytes: int
    ) -> None:
        """Record one HTTP request as reported by the proxy of ``reporter_pod``."""
        self._registry.record_request(reporter_pod.name, labels, round(duration_ms, 3), request_bytes, response_bytes)

    def record_source_only(
        self, source: PodInfo, service: ServiceLabels, status: int, flags: str, duration_ms: float, request_bytes: int
    ) -> None:
        """A request the client proxy answered itself (local reply): only its sidecar, if any, reports."""
        if source.has_sidecar:
            labels = self.labels("source", source, None, service, False, flags, status)
            self.record_http(source, labels, duration_ms, request_bytes, LOCAL_REPLY_BYTES.get(flags, 0))

    def record_destination(
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
        """What the server proxy of ``pod`` reports for one try (nothing when the pod has no sidecar)."""
        if pod.has_sidecar:
            labels = self.labels(
                "destination", source, pod, self.service_labels(service, service.fqdn), mutual_tls, flags, status
            )
            self.record_http(pod, labels, duration_ms, request_bytes, response_bytes)
