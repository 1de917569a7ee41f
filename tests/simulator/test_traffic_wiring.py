"""The traffic engine wired into the simulator: /metrics, routing applied through the API, the control surface."""

from __future__ import annotations

import itertools
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from simulator import Simulator, control
from simulator.__main__ import build_parser, main
from tests.support.wait import wait_until

NS = "bookinfo"
Series = tuple[tuple[str, str], ...]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """Overrides the conftest simulator: traffic on, advanced by hand with ``sim.traffic.step``."""
    simulator = Simulator(namespace=NS, seed=1, bookmark_interval=0.2, traffic=True, traffic_autostart=False)
    simulator.start(port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


def step(sim: Simulator, seconds: float) -> None:
    assert sim.traffic is not None
    sim.traffic.step(seconds)


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def put_raw(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def scrape_requests(url: str) -> dict[Series, float]:
    """``istio_requests_total`` of one scrape, keyed by the sorted label pairs of each series."""
    status, content_type, body = get(url)
    assert status == 200, body
    assert content_type.startswith("text/plain; version=0.0.4")
    series: dict[Series, float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "istio_requests_total":
                series[tuple(sorted(sample.labels.items()))] = sample.value
    return series


def total(series: dict[Series, float], **wanted: str) -> float:
    return sum(value for labels, value in series.items() if wanted.items() <= dict(labels).items())


def delta(before: dict[Series, float], after: dict[Series, float], **wanted: str) -> float:
    return total(after, **wanted) - total(before, **wanted)


def pod_of(core: client.CoreV1Api, app: str, version: str) -> str:
    pods = core.list_namespaced_pod(NS, label_selector=f"app={app},version={version}").items
    return str(pods[0].metadata.name)


ALL_V1_DESTINATION_RULE = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "DestinationRule",
    "metadata": {"name": "reviews"},
    "spec": {
        "host": "reviews",
        "subsets": [{"name": version, "labels": {"version": version}} for version in ("v1", "v2", "v3")],
    },
}
ALL_V1_VIRTUAL_SERVICE = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "reviews"},
    "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]},
}


def test_metrics_has_both_reporters_for_productpage_to_reviews(sim: Simulator) -> None:
    step(sim, 5)
    series = scrape_requests(f"{sim.url}/metrics")
    for reporter in ("source", "destination"):
        assert total(series, reporter=reporter, source_workload="productpage-v1", destination_service_name="reviews"), (
            reporter
        )


def test_pod_metrics_are_one_proxys_reports(sim: Simulator, core: client.CoreV1Api) -> None:
    step(sim, 5)
    pod = pod_of(core, "reviews", "v2")
    series = scrape_requests(f"{sim.url}/metrics/pods/{NS}/{pod}")
    assert series
    for labels in series:
        reported = dict(labels)
        side = "destination" if reported["reporter"] == "destination" else "source"
        assert reported[f"{side}_workload"] == "reviews-v2"
    assert get(f"{sim.url}/metrics/pods/{NS}/no-such-pod")[0] == 404


def test_all_v1_routing_applied_through_the_api_sends_reviews_only_to_v1(
    sim: Simulator, custom: client.CustomObjectsApi
) -> None:
    step(sim, 6)
    spread = scrape_requests(f"{sim.url}/metrics")
    for version in ("v1", "v2", "v3"):
        assert total(spread, reporter="destination", destination_workload=f"reviews-{version}"), version

    for plural, body in (("destinationrules", ALL_V1_DESTINATION_RULE), ("virtualservices", ALL_V1_VIRTUAL_SERVICE)):
        custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, plural, body)
    before = scrape_requests(f"{sim.url}/metrics")
    step(sim, 6)
    after = scrape_requests(f"{sim.url}/metrics")

    assert delta(before, after, reporter="destination", destination_workload="reviews-v1") > 0
    for version in ("v2", "v3"):
        assert delta(before, after, reporter="destination", destination_workload=f"reviews-{version}") == 0
        assert delta(before, after, reporter="source", destination_workload=f"reviews-{version}") == 0


def test_set_profile_over_http_raises_the_workloads_5xx(sim: Simulator) -> None:
    step(sim, 3)
    before = scrape_requests(f"{sim.url}/metrics")
    assert total(before, reporter="destination", destination_workload="details-v1", response_code="503") == 0

    profile = control.set_profile(sim.url, NS, "details-v1", error_rate=0.5, error_code=503, latency_ms=120)
    step(sim, 6)
    after = scrape_requests(f"{sim.url}/metrics")

    assert profile["configured"] and profile["error_rate"] == 0.5 and profile["latency_ms"] == 120
    assert delta(before, after, reporter="destination", destination_workload="details-v1", response_code="503") > 0
    assert delta(before, after, reporter="destination", destination_workload="ratings-v1", response_code="503") == 0


def test_set_profile_cli_and_reset(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", sim.url, "set-profile", NS, "ratings-v1", "--error-rate", "0.2", "--error-code", "500"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["error_rate"], shown["error_code"], shown["latency_ms"]) == (0.2, 500, 3.0)  # latency kept
    listed = {(p["namespace"], p["workload"]): p for p in control.list_profiles(sim.url)}
    assert listed[(NS, "ratings-v1")]["configured"] and not listed[(NS, "details-v1")]["configured"]
    assert control.reset_profile(sim.url, NS, "ratings-v1")["error_rate"] == 0.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error_rate": 1.5}', "error_rate must be between 0 and 1"),
        (b'{"error_rate": "high"}', "error_rate must be a number"),
        (b'{"error_code": 503.5}', "error_code must be an integer"),
        (b'{"latency_ms": -1}', "latency_ms must be between"),
        (b'{"eror_rate": 0.1}', "unknown field(s) eror_rate"),
        (b"{}", "at least one of"),
        (b"not json", "not valid JSON"),
    ],
)
def test_bad_profile_input_answers_400(sim: Simulator, body: bytes, message: str) -> None:
    status, answer = put_raw(f"{sim.url}/simulator/v1/profiles/{NS}/reviews-v1", body)
    assert status == 400
    assert message in str(answer["error"])


def test_bad_input_raises_from_the_python_client(sim: Simulator) -> None:
    with pytest.raises(control.SimulatorControlError) as raised:
        control.set_traffic(sim.url, rps=-5)
    assert raised.value.status == 400 and "rps" in raised.value.message
    with pytest.raises(control.SimulatorControlError) as raised:
        control.set_profile(sim.url, NS, "Not_A_Name", error_rate=0.1)
    assert raised.value.status == 400


def test_set_traffic_changes_the_request_rate(sim: Simulator) -> None:
    state = control.set_traffic(sim.url, rps=20, jason_share=0.5)
    assert (state["rps"], state["jason_share"]) == (20.0, 0.5)
    assert sim.traffic is not None and sim.traffic.step(2) == 40
    assert control.get_traffic(sim.url)["user_requests_sent"] == 40


def test_background_traffic_gives_monotonic_counters_to_concurrent_scrapers() -> None:
    sim = Simulator(namespace=NS, traffic=True, rps=200.0, traffic_tick=0.05).start(port=0)
    scrapes: list[dict[Series, float]] = []
    errors: list[BaseException] = []

    def scraper() -> None:
        try:
            for _ in range(5):
                scrapes.append(scrape_requests(f"{sim.url}/metrics"))
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    try:
        wait_until(lambda: sim.traffic is not None and sim.traffic.user_requests_sent > 0, "traffic has been sent")
        threads = [threading.Thread(target=scraper) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        sim.stop()
    assert not errors
    assert sim.traffic is not None and not sim.traffic.is_running and sim.traffic.user_requests_sent > 0
    ordered = sorted(scrapes, key=lambda series: total(series))
    for older, newer in itertools.pairwise(ordered):
        assert all(newer.get(labels, 0) >= value for labels, value in older.items())
        # A tick is rendered whole: each request productpage's sidecar reports was also reported by its server.
        assert total(newer, reporter="source", source_workload="productpage-v1") == total(
            newer, reporter="destination", source_workload="productpage-v1"
        )


def test_without_traffic_the_simulator_endpoints_answer_404() -> None:
    with Simulator(namespace=NS).start(port=0) as sim:
        assert sim.traffic is None
        assert get(f"{sim.url}/metrics")[0] == 404
        assert get(f"{sim.url}/simulator/v1/traffic")[0] == 404


def test_serve_flags() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).traffic is True
    args = parser.parse_args(["serve", "--no-traffic", "--rps", "5", "--seed", "3"])
    assert (args.traffic, args.rps, args.seed) == (False, 5.0, 3)
