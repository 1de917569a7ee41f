"""Istio's Bookinfo traffic-management tasks, followed with the real ``kubectl`` and Istio's own sample files.

In the Istio docs' order: request routing (all traffic to v1, then jason to v2), traffic shifting (50/50 v1/v3, then
all to v3), fault injection (a 7 s delay, then an abort, for jason on ratings), and the clean-up with
``kubectl delete -f``. After each step the simulator's traffic engine (advanced by hand, so each step takes well
under a second) must produce the telemetry the Istio docs describe, read from its Istio-standard metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import Simulator
from simulator.metrics import MetricsSnapshot
from tests.simulator.kubectl_support import SAMPLES, Kubectl, find_kubectl

REQUESTS = "istio_requests_total"
DURATION = "istio_request_duration_milliseconds"
SECONDS_PER_STEP = 10.0  # 1000 user requests at 100 rps


@pytest.fixture(scope="module")
def bookinfo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, Kubectl]]:
    binary = find_kubectl()
    sim = Simulator(namespace="bookinfo", traffic=True, traffic_autostart=False, rps=100.0).start(port=0)
    tmp = tmp_path_factory.mktemp("kubectl")
    try:
        yield sim, Kubectl(binary, sim.write_kubeconfig(tmp / "kubeconfig"), tmp / "cache")
    finally:
        sim.stop()


class Traffic:
    """The requests one stretch of simulated traffic adds, per edge (a difference of two metric snapshots)."""

    def __init__(self, before: MetricsSnapshot, after: MetricsSnapshot) -> None:
        self.before, self.after = before, after

    def requests(self, reporter: str = "destination", **labels: str) -> float:
        return self.after.counter_total(REQUESTS, reporter=reporter, **labels) - self.before.counter_total(
            REQUESTS, reporter=reporter, **labels
        )

    def mean_duration_ms(self, **labels: str) -> float:
        count = self.after.histogram_count(DURATION, **labels) - self.before.histogram_count(DURATION, **labels)
        total = self.after.histogram_sum(DURATION, **labels) - self.before.histogram_sum(DURATION, **labels)
        return total / count if count else 0.0

    def reviews(self) -> dict[str, float]:
        """Requests from productpage to each reviews version."""
        return {
            v: self.requests(source_workload="productpage-v1", destination_workload=f"reviews-{v}")
            for v in ("v1", "v2", "v3")
        }


def run_traffic(sim: Simulator, jason_share: float) -> Traffic:
    """Advance the traffic engine by :data:`SECONDS_PER_STEP` with this share of users logged in as jason."""
    engine = sim.traffic
    assert engine is not None
    engine.set_load(jason_share=jason_share)
    before = engine.counters()
    engine.step(SECONDS_PER_STEP)
    return Traffic(before, engine.counters())


def apply(kubectl: Kubectl, *files: str) -> str:
    """``kubectl apply -f`` each sample file in the bookinfo namespace, as the Istio docs do."""
    return "".join(kubectl("apply", "-n", "bookinfo", "-f", str(SAMPLES / name)) for name in files)


def test_the_sample_files_are_istios_unchanged() -> None:
    """The learner's copies are Istio's files as the validation tests' Istio dataset holds them, byte for byte."""
    istio_dataset = Path(__file__).resolve().parents[1] / "data" / "istio" / "bookinfo"
    samples = sorted(SAMPLES.glob("*.yaml"))
    assert len(samples) == 14
    for sample in samples:
        assert sample.read_bytes() == (istio_dataset / sample.name).read_bytes(), sample.name


def test_bookinfo_tasks_with_kubectl(bookinfo: tuple[Simulator, Kubectl]) -> None:
    sim, kubectl = bookinfo

    # Without routing rules the reviews service balances over its three versions.
    split = run_traffic(sim, jason_share=0.1).reviews()
    assert all(count > 200 for count in split.values()), split

    # Request routing, step 1: every request to v1 (and v1 never calls ratings).
    out = apply(kubectl, "destination-rule-all.yaml", "virtual-service-all-v1.yaml")
    assert "destinationrule.networking.istio.io/reviews created" in out
    assert "virtualservice.networking.istio.io/reviews created" in out
    traffic = run_traffic(sim, jason_share=0.5)
    assert traffic.reviews() == {"v1": 1000, "v2": 0, "v3": 0}
    assert traffic.requests(destination_workload="ratings-v1") == 0

    # Request routing, step 2: jason to v2, everybody else still to v1.
    assert "virtualservice.networking.istio.io/reviews configured" in apply(
        kubectl, "virtual-service-reviews-test-v2.yaml"
    )
    assert run_traffic(sim, jason_share=1.0).reviews() == {"v1": 0, "v2": 1000, "v3": 0}
    assert run_traffic(sim, jason_share=0.0).reviews() == {"v1": 1000, "v2": 0, "v3": 0}

    # Traffic shifting: 50/50 between v1 and v3, for everyone, then all to v3.
    apply(kubectl, "virtual-service-reviews-50-v3.yaml")
    split = run_traffic(sim, jason_share=0.5).reviews()
    assert split["v2"] == 0 and split["v1"] + split["v3"] == 1000
    assert 400 <= split["v1"] <= 600, split
    apply(kubectl, "virtual-service-reviews-v3.yaml")
    traffic = run_traffic(sim, jason_share=0.5)
    assert traffic.reviews() == {"v1": 0, "v2": 0, "v3": 1000}
    assert traffic.requests(source_workload="reviews-v3", destination_workload="ratings-v1") == 1000

    # Fault injection starts from request routing's rules: jason on v2, the others on v1.
    apply(kubectl, "virtual-service-all-v1.yaml", "virtual-service-reviews-test-v2.yaml")
    apply(kubectl, "virtual-service-ratings-test-delay.yaml")
    delayed = run_traffic(sim, jason_share=1.0)
    # As the docs explain: productpage gives reviews 3 s and one retry, so jason's page loses its reviews (every
    # call from productpage to reviews-v2 is cut short, twice per page) while ratings answers after the 7 s delay.
    assert delayed.reviews() == {"v1": 0, "v2": 2000, "v3": 0}
    to_reviews = {"source_workload": "productpage-v1", "destination_workload": "reviews-v2"}
    assert delayed.requests(reporter="source", response_code="0", response_flags="DC", **to_reviews) == 2000
    ratings_for_jason = {"reporter": "source", "source_workload": "reviews-v2", "destination_workload": "ratings-v1"}
    assert delayed.requests(response_flags="DI", **ratings_for_jason) == 2000
    assert delayed.mean_duration_ms(**ratings_for_jason) >= 7000
    others = run_traffic(sim, jason_share=0.0)
    assert others.requests(destination_workload="ratings-v1") == 0  # v1 never calls ratings: no delay to see

    apply(kubectl, "virtual-service-ratings-test-abort.yaml")
    aborted = run_traffic(sim, jason_share=1.0)
    # The abort is answered by reviews-v2's own sidecar, before any ratings workload is picked: the calls are
    # reported by the source alone, to the ratings service, all 500 with the fault-injected flag.
    to_ratings = {"source_workload": "reviews-v2", "destination_service_name": "ratings"}
    calls = aborted.requests(reporter="source", **to_ratings)
    assert calls >= 1000
    assert aborted.requests(reporter="source", response_code="500", response_flags="FI", **to_ratings) == calls
    assert aborted.requests(destination_workload="ratings-v1") == 0

    # Clean-up, as the docs end each task: back to round robin over the three versions.
    out = kubectl("delete", "-n", "bookinfo", "-f", str(SAMPLES / "virtual-service-all-v1.yaml"))
    assert 'virtualservice.networking.istio.io "ratings" deleted' in out
    kubectl("delete", "-n", "bookinfo", "-f", str(SAMPLES / "destination-rule-all.yaml"))
    assert kubectl("get", "virtualservices", "-n", "bookinfo", "-o", "name").split() == [
        "virtualservice.networking.istio.io/bookinfo"
    ]
    assert kubectl("get", "destinationrules", "-n", "bookinfo", "-o", "name") == ""
    split = run_traffic(sim, jason_share=0.5).reviews()
    assert all(count > 200 for count in split.values()), split
