"""HTTP endpoints of the traffic engine, mounted on the simulator's API server beside the Kubernetes API.

- ``GET /metrics``: every sidecar's Istio series, Prometheus text format 0.0.4 (what a scrape of all
  proxies would collect); ``GET /metrics/pods/{namespace}/{pod}``: one proxy's series.
- ``GET /simulator/v1/profiles``: the effective profile of every Deployment (and configured profiles of
  workloads not deployed); ``GET|PUT|DELETE /simulator/v1/profiles/{namespace}/{workload}``: one profile.
  ``PUT`` changes only the fields it names (``error_rate``, ``error_code``, ``latency_ms``,
  ``latency_jitter``, ``response_bytes``); ``DELETE`` returns the workload to its default.
- ``GET|PUT /simulator/v1/traffic``: the load (``rps``, ``jason_share``) and engine counters.

``/simulator/v1`` is outside the Kubernetes path space (``/api``, ``/apis``, ``/version``, ...), so no
Kubernetes client ever reaches it by accident. Bad input answers 400 with ``{"error": message}``.
The validators (:func:`parse_profile_update`, :func:`parse_traffic_update`) are pure.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable
from typing import Any

from simulator.mesh_snapshot import ObjectReader, object_labels, object_name, object_namespace, object_spec
from simulator.metrics import EXPOSITION_CONTENT_TYPE
from simulator.traffic import TrafficEngine

JSON_CONTENT_TYPE = "application/json"
METRICS_PREFIX = "/metrics"
SIMULATOR_API_PREFIX = "/simulator/v1"
MAX_RPS = 1000.0

Response = tuple[int, str, bytes]
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class BadInput(ValueError):
    """A request the control surface refuses (answered with 400 and this message)."""


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- validation (pure)


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{name} must be a number, got {json.dumps(value)}")
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be an integer, got {json.dumps(value)}")
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}, got {value}")
    return value


PROFILE_FIELDS: dict[str, Callable[[str, Any], float | int]] = {
    "error_rate": lambda name, value: _number(name, value, 0.0, 1.0),
    "error_code": lambda name, value: _integer(name, value, 100, 599),
    "latency_ms": lambda name, value: _number(name, value, 0.0, 600_000.0),
    "latency_jitter": lambda name, value: _number(name, value, 0.0, 5.0),
    "response_bytes": lambda name, value: _integer(name, value, 0, 1_000_000_000),
}
TRAFFIC_FIELDS: dict[str, Callable[[str, Any], float]] = {
    "rps": lambda name, value: _number(name, value, 0.0, MAX_RPS),
    "jason_share": lambda name, value: _number(name, value, 0.0, 1.0),
}


def _parse_fields(body: bytes, fields: dict[str, Callable[[str, Any], Any]]) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadInput(f"the request body is not valid JSON: {error}") from error
    allowed = ", ".join(fields)
    if not isinstance(payload, dict) or not payload:
        raise BadInput(f"the request body must be a JSON object with at least one of: {allowed}")
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    return {name: fields[name](name, value) for name, value in payload.items()}


def parse_profile_update(body: bytes) -> dict[str, Any]:
    """The validated fields of a ``PUT .../profiles/{namespace}/{workload}`` body; raises :class:`BadInput`."""
    return _parse_fields(body, PROFILE_FIELDS)


def parse_traffic_update(body: bytes) -> dict[str, float]:
    """The validated fields of a ``PUT /simulator/v1/traffic`` body; raises :class:`BadInput`."""
    return _parse_fields(body, TRAFFIC_FIELDS)


def profile_key(namespace: str, workload: str) -> str:
    """The key a per-namespace profile is stored under in :attr:`TrafficEngine.profiles`."""
    return f"{namespace}/{workload}"


def _check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise BadInput(f"{kind} {value!r} is not a valid Kubernetes name")
    return value


# --------------------------------------------------------------------------- HTTP handlers


def _json(status: int, payload: Any) -> Response:
    return status, JSON_CONTENT_TYPE, json.dumps(payload, separators=(",", ":")).encode()


class TrafficApi:
    """The mount handlers; ``engine()`` is looked up per request since traffic starts with the server."""

    def __init__(self, engine: Callable[[], TrafficEngine | None], read_objects: ObjectReader) -> None:
        self._engine = engine
        self._read_objects = read_objects

    def _require_engine(self) -> TrafficEngine:
        engine = self._engine()
        if engine is None:
            raise _HttpError(404, "traffic is disabled on this simulator (start it with traffic enabled)")
        return engine

    def handle_metrics(self, method: str, subpath: str, body: bytes) -> Response:
        """``GET /metrics`` and ``GET /metrics/pods/{namespace}/{pod}``."""
        try:
            if method != "GET":
                raise _HttpError(405, f"method {method} is not allowed on {METRICS_PREFIX}")
            engine = self._require_engine()
            if not subpath:
                return 200, EXPOSITION_CONTENT_TYPE, engine.render_metrics().encode()
            parts = subpath.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "pods":
                raise _HttpError(404, f"no such path: {METRICS_PREFIX}{subpath}")
            namespace, pod = parts[1], parts[2]
            exists = any(
                object_namespace(obj) == namespace and object_name(obj) == pod for obj in self._read_objects("pods")
            )
            if not exists and pod not in engine.reporter_pods():
                raise _HttpError(404, f"pod {namespace}/{pod} not found")
            return 200, EXPOSITION_CONTENT_TYPE, engine.render_metrics(pod).encode()
        except _HttpError as error:
            return _json(error.status, {"error": error.message})

    def handle_simulator(self, method: str, subpath: str, body: bytes) -> Response:
        """Everything below ``/simulator/v1``."""
        try:
            parts = [part for part in subpath.split("/") if part]
            if parts == ["traffic"]:
                return self._traffic(method, body)
            if parts == ["profiles"]:
                if method != "GET":
                    raise _HttpError(405, f"method {method} is not allowed on {SIMULATOR_API_PREFIX}/profiles")
                return _json(200, {"profiles": self._all_profiles(self._require_engine())})
            if len(parts) == 3 and parts[0] == "profiles":
                return self._profile(
                    method, _check_name("namespace", parts[1]), _check_name("workload", parts[2]), body
                )
            raise _HttpError(404, f"no such path: {SIMULATOR_API_PREFIX}{subpath}")
        except BadInput as error:
            return _json(400, {"error": str(error)})
        except _HttpError as error:
            return _json(error.status, {"error": error.message})

    def _traffic(self, method: str, body: bytes) -> Response:
        engine = self._require_engine()
        if method == "PUT":
            fields = parse_traffic_update(body)
            engine.set_load(rps=fields.get("rps"), jason_share=fields.get("jason_share"))
        elif method != "GET":
            raise _HttpError(405, f"method {method} is not allowed on {SIMULATOR_API_PREFIX}/traffic")
        return _json(
            200,
            {
                "rps": engine.rps,
                "jason_share": engine.jason_share,
                "running": engine.is_running,
                "simulated_seconds": engine.simulated_seconds,
                "user_requests_sent": engine.user_requests_sent,
                "user_requests_dropped": engine.user_requests_dropped,
            },
        )

    def _profile(self, method: str, namespace: str, workload: str, body: bytes) -> Response:
        engine = self._require_engine()
        key = profile_key(namespace, workload)
        app = self._deployment_apps().get((namespace, workload), "")
        if method == "PUT":
            changes = parse_profile_update(body)
            current = engine.workload_profile(namespace, workload, app)
            engine.set_profile(key, dataclasses.replace(current, **changes))
        elif method == "DELETE":
            engine.clear_profile(key)
        elif method != "GET":
            raise _HttpError(405, f"method {method} is not allowed on a profile")
        return _json(200, self._profile_json(engine, namespace, workload, app))

    @staticmethod
    def _profile_json(engine: TrafficEngine, namespace: str, workload: str, app: str) -> dict[str, Any]:
        profile = engine.workload_profile(namespace, workload, app)
        return {
            "namespace": namespace,
            "workload": workload,
            "configured": profile_key(namespace, workload) in engine.profiles,
            **dataclasses.asdict(profile),
        }

    def _deployment_apps(self) -> dict[tuple[str, str], str]:
        """``(namespace, deployment) -> app label of its pods`` for every Deployment."""
        apps = {}
        for deployment in self._read_objects("deployments"):
            template_labels = ((object_spec(deployment).get("template") or {}).get("metadata") or {}).get("labels")
            app = (template_labels or {}).get("app") or object_labels(deployment).get("app") or ""
            apps[(object_namespace(deployment), object_name(deployment))] = str(app)
        return apps

    def _all_profiles(self, engine: TrafficEngine) -> list[dict[str, Any]]:
        apps = self._deployment_apps()
        for key in engine.profiles:
            namespace, _, workload = key.partition("/")
            if workload:
                apps.setdefault((namespace, workload), "")
        return [self._profile_json(engine, ns, workload, app) for (ns, workload), app in sorted(apps.items())]
