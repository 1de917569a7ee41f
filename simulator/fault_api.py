"""HTTP control surface of the simulator's fault injection, mounted at ``/simulator/v1/faults``.

- ``GET /simulator/v1/faults``: the injected faults (``forbidden`` plurals, ``latency_seconds``, ``metrics_down``);
  ``PUT`` replaces the fields it names; ``DELETE`` clears them all. ``metrics_down`` makes ``/metrics`` answer 503
  (:meth:`FaultApi.guard_metrics`): Prometheus then records ``up == 0`` for the mesh's target.
- ``POST /simulator/v1/faults/expire-watches`` ``{"plural": "pods"}``: every open watch of that resource ends with
  410 Gone, as after an etcd compaction (clients must relist it); other resources' watches go on.
- ``POST /simulator/v1/faults/drop-watches``: every open watch stream is closed (clients reconnect).
- ``POST /simulator/v1/faults/outage`` ``{"seconds": 5}``: the API server stops listening and hangs up every
  connection, then comes back on the same port with the same objects, as a restarted API server over a kept etcd.

Bad input answers 400 with ``{"error": message}``. The validators are pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from simulator.faults import Faults
from simulator.resources import RESOURCE_TYPES

JSON_CONTENT_TYPE = "application/json"
MAX_LATENCY_SECONDS = 600.0
MAX_OUTAGE_SECONDS = 600.0
PLURALS = frozenset(rt.plural for rt in RESOURCE_TYPES)

Response = tuple[int, str, bytes]


class FaultInputError(ValueError):
    """A request the fault control surface refuses (answered with 400 and this message)."""


def _json(status: int, payload: Any) -> Response:
    return status, JSON_CONTENT_TYPE, json.dumps(payload, separators=(",", ":")).encode()


def _object(body: bytes, allowed: tuple[str, ...]) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise FaultInputError(f"the request body is not valid JSON: {error}") from error
    if not isinstance(payload, dict):
        raise FaultInputError(f"the request body must be a JSON object with: {', '.join(allowed)}")
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise FaultInputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return payload


def _seconds(name: str, value: Any, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise FaultInputError(f"{name} must be a number of seconds between 0 and {high:g}, got {json.dumps(value)}")
    return float(value)


def _plural(value: Any) -> str:
    if not isinstance(value, str) or value not in PLURALS:
        raise FaultInputError(f"unknown resource {json.dumps(value)}; known: {', '.join(sorted(PLURALS))}")
    return value


def parse_faults_update(body: bytes) -> dict[str, Any]:
    """The validated fields of a ``PUT /simulator/v1/faults`` body (``forbidden``, ``latency_seconds``,
    ``metrics_down``)."""
    payload = _object(body, ("forbidden", "latency_seconds", "metrics_down"))
    update: dict[str, Any] = {}
    if "forbidden" in payload:
        if not isinstance(payload["forbidden"], list):
            raise FaultInputError("forbidden must be a list of resource plurals")
        update["forbidden"] = sorted({_plural(plural) for plural in payload["forbidden"]})
    if "latency_seconds" in payload:
        update["latency_seconds"] = _seconds("latency_seconds", payload["latency_seconds"], MAX_LATENCY_SECONDS)
    if "metrics_down" in payload:
        if not isinstance(payload["metrics_down"], bool):
            raise FaultInputError(f"metrics_down must be true or false, got {json.dumps(payload['metrics_down'])}")
        update["metrics_down"] = payload["metrics_down"]
    return update


def parse_plural(body: bytes) -> str:
    """The ``plural`` of an ``expire-watches`` body."""
    payload = _object(body, ("plural",))
    return _plural(payload.get("plural"))


def parse_outage(body: bytes) -> float:
    """The ``seconds`` of an ``outage`` body."""
    payload = _object(body, ("seconds",))
    return _seconds("seconds", payload.get("seconds"), MAX_OUTAGE_SECONDS)


class FaultApi:
    """The mount handler; the watch actions and the outage are the server's, given as callables."""

    def __init__(
        self,
        faults: Faults,
        expire_watches: Callable[[str], None],
        drop_watches: Callable[[], None],
        outage: Callable[[float], None],
    ) -> None:
        self.faults = faults
        self._expire_watches, self._drop_watches, self._outage = expire_watches, drop_watches, outage

    def state(self) -> dict[str, Any]:
        return {
            "forbidden": self.faults.forbidden,
            "latency_seconds": self.faults.latency,
            "metrics_down": self.faults.metrics_down,
        }

    def guard_metrics(self, handler: Callable[[str, str, bytes], Response]) -> Callable[[str, str, bytes], Response]:
        """``handler`` (the ``/metrics`` mount), answering 503 instead while the metrics endpoint is down."""

        def guarded(method: str, subpath: str, body: bytes) -> Response:
            if self.faults.metrics_down:
                return _json(503, {"error": "the metrics endpoint is down (fault injected: metrics_down)"})
            return handler(method, subpath, body)

        return guarded

    def handle(self, method: str, subpath: str, body: bytes) -> Response:
        """Everything below ``/simulator/v1/faults``."""
        try:
            action = subpath.strip("/")
            if not action:
                return self._faults(method, body)
            if method != "POST":
                return _json(405, {"error": f"method {method} is not allowed on faults/{action}"})
            if action == "expire-watches":
                plural = parse_plural(body)
                self._expire_watches(plural)
                return _json(200, {"expired": plural})
            if action == "drop-watches":
                self._drop_watches()
                return _json(200, {"dropped": True})
            if action == "outage":
                seconds = parse_outage(body)
                self._outage(seconds)
                return _json(200, {"down_for_seconds": seconds})
            return _json(404, {"error": f"no such fault action: {action}"})
        except FaultInputError as error:
            return _json(400, {"error": str(error)})

    def _faults(self, method: str, body: bytes) -> Response:
        if method == "PUT":
            update = parse_faults_update(body)
            if "forbidden" in update:
                for plural in self.faults.forbidden:
                    self.faults.unforbid(plural)
                for plural in update["forbidden"]:
                    self.faults.forbid(plural)
            if "latency_seconds" in update:
                self.faults.latency = update["latency_seconds"]
            if "metrics_down" in update:
                self.faults.metrics_down = update["metrics_down"]
        elif method == "DELETE":
            self.faults.clear()
        elif method != "GET":
            return _json(405, {"error": f"method {method} is not allowed on faults"})
        return _json(200, self.state())
