"""Bookinfo mesh simulator: a small in-process Kubernetes API server for demos and tests.

The product never imports this package; the demo launcher and the tests do::

    sim = Simulator(namespace="bookinfo", traffic=True).start(port=0)
    sim.write_kubeconfig("var/simulator.kubeconfig")
    ...  # Kubernetes API at sim.url, sidecar metrics at sim.url + "/metrics"
    sim.stop()

With ``traffic=True`` a :class:`~simulator.traffic.TrafficEngine` reads the live store on every tick
(so routing applied through the API changes traffic on the next tick) and the server also answers
the endpoints of :mod:`simulator.traffic_api`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from simulator.bookinfo import load_bookinfo
from simulator.controller import Controller
from simulator.fault_api import FaultApi
from simulator.faults import Faults
from simulator.kubeconfig import write_kubeconfig
from simulator.resources import GATEWAY_API_GROUP, RESOURCE_TYPES, Obj
from simulator.scenarios import install_scenarios
from simulator.server import ApiServer, RouteHandler
from simulator.store import ObjectStore
from simulator.traffic import TrafficEngine
from simulator.traffic_api import METRICS_PREFIX, SIMULATOR_API_PREFIX, TrafficApi

__all__ = ["Faults", "ObjectStore", "Simulator", "TrafficEngine"]

FAULTS_PREFIX = SIMULATOR_API_PREFIX + "/faults"
#: How long an outage waits before stopping, so the control request that asked for it gets its answer.
OUTAGE_ANSWER_GRACE_SECONDS = 0.2

# The first group serving a plural: "gateways" is Istio's Gateway, which the traffic engine reads (the Gateway
# API's gateways come later in the catalogue).
_GROUP_OF_PLURAL: dict[str, str] = {}
for _rt in RESOURCE_TYPES:
    _GROUP_OF_PLURAL.setdefault(_rt.plural, _rt.group)


class Simulator:
    """Store + controller + API server (+ optional traffic), seeded with the Istio control plane and Bookinfo.

    ``traffic_autostart=False`` creates the engine on :meth:`start` without its background thread,
    so tests advance it deterministically with ``sim.traffic.step(seconds)``. ``gateway_api=False`` simulates a
    cluster without the Kubernetes Gateway API CRDs (their lists answer 404).
    """

    def __init__(
        self,
        namespace: str = "bookinfo",
        seed: int = 1,
        with_bookinfo: bool = True,
        bookmark_interval: float = 1.0,
        *,
        traffic: bool = False,
        rps: float = 10.0,
        traffic_seed: int | None = None,
        traffic_autostart: bool = True,
        traffic_tick: float = 1.0,
        gateway_api: bool = True,
        scenarios: Sequence[str] = (),
    ) -> None:
        self.namespace = namespace
        self.store = ObjectStore()
        self.controller = Controller(self.store, seed=seed)
        self.faults = Faults()
        self.api = ApiServer(self.store, self.controller, self.faults, bookmark_interval=bookmark_interval)
        self.host = "127.0.0.1"
        self.port = 0
        self.traffic_enabled = traffic
        self.traffic: TrafficEngine | None = None
        self._rps = rps
        self._traffic_seed = seed if traffic_seed is None else traffic_seed
        self._traffic_autostart = traffic_autostart
        self._traffic_tick = traffic_tick
        self._outage_lock = threading.Lock()
        traffic_api = TrafficApi(lambda: self.traffic, self.read_objects)
        fault_api = FaultApi(self.faults, self.api.expire_watches, self.drop_watches, self.outage)
        # Mounted before SIMULATOR_API_PREFIX: the first mount whose prefix matches answers.
        self.api.mount(FAULTS_PREFIX, fault_api.handle)
        self.api.mount(METRICS_PREFIX, fault_api.guard_metrics(traffic_api.handle_metrics))
        self.api.mount(SIMULATOR_API_PREFIX, traffic_api.handle_simulator)
        if with_bookinfo:
            load_bookinfo(self.store, namespace)
            self.controller.reconcile()
        if not gateway_api:
            self.remove_crds(GATEWAY_API_GROUP)
        #: The opt-in demo scenarios (``simulator.scenarios``); their objects are in the store from the start.
        self.scenarios = install_scenarios(self.store, scenarios, namespace)
        if self.scenarios:
            self.controller.reconcile()

    @property
    def url(self) -> str:
        """Base URL of the API server (valid after :meth:`start`)."""
        return f"http://{self.host}:{self.port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        """Serve the API in background threads, start the controller loop and the traffic; returns self."""
        if self.traffic_enabled and self.traffic is None:
            self.traffic = TrafficEngine(self.read_objects, self.namespace, seed=self._traffic_seed, rps=self._rps)
            self.traffic.scenario_traffic += [scenario.record for scenario in self.scenarios]
        self.host, self.port = self.api.start(host, port)
        self.controller.start()
        if self.traffic is not None and self._traffic_autostart:
            self.traffic.start_background(tick=self._traffic_tick)
        return self

    def stop(self) -> None:
        """Stop the traffic, the API server (closing watches) and the controller; ``traffic`` stays readable."""
        if self.traffic is not None:
            self.traffic.stop()
        self.api.stop()
        self.controller.stop()

    def read_objects(self, plural: str) -> list[Obj]:
        """Every stored object of ``plural`` in all namespaces (shared, read-only: the store replaces, never edits)."""
        group = _GROUP_OF_PLURAL.get(plural)
        if group is None:
            return []
        return self.store.list_refs(group, plural)[0]

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        context: str = "simulator",
        namespace: str = "default",
        token: str | None = None,
    ) -> Path:
        """Write a kubeconfig for this simulator (plain HTTP, no auth unless ``token``)."""
        return write_kubeconfig(path, self.url, context=context, namespace=namespace, token=token)

    def remove_crds(self, group: str) -> None:
        """Uninstall the CRDs of an API group, as ``kubectl delete crd`` would: their objects go, their resources
        answer 404 and discovery no longer lists them."""
        for rt in RESOURCE_TYPES:
            if rt.group == group:
                for obj in list(self.store.list_refs(rt.group, rt.plural)[0]):
                    meta = obj["metadata"]
                    self.store.delete(rt.group, rt.plural, meta.get("namespace"), meta["name"])
        self.api.uninstalled_groups.add(group)
        self.drop_watches()  # open watches end, as when a CRD goes; their clients' next watch gets the 404

    def install_crds(self, group: str) -> None:
        """Install the CRDs of an API group removed by :meth:`remove_crds` (empty, as after ``kubectl apply``)."""
        self.api.uninstalled_groups.discard(group)

    def drop_watches(self) -> None:
        """Close every open watch stream (clients are expected to reconnect)."""
        self.api.drop_watches()

    def expire_watches(self, plural: str) -> None:
        """End every open watch of ``plural`` with 410 Gone (its clients must relist it)."""
        self.api.expire_watches(plural)

    def outage(self, seconds: float) -> None:
        """Take the API server down for ``seconds``, then serve again on the same port with the same objects.

        Returns at once (the control request that asks for it still gets its answer): a background thread stops
        the server, hanging up every connection, and restarts it. The controller and the traffic keep running, as
        an API server restart over a kept etcd would leave them.
        """
        threading.Thread(target=self._serve_after_outage, args=(seconds,), name="simulator-outage", daemon=True).start()

    def _serve_after_outage(self, seconds: float) -> None:
        with self._outage_lock:
            time.sleep(OUTAGE_ANSWER_GRACE_SECONDS)
            self.api.stop()
            time.sleep(seconds)
            self.api.start(self.host, self.port)

    def add_route(self, path: str, handler: RouteHandler) -> None:
        """Serve ``GET path`` from ``handler() -> (status, content_type, body)`` (e.g. ``/metrics``)."""
        self.api.add_route(path, handler)
