"""Server-side printing: the ``Table`` answers ``kubectl get`` asks for.

``kubectl get`` sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io, ...`` and prints the rows the
server computes, as the API server's printers compute them: pods show NAME/READY/STATUS/RESTARTS/AGE (and
IP/NODE with ``-o wide``), services TYPE/CLUSTER-IP/EXTERNAL-IP/PORT(S), deployments READY/UP-TO-DATE/AVAILABLE.
Istio kinds use the ``additionalPrinterColumns`` of their CRDs (``simulator/data/istio-crd-printer-columns.json``,
extracted by ``scripts/extract_crd_printer_columns.py``: a VirtualService shows GATEWAYS/HOSTS/AGE); kinds without
columns (the Gateway API kinds, whose CRDs are not shipped) show NAME and AGE, as a CRD without columns does.
Each row carries the object's metadata (``includeObject=Metadata``, the default) or the whole object
(``includeObject=Object``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from simulator.media import META_API_VERSION, metadata_of
from simulator.resources import Obj, ResourceType

PRINTER_COLUMNS_FILE = Path(__file__).resolve().parent / "data" / "istio-crd-printer-columns.json"
_AGE = ("Age", "string", "", 0)
_NONE = "<none>"

Column = tuple[str, str, str, int]  # name, type, format, priority
Printer = Callable[[Obj, datetime], list[Any]]


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration``: ``45s``, ``5m3s``, ``25m``, ``3h12m``, ``2d5h``, ``40d``, ``3y``."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def age(obj: Obj, now: datetime) -> str:
    """The age of an object from its creationTimestamp (``<unknown>`` without one)."""
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    try:
        created = datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    return human_duration((now - created).total_seconds())


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _pod_status(pod: Obj) -> str:
    """The STATUS column: a waiting/terminated container's reason over the phase, ``Terminating`` when deleting."""
    status = _status(pod)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        if waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated.get("reason"):
            reason = terminated["reason"]
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_row(pod: Obj, now: datetime) -> list[Any]:
    containers = _status(pod).get("containerStatuses") or []
    total = len(_spec(pod).get("containers") or []) or len(containers)
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    return [
        f"{ready}/{total}",
        _pod_status(pod),
        restarts,
        age(pod, now),
        _status(pod).get("podIP") or _NONE,
        _spec(pod).get("nodeName") or _NONE,
        _NONE,
        _NONE,
    ]


def _service_row(service: Obj, now: datetime) -> list[Any]:
    spec = _spec(service)
    ports = ",".join(
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )
    ingress = (_status(service).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(str(i.get("ip") or i.get("hostname")) for i in ingress) or (
        "<pending>" if spec.get("type") == "LoadBalancer" else _NONE
    )
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or _NONE
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP") or _NONE, external, ports or _NONE, age(service, now),
            selector]  # fmt: skip


def _containers(obj: Obj) -> tuple[str, str]:
    containers = ((_spec(obj).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(str(c.get("name")) for c in containers), ",".join(str(c.get("image")) for c in containers)


def _selector(obj: Obj) -> str:
    labels = (_spec(obj).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or _NONE


def _deployment_row(deployment: Obj, now: datetime) -> list[Any]:
    status = _status(deployment)
    replicas = _spec(deployment).get("replicas", 1)
    names, images = _containers(deployment)
    return [f"{status.get('readyReplicas', 0)}/{replicas}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), age(deployment, now), names, images, _selector(deployment)]  # fmt: skip


def _replicaset_row(rs: Obj, now: datetime) -> list[Any]:
    status = _status(rs)
    names, images = _containers(rs)
    return [_spec(rs).get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0), age(rs, now),
            names, images, _selector(rs)]  # fmt: skip


def _statefulset_row(sts: Obj, now: datetime) -> list[Any]:
    names, images = _containers(sts)
    return [f"{_status(sts).get('readyReplicas', 0)}/{_spec(sts).get('replicas', 1)}", age(sts, now), names, images]


def _endpoints_row(endpoints: Obj, now: datetime) -> list[Any]:
    pairs = [
        f"{address.get('ip')}:{port.get('port')}"
        for subset in endpoints.get("subsets") or []
        for address in subset.get("addresses") or []
        for port in subset.get("ports") or [{}]
    ]
    shown = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")
    return [shown or _NONE, age(endpoints, now)]


_BUILT_IN: dict[str, tuple[list[Column], Printer]] = {
    "Pod": (
        [("Ready", "string", "", 0), ("Status", "string", "", 0), ("Restarts", "integer", "", 0), _AGE,
         ("IP", "string", "", 1), ("Node", "string", "", 1), ("Nominated Node", "string", "", 1),
         ("Readiness Gates", "string", "", 1)],
        _pod_row,
    ),
    "Service": (
        [("Type", "string", "", 0), ("Cluster-IP", "string", "", 0), ("External-IP", "string", "", 0),
         ("Port(s)", "string", "", 0), _AGE, ("Selector", "string", "", 1)],
        _service_row,
    ),
    "Deployment": (
        [("Ready", "string", "", 0), ("Up-to-date", "integer", "", 0), ("Available", "integer", "", 0), _AGE,
         ("Containers", "string", "", 1), ("Images", "string", "", 1), ("Selector", "string", "", 1)],
        _deployment_row,
    ),
    "ReplicaSet": (
        [("Desired", "integer", "", 0), ("Current", "integer", "", 0), ("Ready", "integer", "", 0), _AGE,
         ("Containers", "string", "", 1), ("Images", "string", "", 1), ("Selector", "string", "", 1)],
        _replicaset_row,
    ),
    "StatefulSet": (
        [("Ready", "string", "", 0), _AGE, ("Containers", "string", "", 1), ("Images", "string", "", 1)],
        _statefulset_row,
    ),
    "Namespace": ([("Status", "string", "", 0), _AGE], lambda o, now: [_status(o).get("phase", "Active"), age(o, now)]),
    "Endpoints": ([("Endpoints", "string", "", 0), _AGE], _endpoints_row),
    "ConfigMap": ([("Data", "integer", "", 0), _AGE], lambda o, now: [len(o.get("data") or {}), age(o, now)]),
    "Secret": (
        [("Type", "string", "", 0), ("Data", "integer", "", 0), _AGE],
        lambda o, now: [o.get("type", "Opaque"), len(o.get("data") or {}), age(o, now)],
    ),
}  # fmt: skip


@lru_cache(maxsize=1)
def _printer_columns() -> dict[str, Any]:
    with PRINTER_COLUMNS_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)["kinds"]
    return data


def json_path(obj: Any, path: str) -> Any:
    """The value at a simple JSONPath (``.spec.hosts``, ``.spec.mtls.mode``), None when absent."""
    for part in path.strip().lstrip(".").split("."):
        if not part:
            continue
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _cell(value: Any, column_type: str, now: datetime) -> Any:
    """A printer-column cell as the API server renders it: dates as ages, lists and maps as JSON."""
    if value is None:
        return None
    if column_type == "date":
        return age({"metadata": {"creationTimestamp": value}}, now)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return value


def _columns_and_printer(rt: ResourceType, version: str) -> tuple[list[Column], Printer]:
    if rt.kind in _BUILT_IN and rt.group in ("", "apps"):
        return _BUILT_IN[rt.kind]
    columns = _printer_columns().get(f"{rt.group}/{rt.kind}", {}).get(version) or []
    if not columns:
        return [_AGE], lambda obj, now: [age(obj, now)]
    defined = [
        (c["name"], "string" if c["type"] == "date" else c["type"], c.get("format", ""), int(c.get("priority", 0)))
        for c in columns
    ]

    def printer(obj: Obj, now: datetime) -> list[Any]:
        return [_cell(json_path(obj, c["jsonPath"]), c["type"], now) for c in columns]

    return defined, printer


def table(rt: ResourceType, version: str, objects: list[Obj], list_meta: Obj, include_object: str = "Metadata") -> Obj:
    """A ``meta.k8s.io/v1`` ``Table`` of ``objects`` of kind ``rt`` served at ``version``."""
    columns, printer = _columns_and_printer(rt, version)
    now = datetime.now(UTC)
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name of the object",
                    "priority": 0}]  # fmt: skip
    definitions += [{"name": n, "type": t, "format": f, "description": n, "priority": p} for n, t, f, p in columns]
    rows = []
    for obj in objects:
        row: Obj = {"cells": [(obj.get("metadata") or {}).get("name"), *printer(obj, now)]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = metadata_of(obj)
        rows.append(row)
    return {"kind": "Table", "apiVersion": META_API_VERSION, "metadata": list_meta, "columnDefinitions": definitions,
            "rows": rows}  # fmt: skip
