"""Scraping the counters without Prometheus: fetching the exposition, parsing it, storing a scrape."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping

import pytest

from clients.metrics_scrape import (
    GRAPH_SERIES,
    ScrapeError,
    counterset_from_json,
    counterset_to_json,
    fetch_exposition,
    parse_exposition,
)
from devtools.http_stub import Answer, serving
from simulator.traffic import TrafficEngine
from tests.simulator_traffic.bookinfo_objects import FakeCluster, bookinfo
from tests.support.prometheus import find_free_port


def request_line(value: float, **labels: str) -> str:
    base = {"reporter": "destination", "source_workload": "productpage-v1", "response_code": "200", **labels}
    text = ",".join(f'{k}="{v}"' for k, v in base.items())
    return f"istio_requests_total{{{text}}} {value}"


# ------------------------------------------------------------------------------------------------ parsing


def test_parse_keeps_graph_series_and_unescapes_labels() -> None:
    text = (
        "# HELP istio_requests_total Total requests.\n"
        "# TYPE istio_requests_total counter\n"
        'istio_requests_total{a="x\\"y",b="line\\nbreak",c="back\\\\slash",d="{},= "} 12 1700000000000\n'
        "process_cpu_seconds_total 3\n"
        "# EOF\n"
    )
    parsed = parse_exposition(text, scraped_at=5.0)
    assert list(parsed.series) == ["istio_requests_total"] and parsed.scraped_at == 5.0
    assert parsed.series["istio_requests_total"] == {
        (("a", 'x"y'), ("b", "line\nbreak"), ("c", "back\\slash"), ("d", "{},= ")): 12.0
    }


def test_parse_drops_empty_label_values_like_prometheus() -> None:
    parsed = parse_exposition(request_line(3, grpc_response_status="") + "\n")
    assert parsed.get("istio_requests_total", (("reporter", "destination"),)) is None
    assert parsed.series["istio_requests_total"] == {
        (("reporter", "destination"), ("response_code", "200"), ("source_workload", "productpage-v1")): 3.0
    }


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ScrapeError, match="not the Prometheus text format"):
        parse_exposition('istio_requests_total{a="1"} 1\nistio_requests_total{a="1" 2\n')
    with pytest.raises(ScrapeError, match="not the Prometheus text format"):
        parse_exposition("istio_requests_total 1x\n")


def test_parse_keeps_only_the_graph_series_of_the_simulator_exposition() -> None:
    engine = TrafficEngine(FakeCluster(bookinfo(with_mongodb=True)).read_objects, seed=3, rps=20.0)
    engine.step(10)
    text = engine.render_metrics()
    everything = parse_exposition(text, names=None)
    graph = parse_exposition(text)
    # Bookinfo has no gRPC traffic: no message counters in its exposition.
    assert set(graph.series) == GRAPH_SERIES - {"istio_request_messages_total", "istio_response_messages_total"}
    assert {name: everything.series[name] for name in graph.series} == graph.series
    assert "istio_request_bytes_bucket" in everything.series  # read by no graph query: dropped by default
    # Every histogram's +Inf bucket equals its _count, whatever order the labels came in.
    counts = everything.series["istio_request_duration_milliseconds_count"]
    infinite = {
        tuple(pair for pair in key if pair[0] != "le"): value
        for key, value in graph.series["istio_request_duration_milliseconds_bucket"].items()
        if ("le", "+Inf") in key
    }
    assert infinite == counts and sum(counts.values()) > 0


# ------------------------------------------------------------------------------------------------ storage


def test_counterset_json_round_trip_is_compact_and_strict() -> None:
    engine = TrafficEngine(FakeCluster(bookinfo(with_mongodb=True)).read_objects, seed=5, rps=20.0)
    engine.step(10)
    text = engine.render_metrics()
    counters = parse_exposition(text, scraped_at=1700000000.5)
    counters.series.setdefault("istio_requests_total", {})[(("odd", "nan"),)] = math.nan
    encoded = json.dumps(counterset_to_json(counters), allow_nan=False, separators=(",", ":"))
    decoded = counterset_from_json(json.loads(encoded))
    assert decoded.scraped_at == 1700000000.5
    nan_key = (("odd", "nan"),)
    assert math.isnan(decoded.series["istio_requests_total"].pop(nan_key))
    counters.series["istio_requests_total"].pop(nan_key)
    assert decoded.series == counters.series
    graph_text = "\n".join(line for line in text.splitlines() if line.split("{")[0] in GRAPH_SERIES)
    assert len(encoded) < len(graph_text) / 5


def test_counterset_from_json_rejects_other_versions_and_garbage() -> None:
    with pytest.raises(ValueError, match="version"):
        counterset_from_json({"version": 99})
    with pytest.raises(ValueError, match="malformed"):
        counterset_from_json({"version": 1, "strings": [], "series": [[0, [], 1]]})


# ------------------------------------------------------------------------------------------------ fetch


@pytest.fixture
def exposition_server() -> Iterator[str]:
    def respond(path: str, headers: Mapping[str, str]) -> Answer:
        if path != "/metrics":
            return 404, "text/plain", b"not found\n"
        return 200, "text/plain; version=0.0.4; charset=utf-8", request_line(5).encode() + b"\n"

    with serving(respond) as url:
        yield url


def test_fetch_exposition_reads_the_text(exposition_server: str) -> None:
    text = fetch_exposition(f"{exposition_server}/metrics", timeout=2)
    assert parse_exposition(text).series["istio_requests_total"]


def test_fetch_exposition_errors_become_scrape_errors(exposition_server: str) -> None:
    with pytest.raises(ScrapeError, match="HTTP 404"):
        fetch_exposition(f"{exposition_server}/nope", timeout=2)
    with pytest.raises(ScrapeError, match="scraping"):
        fetch_exposition(f"http://127.0.0.1:{find_free_port()}/metrics", timeout=2)
