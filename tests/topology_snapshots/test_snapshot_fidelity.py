"""Graph fidelity through the stored-snapshot API: what a snapshot stores and a scoped read serves for the messy cases
(a request only the source proxy reported, a request to no route, a request that got no response)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from clients.prometheus import GraphRows
from inventory.sync import sync_cluster
from tests.topology.bookinfo import bookinfo_requests, both_reporters, labels
from topology.graph.samples import IstioLabels, RequestSample
from topology.snapshots import take_snapshot

pytestmark = pytest.mark.django_db

U = "unknown"


def messy_requests() -> list[RequestSample]:
    """Bookinfo plus: a call into cluster west that only the caller's proxy reported (1/s), a 404 NR to no route
    (0.5/s, source report only) and requests to details that got no response (code 0, DC: 0.5/s, both proxies)."""
    west: IstioLabels = {
        **labels("productpage", "details", "details", reporter="source"),
        "destination_cluster": "west",
    }
    no_route: IstioLabels = {
        **labels("productpage", None, "details", reporter="source", code="404", flags="NR"),
        "destination_service_name": U,
        "destination_service_namespace": U,
        "destination_service": "nosuch.example.com",
    }
    return [
        *bookinfo_requests(),
        RequestSample(west, 1.0),
        RequestSample(no_route, 0.5),
        *both_reporters("productpage", "details", "details", 0.5, code="0", flags="DC"),
    ]


@dataclass
class MessySource:
    """A telemetry source answering the messy rows for every window."""

    samples: list[RequestSample] = field(default_factory=messy_requests)
    kind: str = "prometheus"

    def fetch_rows(self, namespaces: object, window: object, at: object) -> GraphRows:
        return GraphRows(requests=[{"metric": dict(s.labels), "value": [0, str(s.rate)]} for s in self.samples])


def test_stored_graph_keeps_source_only_traffic_unknown_destinations_and_no_response_errors(cluster, client):
    sync_cluster(cluster.pk)
    take_snapshot(cluster.pk, source=MessySource())
    response = client.get("/api/v1/graph", {"namespaces": "bookinfo", "graphType": "versionedApp", "duration": "5m"})
    assert response.status_code == 200, response.content
    graph = json.loads(response.content)
    nodes = [n["data"] for n in graph["elements"]["nodes"]]
    by_id = {n["id"]: n for n in nodes}
    edges = [e["data"] for e in graph["elements"]["edges"]]
    productpage = next(n["id"] for n in nodes if n.get("app") == "productpage")

    def edge_to(**target: str) -> dict:
        [found] = [
            e
            for e in edges
            if e["source"] == productpage and all(by_id[e["target"]].get(k) == v for k, v in target.items())
        ]
        return found

    # The call into west (source report only) is drawn: 1/s to details' service of cluster west.
    assert edge_to(service="details", cluster="west")["traffic"]["rates"]["http"] == "1.00"
    # The 404 NR goes to the `unknown` service, which is in scope and not outside; the unknown caller is another node.
    unknown_service = edge_to(service=U)
    assert unknown_service["traffic"]["rates"]["http4xx"] == "0.50"
    target = by_id[unknown_service["target"]]
    assert (target["nodeType"], target["namespace"]) == ("service", U) and "isOutside" not in target
    # details in the home cluster: 10/s answered plus 0.5/s without response (counted once, not twice): 4.8 % errors.
    details = edge_to(service="details", cluster=by_id[productpage]["cluster"])["traffic"]["rates"]
    assert (details["http"], details["httpNoResponse"], details["httpPercentErr"]) == ("10.50", "0.50", "4.8")
