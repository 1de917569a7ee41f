"""The benchmarks' synthetic mesh: workloads, edges, their Istio series for Prometheus, and the inventory rows.

A deterministic mesh (namespaces x 10 workloads: 5 apps x 2 versions, one service per app) with edges picked by a
seeded RNG, clustered by namespace as in real meshes. :func:`build_series` writes the Istio-labelled series both
reporters would give every 15 s (``istio_requests_total`` with a few response codes,
``istio_request_duration_milliseconds`` buckets, TCP bytes for some edges, gRPC messages and HTTP body bytes), which
``devtools.prometheus_server.render_openmetrics(SYNTHETIC_FAMILIES, ...)`` renders for ``promtool`` to backfill, and
:func:`store_inventory` writes the matching namespaces, services, workloads and pods. ``bench/graph_snapshot.py``,
``bench/profile_build.py`` and ``bench/telemetry_parse.py`` use it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from devtools.prometheus_server import ISTIO_FAMILIES, OpenMetricsSeries
from topology.graph.paths import IDENTITY_LABELS

CLUSTER = "bench"
STEP_SECONDS = 15
#: Data time range: fixed in the past (inside one 2 h TSDB block) so runs are reproducible; queries are pinned to AT.
T0 = 1_700_000_000
WORKLOADS_PER_NAMESPACE = 10
VERSIONS = ("v1", "v2")
BUCKETS: tuple[str, ...] = ("5", "25", "100", "500", "+Inf")
HISTOGRAM_LABELS = ("reporter", *IDENTITY_LABELS)


@dataclass(frozen=True)
class SyntheticWorkload:
    namespace: str
    app: str
    version: str

    @property
    def name(self) -> str:
        return f"{self.app}-{self.version}"

    @property
    def principal(self) -> str:
        return f"spiffe://cluster.local/ns/{self.namespace}/sa/{self.app}"


@dataclass(frozen=True)
class SyntheticEdge:
    """Traffic from a workload to a service's workload: protocol, rate (req/s or B/s) and response codes."""

    source: SyntheticWorkload
    destination: SyntheticWorkload
    protocol: str  # http, grpc or tcp
    rate: int
    codes: tuple[tuple[str, int], ...] = ()  # (code, share of rate in percent)
    latency_ms: float = 20.0


@dataclass
class SyntheticMesh:
    namespaces: list[str]
    workloads: list[SyntheticWorkload]
    edges: list[SyntheticEdge] = field(default_factory=list)


def build_mesh(workloads: int, edges: int, seed: int, cross_namespace: float = 0.2) -> SyntheticMesh:
    """``workloads / 10`` namespaces of 5 apps x 2 versions; ``edges`` distinct (source, destination) pairs.

    A share ``cross_namespace`` of the edges goes to a workload in another namespace (picked at random), the rest
    stays inside the namespace, as real meshes are clustered; 1.0 picks both ends from the whole mesh.
    """
    rng = random.Random(seed)
    namespace_count = max(1, workloads // WORKLOADS_PER_NAMESPACE)
    namespaces = [f"ns-{index:03d}" for index in range(namespace_count)]
    mesh = SyntheticMesh(namespaces=namespaces, workloads=[])
    for namespace in namespaces:
        for app_index in range(WORKLOADS_PER_NAMESPACE // len(VERSIONS)):
            for version in VERSIONS:
                mesh.workloads.append(SyntheticWorkload(namespace, f"app-{app_index}", version))
    # About 3% of workloads get no traffic at all, so idle nodes exist.
    active = [w for w in mesh.workloads if rng.random() >= 0.03]
    by_namespace: dict[str, list[SyntheticWorkload]] = {}
    for workload in active:
        by_namespace.setdefault(workload.namespace, []).append(workload)
    seen: set[tuple[SyntheticWorkload, SyntheticWorkload]] = set()
    while len(mesh.edges) < edges:
        source = rng.choice(active)
        destination = rng.choice(active if rng.random() < cross_namespace else by_namespace[source.namespace])
        if source == destination or (source, destination) in seen:
            continue
        seen.add((source, destination))
        roll = rng.random()
        protocol = "tcp" if roll < 0.1 else "grpc" if roll < 0.2 else "http"
        codes: tuple[tuple[str, int], ...]
        if protocol == "http":
            codes = (("200", 100),)
            extra = rng.random()
            if extra < 0.1:
                codes = (("200", 95), ("503", 5))
            elif extra < 0.2:
                codes = (("200", 90), ("404", 10))
        elif protocol == "grpc":
            codes = (("0", 100),) if rng.random() >= 0.1 else (("0", 90), ("14", 10))
        else:
            codes = ()
        rate = rng.randint(1, 50) * 4 if protocol != "tcp" else rng.randint(100, 5000)
        mesh.edges.append(SyntheticEdge(source, destination, protocol, rate, codes, rng.choice((4, 12, 40, 180))))
    return mesh


def edge_labels(edge: SyntheticEdge, reporter: str) -> dict[str, str]:
    source, destination = edge.source, edge.destination
    host = f"{destination.app}.{destination.namespace}.svc.cluster.local"
    return {
        "reporter": reporter,
        "source_cluster": CLUSTER,
        "source_workload_namespace": source.namespace,
        "source_workload": source.name,
        "source_app": source.app,
        "source_version": source.version,
        "source_canonical_service": source.app,
        "source_canonical_revision": source.version,
        "source_principal": source.principal,
        "destination_cluster": CLUSTER,
        "destination_service": host,
        "destination_service_name": destination.app,
        "destination_service_namespace": destination.namespace,
        "destination_workload_namespace": destination.namespace,
        "destination_workload": destination.name,
        "destination_app": destination.app,
        "destination_version": destination.version,
        "destination_canonical_service": destination.app,
        "destination_canonical_revision": destination.version,
        "destination_principal": destination.principal,
        "connection_security_policy": "mutual_tls" if reporter == "destination" else "unknown",
    }


def request_labels(edge: SyntheticEdge, base: dict[str, str]) -> list[tuple[dict[str, str], int]]:
    """The ``istio_requests_total`` labels of each response code of an HTTP or gRPC edge, with its share (percent)."""
    rows = []
    for code, share in edge.codes:
        labels = {**base, "request_protocol": edge.protocol, "response_flags": "-"}
        if edge.protocol == "grpc":
            labels |= {"response_code": "200", "grpc_response_status": code}
        else:
            labels |= {"response_code": code, "response_flags": "UF" if code == "503" else "-"}
        rows.append((labels, share))
    return rows


def build_series(mesh: SyntheticMesh, points: int) -> list[OpenMetricsSeries]:
    """Counters growing at each edge's constant rate, for both reporters, ``points`` samples from T0."""
    times = [float(T0 + STEP_SECONDS * i) for i in range(points)]
    series: list[OpenMetricsSeries] = []

    def counter(name: str, labels: dict[str, str], per_second: float) -> None:
        series.append(OpenMetricsSeries(name, labels, [(t, per_second * (t - T0)) for t in times]))

    for edge in mesh.edges:
        for reporter in ("source", "destination"):
            base = edge_labels(edge, reporter)
            if edge.protocol == "tcp":
                tcp = {**base, "response_flags": "-"}
                counter("istio_tcp_sent_bytes_total", tcp, edge.rate * 0.3)
                counter("istio_tcp_received_bytes_total", tcp, edge.rate * 0.7)
                continue
            for labels, share in request_labels(edge, base):
                counter("istio_requests_total", labels, edge.rate * share / 100)
            # One histogram per (edge, reporter): every observation falls into the bucket holding the latency.
            latency = edge.latency_ms + (0.5 if reporter == "source" else 0.0)
            # Histograms carry the labels the latency queries group by (Istio adds principals and the security
            # policy too, which those queries sum away): a third less to backfill.
            histogram = {k: base[k] for k in HISTOGRAM_LABELS} | {"request_protocol": edge.protocol}
            for bucket in BUCKETS:
                inside = bucket == "+Inf" or latency <= float(bucket)
                counter("istio_request_duration_milliseconds_bucket", {**histogram, "le": bucket}, edge.rate * inside)
            counter("istio_request_duration_milliseconds_sum", histogram, edge.rate * latency)
            counter("istio_request_duration_milliseconds_count", histogram, edge.rate)
            # Traffic by direction, as Istio reports it: gRPC messages, HTTP body bytes (the histograms' +Inf bucket,
            # sum and count: the graph reads the sum).
            for name, per_request in direction_rates(edge):
                if name.endswith("_total"):
                    counter(name, histogram, edge.rate * per_request)
                else:
                    counter(f"{name}_bucket", {**histogram, "le": "+Inf"}, edge.rate)
                    counter(f"{name}_sum", histogram, edge.rate * per_request)
                    counter(f"{name}_count", histogram, edge.rate)
    return series


#: The metric families of :func:`build_series` (``devtools.prometheus_server.ISTIO_FAMILIES`` and the series of
#: traffic by direction).
SYNTHETIC_FAMILIES: dict[str, str] = {
    **ISTIO_FAMILIES,
    "istio_request_messages": "counter",
    "istio_response_messages": "counter",
    "istio_request_bytes": "histogram",
    "istio_response_bytes": "histogram",
}


def direction_rates(edge: SyntheticEdge) -> tuple[tuple[str, float], ...]:
    """``(series, per request)`` of an HTTP or gRPC edge's traffic by direction: 1 message each way (grpc), 200 B of
    request and 2,000 B of response body (http)."""
    if edge.protocol == "grpc":
        return (("istio_request_messages_total", 1.0), ("istio_response_messages_total", 1.0))
    return (("istio_request_bytes", 200.0), ("istio_response_bytes", 2000.0))


def store_inventory(mesh: SyntheticMesh) -> int:
    """Cluster, namespaces, services, workloads and 2 ready pods per workload (bulk_create); returns the cluster id."""
    from inventory.models import Cluster, Namespace, Pod, Service, Workload

    cluster = Cluster.objects.create(name=CLUSTER)
    Namespace.objects.bulk_create(
        [Namespace(cluster=cluster, name=ns, phase="Active", injection="enabled") for ns in mesh.namespaces]
    )
    apps = sorted({(w.namespace, w.app) for w in mesh.workloads})
    Service.objects.bulk_create(
        [
            Service(cluster=cluster, namespace=ns, name=app, service_type="ClusterIP", selector={"app": app})
            for ns, app in apps
        ],
        batch_size=500,
    )
    Workload.objects.bulk_create(
        [
            Workload(
                cluster=cluster,
                namespace=w.namespace,
                name=w.name,
                kind="Deployment",
                app=w.app,
                version=w.version,
                labels={"app": w.app, "version": w.version},
                template_labels={"app": w.app, "version": w.version},
                desired_replicas=2,
                ready_replicas=2,
                available_replicas=2,
                sidecar_present=True,
            )
            for w in mesh.workloads
        ],
        batch_size=500,
    )
    Pod.objects.bulk_create(
        [
            Pod(
                cluster=cluster,
                namespace=w.namespace,
                name=f"{w.name}-{index}",
                phase="Running",
                ready=True,
                sidecar=True,
                containers_ready=2,
                containers_total=2,
                workload_kind="Deployment",
                workload_name=w.name,
            )
            for w in mesh.workloads
            for index in range(2)
        ],
        batch_size=500,
    )
    return cluster.pk
