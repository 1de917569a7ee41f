"""Istio's Bookinfo traffic-management tasks, in the order the issue lists them, done with the routing wizards'
pages against the simulator with traffic: all to v1, jason to v2, 50/50 v1/v3, all to v3, a 7 s delay and then an
abort for jason on ratings, then "Remove routing" on every service. After each step the simulator's own sidecar
telemetry shows what the Istio docs describe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.test_wizard_views import JASON_FORM, apply, preview
from tests.istio_config.writes_support import sync_once, user_with_role
from tests.support.reviews_traffic import reviews_traffic

STEP_SECONDS = 60  # 20 requests/s: 1200 user requests per step


@pytest.fixture
def traffic_sim(transactional_db: None, tmp_path: Path, django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """The Bookinfo simulator with its traffic stepped by hand, as the cluster ``sim``, synced once."""
    from inventory.models import Cluster
    from simulator import Simulator

    sim = Simulator(traffic=True, traffic_autostart=False, rps=20.0).start(host="127.0.0.1", port=0)
    try:
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
        sync_once(
            Cluster.objects.create(name="sim", kubeconfig_path=str(kubeconfig)), django_capture_on_commit_callbacks
        )
        yield sim
    finally:
        sim.stop()


def step(sim: Any) -> dict[str, float]:
    """What one step of traffic adds to the counters this test reads."""

    def read() -> dict[str, float]:
        counters = sim.traffic.counters()
        found = reviews_traffic(sim)
        to_ratings = [
            c
            for c in counters.counters
            if c.name == "istio_requests_total"
            and c.labels.get("reporter") == "source"
            and c.labels.get("destination_service_name") == "ratings"
        ]
        # A caller that gives up on a delayed call reports it as "DI,DC": count every flag set holding the flag.
        for flag in ("DI", "FI"):
            found[flag] = sum(c.value for c in to_ratings if flag in c.labels.get("response_flags", "").split(","))
        found["ratings"] = sum(c.value for c in to_ratings)
        return found

    before = read()
    sim.traffic.step(STEP_SECONDS)
    after = read()
    return {key: after[key] - before[key] for key in after}


def run_wizard(client: Any, wizard: str, form: dict[str, str], service: str = "reviews") -> None:
    previewed = preview(client, wizard, form, service)
    assert all(not w.findings for w in previewed.context["plan"].writes), previewed.context["plan"].writes
    answer = apply(client, wizard, form, previewed, service=service)
    assert answer.status_code == 302, answer.content.decode()[:3000]


def share(seen: dict[str, float], version: str) -> float:
    return seen[version] / (seen["v1"] + seen["v2"] + seen["v3"])


def test_bookinfo_tasks_through_the_wizards(traffic_sim, django_user_model):
    editor = user_with_role(django_user_model, "erin", "editor", "bookinfo")
    sim = traffic_sim
    assert all(0.25 <= share(step(sim), v) <= 0.42 for v in ("v1", "v2", "v3"))

    # 1. All traffic to v1 (virtual-service-all-v1.yaml): every service routed to its v1.
    for service in ("productpage", "reviews", "ratings", "details"):
        run_wizard(editor, "request-routing", {"default_subset": "v1"}, service)
    seen = step(sim)
    assert share(seen, "v1") == 1.0 and seen["ratings"] == 0, seen  # reviews-v1 does not call ratings

    # 2. jason to v2 (virtual-service-reviews-test-v2.yaml).
    run_wizard(editor, "request-routing", JASON_FORM)
    seen = step(sim)
    assert seen["v3"] == 0 and 0.05 <= share(seen, "v2") <= 0.16, seen

    # 3. 50/50 between v1 and v3 (virtual-service-reviews-50-v3.yaml).
    run_wizard(editor, "traffic-shifting", {"weight_v1": "50", "weight_v2": "0", "weight_v3": "50"})
    seen = step(sim)
    assert seen["v2"] == 0 and 0.4 <= share(seen, "v1") <= 0.6, seen

    # 4. All to v3 (virtual-service-reviews-v3.yaml).
    run_wizard(editor, "traffic-shifting", {"weight_v1": "0", "weight_v2": "0", "weight_v3": "100"})
    seen = step(sim)
    assert share(seen, "v3") == 1.0 and seen["DI"] == 0 and seen["FI"] == 0, seen

    # 5. A 7 s delay for jason on ratings (virtual-service-ratings-test-delay.yaml).
    jason_only = {"match_field": "header", "match_name": "end-user", "match_kind": "exact", "match_value": "jason"}
    delay = {**jason_only, "delay_percent": "100", "delay": "7s", "route_subset": "v1"}
    run_wizard(editor, "fault-injection", delay, "ratings")
    seen = step(sim)
    assert 0 < seen["DI"] <= 0.3 * seen["ratings"] and seen["FI"] == 0, seen

    # 6. An abort (HTTP 500) for jason (virtual-service-ratings-test-abort.yaml).
    abort = {**jason_only, "abort_percent": "100", "abort_status": "500", "route_subset": "v1"}
    run_wizard(editor, "fault-injection", abort, "ratings")
    seen = step(sim)
    assert 0 < seen["FI"] <= 0.3 * seen["ratings"] and seen["DI"] == 0, seen

    # Clean up: Remove routing on every service; traffic spreads over the three versions again.
    for service in ("productpage", "reviews", "ratings", "details"):
        url = f"/namespaces/bookinfo/services/{service}/routing/remove/?cluster=sim"
        page = editor.get(url)
        assert len(page.context["writes"]) == 2
        assert editor.post(url, {"versions": page.context["versions"]}).status_code == 302
    seen = step(sim)
    assert all(0.25 <= share(seen, v) <= 0.42 for v in ("v1", "v2", "v3")), seen
