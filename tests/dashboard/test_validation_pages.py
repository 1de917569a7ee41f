"""Where findings show on the pages: the Istio object page (YAML with findings pinned to lines), the service and
workload pages, and the overview's per-namespace Istio config status."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import RoleGrant
from inventory.models import Cluster, IstioObject
from istio_config.validation import validate_cluster
from tests.istio_config.validation_support import make_broken_mesh

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh() -> Cluster:
    cluster = make_broken_mesh()
    validate_cluster(cluster)
    return cluster


def object_url(namespace: str, kind: str, name: str) -> str:
    return reverse("dashboard:istio-object", args=[namespace, kind, name])


def yaml_line(html: str, number: int) -> str:
    match = re.search(rf'<tr id="L{number}"[^>]*><td class="ln">{number}</td><td class="src">([^<]*)</td>', html)
    assert match, f"line {number} is not rendered"
    return match.group(1)


def test_the_object_page_pins_each_finding_to_its_yaml_line(client: Any, mesh: Cluster) -> None:
    response = client.get(object_url("bookinfo", "VirtualService", "reviews"))
    assert response.status_code == 200
    html = response.content.decode()
    pins = dict(re.findall(r'data-pinned-line="(\d+)" data-code="(\w+)"', html))
    lines = {code: int(number) for number, code in pins.items()}
    assert set(lines) == {"KIA1107", "KIA1101"}
    assert yaml_line(html, lines["KIA1107"]).strip() == "subset: v9"
    assert yaml_line(html, lines["KIA1101"]).strip() == "host: reveiws"
    assert f'class="flagged-warning"><td class="ln">{lines["KIA1107"]}' in html
    assert f'<a href="#L{lines["KIA1101"]}">line {lines["KIA1101"]}</a>' in html
    assert yaml_line(html, 1) == "apiVersion: networking.istio.io/v1"


def test_the_object_page_of_a_valid_object_says_so(client: Any, mesh: Cluster) -> None:
    html = client.get(object_url("bookinfo", "DestinationRule", "ratings")).content.decode()
    assert "No finding: the checks found nothing wrong" in html
    assert 'data-validation="valid"' in html


def test_strings_from_the_cluster_are_escaped_on_the_object_page(client: Any, mesh: Cluster) -> None:
    IstioObject.objects.filter(name="reviews").update(labels={"team": "<script>alert(1)</script>"})
    html = client.get(object_url("bookinfo", "VirtualService", "reviews")).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_object_page_is_404_when_missing_or_not_granted_and_needs_a_login(
    client: Any, anonymous_client: Any, django_user_model: Any, mesh: Cluster
) -> None:
    assert client.get(object_url("bookinfo", "VirtualService", "nothing")).status_code == 404
    response = anonymous_client.get(object_url("bookinfo", "VirtualService", "reviews"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    RoleGrant.objects.create(user=bob, role="viewer", cluster=mesh, namespace="shop")
    client.force_login(bob)
    assert client.get(object_url("bookinfo", "VirtualService", "reviews")).status_code == 404
    assert client.get(object_url("shop", "Gateway", "shop-gateway")).status_code == 200


def test_service_and_workload_pages_list_the_findings_of_the_config_routing_to_them(client: Any, mesh: Cluster) -> None:
    for url in (
        reverse("dashboard:service", args=["bookinfo", "reviews"]),
        reverse("dashboard:workload", args=["bookinfo", "reviews-v1"]),
        reverse("dashboard:application", args=["bookinfo", "reviews"]),
    ):
        html = client.get(url).content.decode()
        assert set(re.findall(r'data-finding="(\w+)" data-object="VirtualService/bookinfo/reviews"', html)) == {
            "KIA1101",
            "KIA1107",
        }, url
        assert 'href="/namespaces/bookinfo/istio/VirtualService/reviews/"' in html
    html = client.get(reverse("dashboard:service", args=["bookinfo", "ratings"])).content.decode()
    assert "Config findings (0)" in html


def test_the_overview_shows_each_namespace_istio_config_status(client: Any, mesh: Cluster) -> None:
    html = client.get(reverse("dashboard:overview")).content.decode()
    cards = dict(re.findall(r'data-namespace="([\w-]+)".*?data-istio-config="(\w+)"', html, re.S))
    assert cards == {"bookinfo": "error", "shop": "warning"}
    bookinfo = html[html.index('data-namespace="bookinfo"') : html.index('data-namespace="shop"')]
    assert "2 objects" in bookinfo and "1 error</span>" in bookinfo and "1 warning</span>" in bookinfo


def test_a_service_page_lists_only_findings_on_objects_the_user_may_read(
    client: Any, django_user_model: Any, mesh: Cluster
) -> None:
    """A VirtualService in ``shop`` routes to bookinfo's reviews with a missing subset: bob, who may read bookinfo
    only, sees bookinfo's own findings on the reviews workload and nothing of the object in ``shop``."""
    from tests.dashboard.factories import make_istio

    make_istio(
        mesh,
        "shop",
        "VirtualService",
        "reviews-from-shop",
        {
            "hosts": ["reviews.bookinfo.svc.cluster.local"],
            "http": [{"route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v8"}}]}],
        },
    )
    validate_cluster(mesh)
    page = reverse("dashboard:workload", args=["bookinfo", "reviews-v1"])
    assert "reviews-from-shop" in client.get(page).content.decode()  # alice reads every namespace
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    RoleGrant.objects.create(user=bob, role="viewer", cluster=mesh, namespace="bookinfo")
    client.force_login(bob)
    html = client.get(page).content.decode()
    assert "KIA1107" in html and "reviews-from-shop" not in html


def test_a_workload_finding_shows_on_its_page_without_an_object_link(client: Any) -> None:
    from tests.dashboard.factories import make_workload

    cluster = make_broken_mesh()
    make_workload(cluster, "bookinfo", "unlabelled", labels={}, template_labels={})
    validate_cluster(cluster)
    html = client.get(reverse("dashboard:workload", args=["bookinfo", "unlabelled"])).content.decode()
    assert 'data-finding="MUI1303" data-object="Workload/bookinfo/unlabelled"' in html
    assert "/istio/Workload/" not in html
    overview = client.get(reverse("dashboard:overview")).content.decode()
    assert 'data-namespace="bookinfo"' in overview and "MUI1303" not in overview
    bookinfo = overview[overview.index('data-namespace="bookinfo"') : overview.index('data-namespace="shop"')]
    assert "1 error</span>" in bookinfo and "1 warning</span>" in bookinfo  # the workload's warning is not counted
