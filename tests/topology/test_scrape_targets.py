"""The verdict on Prometheus' ``up`` rows: lost telemetry only when every target of the mesh's jobs is unusable."""

from __future__ import annotations

from topology.telemetry.targets import TARGETS_DOWN, build_target_states, check_scrape_targets

SELECTOR = 'job="envoy-stats"'


def _row(instance: str, value: float, job: str = "envoy-stats") -> dict[str, object]:
    return {"metric": {"job": job, "instance": instance}, "value": [1700000000.0, str(value)]}


def _check(up: dict[str, float], scrapes: dict[str, float]) -> str | None:
    targets = build_target_states(
        [_row(name, value) for name, value in up.items()], [_row(name, value) for name, value in scrapes.items()]
    )
    return check_scrape_targets(targets, SELECTOR, 60)


def test_it_says_nothing_while_one_target_is_usable():
    assert _check({"a:15090": 0, "b:15090": 1}, {"a:15090": 0, "b:15090": 12}) is None


def test_it_names_the_down_targets_when_all_are_down():
    lost = _check({"a:15090": 0, "b:15090": 0}, {"a:15090": 5, "b:15090": 0})
    assert lost is not None and lost.startswith(f"{TARGETS_DOWN} ({{{SELECTOR}}}): 2 of 2 target(s) down")
    assert "envoy-stats a:15090, envoy-stats b:15090" in lost


def test_a_target_back_but_scraped_once_is_not_usable_yet():
    lost = _check({"a:15090": 1}, {"a:15090": 1})
    assert lost is not None and "not yet scraped twice within 60 s" in lost
    assert _check({"a:15090": 1}, {"a:15090": 2}) is None


def test_no_matching_target_says_nothing():
    assert check_scrape_targets([], SELECTOR, 60) is None


def test_it_names_three_targets_and_counts_the_rest():
    up = {f"p{i}:15090": 0.0 for i in range(5)}
    lost = _check(up, {})
    assert lost is not None and lost.endswith("envoy-stats p2:15090 and 2 more")


def test_a_missing_scrape_count_counts_as_none():
    assert _check({"a:15090": 1}, {}) is not None
