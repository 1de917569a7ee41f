"""REST API of the configuration checks: stored findings, a posted object checked without storing, Istio objects
with their findings; filters, errors, login and namespace permissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import RoleGrant
from inventory.models import Cluster, IstioObject
from istio_config import validation
from istio_config.models import ConfigFinding
from tests.istio_config.validation_support import make_broken_mesh

pytestmark = pytest.mark.django_db

VALIDATIONS = reverse("v1:validations")
VALIDATE = reverse("v1:validate")
OBJECTS = reverse("v1:istio-objects")

POSTED_YAML = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v7
"""


@pytest.fixture
def mesh() -> Cluster:
    cluster = make_broken_mesh()
    validation.validate_cluster(cluster)
    return cluster


@pytest.fixture
def shop_viewer(django_user_model: Any, client: Any, mesh: Cluster) -> Any:
    """A client logged in as bob, who may read ``shop`` only."""
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "bob-password")
    RoleGrant.objects.create(user=bob, role="viewer", cluster=mesh, namespace="shop")
    client.force_login(bob)
    return client


def codes(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["name"], f["code"]) for f in body["findings"]}


def test_validations_lists_the_stored_findings_with_the_last_run(client: Any, mesh: Cluster) -> None:
    body = client.get(VALIDATIONS).json()
    assert body["cluster"] == "prod" and body["count"] == 3
    assert codes(body) == {("reviews", "KIA1101"), ("reviews", "KIA1107"), ("shop-gateway", "KIA0302")}
    assert body["run"]["error_count"] == 1 and body["run"]["object_count"] == 3
    finding = next(f for f in body["findings"] if f["code"] == "KIA1101")
    assert finding["istioCode"] == "IST0101" and finding["path"] == "spec.http[0].route[1].destination.host"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"namespaces": "shop"}, {("shop-gateway", "KIA0302")}),
        ({"namespaces": "bookinfo,shop", "kind": "VirtualService"}, {("reviews", "KIA1101"), ("reviews", "KIA1107")}),
        ({"severity": "error"}, {("reviews", "KIA1101")}),
        ({"code": "KIA1107"}, {("reviews", "KIA1107")}),
        ({"namespaces": "other"}, set()),
    ],
)
def test_validations_filters(client: Any, mesh: Cluster, query: dict[str, str], expected: set[Any]) -> None:
    assert codes(client.get(VALIDATIONS, query).json()) == expected


def test_validations_refuses_bad_parameters_and_strangers(client: Any, anonymous_client: Any, mesh: Cluster) -> None:
    bad = client.get(VALIDATIONS, {"severity": "fatal"})
    assert bad.status_code == 400 and "severity" in bad.json()["details"]
    assert client.get(VALIDATIONS, {"cluster": "nowhere"}).status_code == 400
    assert anonymous_client.get(VALIDATIONS).status_code == 401


def test_a_user_sees_only_the_namespaces_granted(shop_viewer: Any) -> None:
    assert codes(shop_viewer.get(VALIDATIONS).json()) == {("shop-gateway", "KIA0302")}
    assert [r["name"] for r in shop_viewer.get(OBJECTS).json()["results"]] == ["shop-gateway"]
    detail = reverse("v1:istio-object", args=["prod", "bookinfo", "VirtualService", "reviews"])
    assert shop_viewer.get(detail).status_code == 404
    posted = shop_viewer.post(VALIDATE, POSTED_YAML, content_type="application/yaml")
    assert posted.status_code == 404


def test_validate_checks_a_posted_yaml_object_and_pins_findings_to_its_lines(client: Any, mesh: Cluster) -> None:
    stored = list(ConfigFinding.objects.values_list("pk", flat=True))
    response = client.post(VALIDATE, POSTED_YAML, content_type="application/yaml")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["object"] == {"kind": "VirtualService", "namespace": "bookinfo", "name": "ratings"}
    assert [(f["code"], f["path"], f["line"]) for f in body["findings"]] == [
        ("KIA1107", "spec.http[0].route[0].destination.subset", 13)
    ]
    assert body["valid"] is True and body["schemaErrors"] == []  # a missing subset is a warning
    assert list(ConfigFinding.objects.values_list("pk", flat=True)) == stored


def test_validate_takes_json_and_reports_schema_errors_with_lines(client: Any, mesh: Cluster) -> None:
    document = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews"},
        "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"app": "reviews"}}], "trafficPolicy": 3},
    }
    text = json.dumps(document, indent=2)
    response = client.post(f"{VALIDATE}?namespace=bookinfo", text, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is False
    error = body["schemaErrors"][0]
    assert error["path"] == "spec.trafficPolicy"
    assert text.splitlines()[error["line"] - 1].strip().startswith('"trafficPolicy"')


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("kind: [", "application/yaml", "not a JSON or YAML object"),
        ("- a\n- b\n", "application/yaml", "one JSON or YAML object"),
        ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}', "application/json", "not an Istio kind"),
        (POSTED_YAML.replace("  name: ratings\n", ""), "application/yaml", "metadata.name"),
    ],
)
def test_validate_refuses_what_it_cannot_check(
    client: Any, mesh: Cluster, body: str, content_type: str, message: str
) -> None:
    response = client.post(VALIDATE, body, content_type=content_type)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_validate_needs_a_login(anonymous_client: Any, mesh: Cluster) -> None:
    assert anonymous_client.post(VALIDATE, POSTED_YAML, content_type="application/yaml").status_code == 401


def test_istio_objects_list_counts_and_filters(client: Any, mesh: Cluster) -> None:
    body = client.get(OBJECTS).json()
    assert (body["count"], body["page"], body["pages"]) == (3, 1, 1)
    rows = {r["name"]: r for r in body["results"]}
    assert rows["reviews"]["validation"] == {"status": "error", "error": 1, "warning": 1, "info": 0}
    assert rows["ratings"]["validation"]["status"] == "valid"
    assert rows["reviews"]["apiVersion"] == "networking.istio.io/v1"

    def names(**query: str) -> list[str]:
        return [r["name"] for r in client.get(OBJECTS, query).json()["results"]]

    assert names(status="valid") == ["ratings"]
    assert names(status="warning") == ["shop-gateway"]
    assert names(status="error") == ["reviews"]
    assert names(severity="warning") == ["reviews", "shop-gateway"]
    assert names(code="KIA0302") == ["shop-gateway"]
    assert names(namespace="bookinfo", kind="DestinationRule") == ["ratings"]
    assert client.get(OBJECTS, {"page": 2}).status_code == 404
    assert client.get(OBJECTS, {"status": "broken"}).status_code == 400


def test_istio_object_detail_embeds_findings_pinned_to_the_yaml(client: Any, mesh: Cluster) -> None:
    url = reverse("v1:istio-object", args=["prod", "bookinfo", "VirtualService", "reviews"])
    body = client.get(url).json()
    assert body["metadata"]["name"] == "reviews" and body["spec"]["hosts"] == ["reviews"]
    lines = body["yaml"].splitlines()
    pinned = {f["code"]: lines[f["line"] - 1].strip() for f in body["findings"]}
    assert pinned == {"KIA1107": "subset: v9", "KIA1101": "host: reveiws"}


@pytest.mark.parametrize(
    "args",
    [("prod", "bookinfo", "VirtualService", "nothing"), ("nowhere", "bookinfo", "VirtualService", "reviews")],
)
def test_istio_object_detail_is_404_for_what_is_not_there(client: Any, mesh: Cluster, args: list[str]) -> None:
    assert client.get(reverse("v1:istio-object", args=args)).status_code == 404


def test_the_schema_documents_the_endpoints_and_their_errors(client: Any) -> None:
    schema = client.get(reverse("v1:schema"), {"format": "json"}).json()
    for path in ("/api/v1/validations", "/api/v1/validate", "/api/v1/istio-objects"):
        assert {"400", "401", "403", "404"} <= set(next(iter(schema["paths"][path].values()))["responses"])


def test_gateway_api_objects_are_known_by_their_check_kind_beside_an_istio_gateway_of_the_same_name(
    client: Any, mesh: Cluster
) -> None:
    """A Gateway API ``Gateway`` named like an Istio ``Gateway`` in the same namespace: each is its own object, with
    its own findings (K8sGateway for the Gateway API one, as Kiali names it) and its own page."""
    IstioObject.objects.create(
        cluster=mesh,
        namespace="shop",
        name="shop-gateway",
        group="gateway.networking.k8s.io",
        version="v1",
        kind="Gateway",
        spec={"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
    )
    route = {"parentRefs": [{"name": "missing-gateway"}], "rules": [{"backendRefs": [{"name": "cart", "port": 80}]}]}
    IstioObject.objects.create(
        cluster=mesh,
        namespace="shop",
        name="cart",
        group="gateway.networking.k8s.io",
        version="v1",
        kind="HTTPRoute",
        spec=route,
    )
    validation.validate_cluster(mesh)
    rows = {(r["kind"], r["name"]): r for r in client.get(OBJECTS, {"namespace": "shop"}).json()["results"]}
    assert rows[("Gateway", "shop-gateway")]["validation"]["status"] == "warning"  # KIA0302, the Istio one
    assert rows[("K8sGateway", "shop-gateway")]["validation"]["status"] == "valid"
    assert rows[("K8sHTTPRoute", "cart")]["validation"]["status"] == "error"  # KIA1401 and KIA1402
    assert [r["name"] for r in client.get(OBJECTS, {"kind": "K8sGateway"}).json()["results"]] == ["shop-gateway"]

    k8s = client.get(reverse("v1:istio-object", args=["prod", "shop", "K8sGateway", "shop-gateway"])).json()
    assert k8s["apiVersion"] == "gateway.networking.k8s.io/v1" and k8s["findings"] == []
    istio = client.get(reverse("v1:istio-object", args=["prod", "shop", "Gateway", "shop-gateway"])).json()
    assert istio["apiVersion"] == "networking.istio.io/v1" and {f["code"] for f in istio["findings"]} == {"KIA0302"}
    page = client.get(reverse("dashboard:istio"), {"namespace": "shop"}).content.decode()
    assert 'data-row="shop/K8sGateway/shop-gateway"' in page and 'data-row="shop/Gateway/shop-gateway"' in page
