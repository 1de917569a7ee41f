"""A small broken mesh stored in the database, for the tests of stored findings, the API and the pages.

``bookinfo`` has services reviews and ratings with workloads; the VirtualService ``reviews`` routes to subset
``v9`` that no DestinationRule defines (KIA1107, a warning) and to host ``reveiws`` that does not exist (KIA1101,
an error); the DestinationRule ``ratings`` is fine. ``shop`` holds a Gateway whose selector selects nothing.
"""

from __future__ import annotations

from typing import Any

from inventory.models import Cluster, IstioObject
from tests.dashboard.factories import make_cluster, make_istio, make_namespace, make_service, make_workload

BROKEN_ROUTES: dict[str, Any] = {
    "hosts": ["reviews"],
    "http": [
        {
            "route": [
                {"destination": {"host": "reviews", "subset": "v9"}, "weight": 80},
                {"destination": {"host": "reveiws"}, "weight": 20},
            ]
        }
    ],
}
RATINGS_RULE: dict[str, Any] = {"host": "ratings", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}


def make_broken_mesh(name: str = "prod") -> Cluster:
    cluster = make_cluster(name)
    for namespace in ("bookinfo", "shop"):
        make_namespace(cluster, namespace)
    for app in ("reviews", "ratings"):
        make_service(cluster, "bookinfo", app)
        make_workload(cluster, "bookinfo", f"{app}-v1", app=app)
    make_istio(cluster, "bookinfo", "VirtualService", "reviews", BROKEN_ROUTES)
    make_istio(cluster, "bookinfo", "DestinationRule", "ratings", RATINGS_RULE)
    make_istio(cluster, "shop", "Gateway", "shop-gateway", {"selector": {"istio": "nothing"}, "servers": []})
    return cluster


def broken_routes_object() -> IstioObject:
    return IstioObject.objects.get(kind="VirtualService", name="reviews")
