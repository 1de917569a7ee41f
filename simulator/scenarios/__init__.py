"""Opt-in demo scenarios: traffic the graph must get right, next to the Bookinfo default (which they leave as is).

``python -m simulator serve --scenario ambient,egress`` (or ``all``; the demo: ``MESH_UI_SCENARIO=ambient make
demo``) installs the scenarios' objects in the store and adds their telemetry to every traffic step:

- ``no-sidecar``: workloads without a sidecar, as caller and as destination;
- ``egress``: an external service through a ServiceEntry and the egress gateway;
- ``unknown-host``: a ``404 NR`` to an unknown host, a raw IP through ``PassthroughCluster``;
- ``aborted``: requests that ended before a response (``response_code="0"``, ``DC`` / ``URX``);
- ``ambient``: an ambient namespace with ztunnel (L4) and a waypoint (L7);
- ``east-west``: a second cluster of the same mesh.

The definitions are in :mod:`simulator.scenarios.catalog`, the reporting in :mod:`simulator.scenarios.flows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.errors import StoreError
from simulator.metrics import MetricsRegistry
from simulator.resources import Obj
from simulator.scenarios.catalog import CATALOG
from simulator.scenarios.flows import Flow
from simulator.store import ObjectStore

SCENARIO_NAMES: tuple[str, ...] = tuple(CATALOG)


@dataclass
class Scenario:
    """One installed scenario: its name, objects and flows."""

    name: str
    objects: list[Obj]
    flows: list[Flow]

    def record(self, registry: MetricsRegistry, seconds: float) -> None:
        """Add ``seconds`` of the scenario's traffic to the proxies' series."""
        for flow in self.flows:
            flow.record(registry, seconds)


def parse_scenario_names(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"ambient,egress"``, ``"all"`` or a list of names -> the names, checked (ValueError names the valid ones)."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part == "all":
            names += [name for name in SCENARIO_NAMES if name not in names]
        elif part in CATALOG:
            if part not in names:
                names.append(part)
        else:
            raise ValueError(f"unknown scenario {part!r}; choose from {', '.join(SCENARIO_NAMES)} or all")
    return tuple(names)


def build_scenarios(names: str | Sequence[str], namespace: str = "bookinfo") -> list[Scenario]:
    """The scenarios named, built for the Bookinfo ``namespace`` (not installed)."""
    return [Scenario(name, *CATALOG[name](namespace)) for name in parse_scenario_names(names)]


def install_scenarios(store: ObjectStore, names: str | Sequence[str], namespace: str = "bookinfo") -> list[Scenario]:
    """Build the scenarios and create their objects in ``store`` (an object that exists already is kept)."""
    scenarios = build_scenarios(names, namespace)
    for scenario in scenarios:
        for obj in scenario.objects:
            try:
                store.create(obj)
            except StoreError:
                continue  # already there (two scenarios sharing an object), or its API group is uninstalled
    return scenarios


__all__ = ["SCENARIO_NAMES", "Scenario", "build_scenarios", "install_scenarios", "parse_scenario_names"]
