"""Bookinfo mesh simulator: a small in-process Kubernetes API server for demos and tests.

The product never imports this package; the demo launcher and the tests do::

    sim = Simulator(namespace="bookinfo").start(port=0)
    sim.write_kubeconfig("var/simulator.kubeconfig")
    ...
    sim.stop()
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.bookinfo import load_bookinfo
from simulator.controller import Controller
from simulator.faults import Faults
from simulator.kubeconfig import write_kubeconfig
from simulator.server import ApiServer, RouteHandler
from simulator.store import ObjectStore

__all__ = ["Faults", "ObjectStore", "Simulator"]


class Simulator:
    """Store + controller + API server, seeded with the Istio control plane and Bookinfo."""

    def __init__(
        self, namespace: str = "bookinfo", seed: int = 1, with_bookinfo: bool = True, bookmark_interval: float = 1.0
    ) -> None:
        self.namespace = namespace
        self.store = ObjectStore()
        self.controller = Controller(self.store, seed=seed)
        self.faults = Faults()
        self.api = ApiServer(self.store, self.controller, self.faults, bookmark_interval=bookmark_interval)
        self.host = "127.0.0.1"
        self.port = 0
        if with_bookinfo:
            load_bookinfo(self.store, namespace)
            self.controller.reconcile()

    @property
    def url(self) -> str:
        """Base URL of the API server (valid after :meth:`start`)."""
        return f"http://{self.host}:{self.port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        """Serve the API in background threads and start the controller loop; returns self."""
        self.host, self.port = self.api.start(host, port)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop the API server (closing watches) and the controller."""
        self.api.stop()
        self.controller.stop()

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

    def drop_watches(self) -> None:
        """Close every open watch stream (clients are expected to reconnect)."""
        self.api.drop_watches()

    def add_route(self, path: str, handler: RouteHandler) -> None:
        """Serve ``GET path`` from ``handler() -> (status, content_type, body)`` (e.g. ``/metrics``)."""
        self.api.add_route(path, handler)
