"""The admin's VirtualService form in Chromium, on the live Bookinfo simulator: a weight change saved from the form
goes to the cluster through the write service, and the simulator's traffic — and so the graph — follows it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import take_live_snapshot
from tests.browser.test_yaml_editor import editor_page, editor_user, routed, second_editor_page

pytestmark = pytest.mark.browser

__all__ = ["editor_page", "editor_user", "routed", "second_editor_page"]  # fixtures

SPLIT = {
    "hosts": ["reviews"],
    "http": [
        {
            "route": [
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": 34},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 33},
                {"destination": {"host": "reviews", "subset": "v3"}, "weight": 33},
            ]
        }
    ],
}


def reviews_rates(page: Any, live_server: Any) -> dict[str, float]:
    """Requests per second into each version of reviews, read from the graph API as the graph page reads it."""
    answer = page.request.get(
        f"{live_server.url}/api/v1/graph?namespaces=bookinfo&graphType=versionedApp&duration=60s&cluster=bookinfo"
    )
    assert answer.ok, answer.text()
    graph = answer.json()
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    rates: dict[str, float] = {}
    for edge in graph["elements"]["edges"]:
        target = nodes[edge["data"]["target"]]
        if target.get("app") == "reviews" and target.get("version"):
            http = float(edge["data"].get("traffic", {}).get("rates", {}).get("http", 0) or 0)
            rates[target["version"]] = rates.get(target["version"], 0.0) + http
    return rates


def test_a_weight_change_saved_in_the_admin_is_followed_by_the_traffic(routed, live_server, editor_page):
    from inventory.models import IstioObject
    from inventory.sync import sync_cluster

    sim = routed
    current = sim.custom.get_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews"
    )
    current["spec"] = SPLIT
    sim.custom.replace_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews", current
    )
    sync_cluster(sim.cluster.pk)
    take_live_snapshot(sim, sim.cluster, 60)
    page = editor_page
    before = reviews_rates(page, live_server)
    assert before.get("v2", 0) > 0 and before.get("v3", 0) > 0, before

    row = IstioObject.objects.get(cluster=sim.cluster, kind="VirtualService", name="reviews")
    page.goto(f"{live_server.url}/admin/istio_config/virtualserviceobject/{row.pk}/change/")
    assert page.input_value("#id_route-0-dest1_subset") == "v2"
    page.fill("#id_route-0-dest0_weight", "100")
    page.fill("#id_route-0-dest1_weight", "0")
    page.fill("#id_route-0-dest2_weight", "0")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state("load")

    assert "was changed successfully" in page.locator(".messagelist").inner_text(), page.content()[:3000]
    written = sim.custom.get_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews"
    )
    assert [r["weight"] for r in written["spec"]["http"][0]["route"]] == [100, 0, 0]
    # A minute of traffic after the save: the graph shows reviews v2 and v3 receiving nothing.
    take_live_snapshot(sim, sim.cluster, 60)
    after = reviews_rates(page, live_server)
    assert after.get("v1", 0) > 0, after
    assert after.get("v2", 0) == 0 and after.get("v3", 0) == 0, after


def test_two_admin_tabs_saving_the_same_route_conflict_and_the_second_rebases(
    routed, live_server, editor_page, second_editor_page
):
    from inventory.models import IstioObject

    row = IstioObject.objects.get(cluster=routed.cluster, kind="VirtualService", name="reviews")
    url = f"{live_server.url}/admin/istio_config/virtualserviceobject/{row.pk}/change/"
    first, second = editor_page, second_editor_page
    first.goto(url)
    second.goto(url)
    assert not second.locator("#id_rebase").is_visible()  # offered only after a conflict

    first.fill("#id_route-0-timeout", "5s")
    first.locator("input[name=_save]").click()
    first.wait_for_load_state("load")
    assert "was changed successfully" in first.locator(".messagelist").inner_text()

    second.fill("#id_route-0-dest0_subset", "v3")
    second.locator("input[name=_continue]").click()
    second.wait_for_load_state("load")
    conflict = second.locator("[data-conflict]")
    assert conflict.is_visible()
    assert "+    timeout: 5s" in conflict.locator("[data-conflict-diff='1']").inner_text()
    assert "+        subset: v3" in conflict.locator("[data-conflict-diff='2']").inner_text()
    assert second.input_value("#id_route-0-dest0_subset") == "v3"  # the values typed are kept
    written = routed.custom.get_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews"
    )
    assert written["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v1"

    second.check("#id_rebase")
    second.locator("input[name=_continue]").click()
    second.wait_for_load_state("load")
    assert "was changed successfully" in second.locator(".messagelist").inner_text()
    written = routed.custom.get_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews"
    )
    assert written["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v3"
