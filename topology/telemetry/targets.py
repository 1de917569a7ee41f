"""Is Prometheus still scraping the mesh? The verdict on the ``up`` rows of the scrape jobs mesh-ui relies on.

When the mesh's metrics endpoints stop answering, Prometheus marks their series stale and every rate comes back
empty: a graph built then has no nodes although the mesh still carries traffic. A snapshot therefore first asks
for two things per target of the configured jobs (``MESH_UI_PROMETHEUS_TARGET_SELECTOR``): ``up`` now, and the
number of successful scrapes within the shortest window (``sum_over_time(up[...])``, since ``rate()`` needs two
samples). When *every* target is down, or has come back but has not yet been scraped twice within the window, the
telemetry is lost: :func:`check_scrape_targets` says why, and the snapshot is not taken (the last one with traffic
stays served, marked stale with that reason). Some targets down is ordinary churn (a pod crash-looping) and
builds the graph from those that answer; no target matching at all says nothing (a selector that fits another
Prometheus layout) and builds it too. Pure: no I/O, no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: How every lost-telemetry error begins: readers that may not see error texts are told only this much.
TARGETS_DOWN = "Prometheus cannot scrape the mesh"
#: Targets named in the error text at most (a mesh has one per pod).
NAMED_TARGETS = 3


@dataclass(frozen=True)
class TargetState:
    """One scrape target: its job and instance, ``up`` now, and its successful scrapes within the window."""

    job: str
    instance: str
    up: bool
    scrapes_in_window: float

    @property
    def usable(self) -> bool:
        """Up now, and scraped often enough within the window for ``rate()`` to give a value."""
        return self.up and self.scrapes_in_window >= 2

    @property
    def label(self) -> str:
        return f"{self.job} {self.instance}".strip()


def build_target_states(up_rows: Sequence[dict[str, Any]], scrape_rows: Sequence[dict[str, Any]]) -> list[TargetState]:
    """Targets from the rows of ``up{selector}`` and ``sum_over_time(up{selector}[window])`` (instant vectors)."""
    scrapes = {_key(row): _value(row) for row in scrape_rows}
    states = []
    for row in sorted(up_rows, key=_key):
        job, instance = _key(row)
        states.append(TargetState(job, instance, _value(row) == 1.0, scrapes.get((job, instance), 0.0)))
    return states


def check_scrape_targets(targets: Sequence[TargetState], selector: str, window: int) -> str | None:
    """Why the mesh's telemetry is lost, or None when at least one target is usable (or none matched at all)."""
    if not targets or any(target.usable for target in targets):
        return None
    down = [target for target in targets if not target.up]
    named = ", ".join(target.label for target in (down or targets)[:NAMED_TARGETS])
    more = len(down or targets) - NAMED_TARGETS
    named += f" and {more} more" if more > 0 else ""
    if down:
        why = f"{len(down)} of {len(targets)} target(s) down (up == 0): {named}"
    else:
        why = f"its target(s) came back but were not yet scraped twice within {window} s: {named}"
    return f"{TARGETS_DOWN} ({{{selector}}}): {why}"


def _key(row: dict[str, Any]) -> tuple[str, str]:
    metric = row.get("metric") or {}
    return str(metric.get("job", "")), str(metric.get("instance", ""))


def _value(row: dict[str, Any]) -> float:
    try:
        return float(row["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return 0.0
