"""The what-if preview as the API serves it: read the proposed objects, the stored graph, the cluster's services,
workloads and routing objects, run ``topology.whatif.compute_whatif`` and shape the answer.

The proposed objects are read and checked by the write path's own parser (``istio_config.write_input``: one
object per document, a kind mesh-ui writes, the CRD schema), so an object the preview accepts is one the write
API would take. Only VirtualServices and DestinationRules change the prediction; other kinds are listed in the
notes as ignored. Nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from inventory.models import Cluster, IstioObject, Service, Workload
from istio_config.history import history_of
from istio_config.models import ConfigChange
from istio_config.write_input import ObjectRef, WriteInputError, check_identity, check_schema, read_document
from topology import reading
from topology.models import GraphSnapshot
from topology.whatif import compute_whatif
from topology.whatif_model import (
    EPSILON,
    Estimate,
    MeshInventory,
    PredictedEdge,
    ProposedChange,
    RoutingObject,
    ServiceBackend,
    WorkloadBackend,
)

ROUTING_KINDS = ("VirtualService", "DestinationRule")
ISTIO_NETWORKING = "networking.istio.io"
GRAPH_TYPE = "versionedApp"
#: At most this many objects in one preview (a wizard writes two or three).
MAX_OBJECTS = 20
#: How far back, and in how many graphs, to look for what a workload without traffic today calls.
HISTORY_LOOKBACK = timedelta(hours=1)
HISTORY_GRAPHS = 8


@dataclass
class ProposedInputError(ValueError):
    """An entry of ``objects`` that cannot be previewed: ``field`` names it (``objects.2``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Proposal:
    """The changes to preview, and the notes reading them gave (kinds that do not route, ignored)."""

    changes: tuple[ProposedChange, ...]
    notes: tuple[str, ...]


def read_proposal(entries: Sequence[Any], namespace: str) -> Proposal:
    """The changes of the body's ``objects``: YAML or JSON text (one or more documents), an object, or
    ``{"action": "delete", "kind", "name", "namespace"}``. A missing namespace is ``namespace``.

    Raises :class:`ProposedInputError` for the first entry that is not one of these, or fails the schema.
    """
    if len(entries) > MAX_OBJECTS:
        raise ProposedInputError("objects", f"give at most {MAX_OBJECTS} objects")
    changes: list[ProposedChange] = []
    notes: list[str] = []
    for index, entry in enumerate(entries):
        where = f"objects.{index}"
        if isinstance(entry, Mapping) and entry.get("action") == "delete":
            changes.append(ProposedChange("delete", _deleted(entry, namespace, where)))
            continue
        for document, text in _documents(entry, where):
            metadata = document.get("metadata")
            if isinstance(metadata, dict) and not metadata.get("namespace"):
                metadata["namespace"] = namespace
            try:
                ref = check_identity(document)
            except WriteInputError as exc:
                raise ProposedInputError(where, exc.message) from exc
            failures = check_schema(document, text)
            if failures:
                first = failures[0]
                raise ProposedInputError(where, f"{first['path'] or ref.kind}: {first['message']}")
            group = str(document.get("apiVersion", "")).rpartition("/")[0]
            if group != ISTIO_NETWORKING or ref.kind not in ROUTING_KINDS:
                notes.append(f"{ref.kind} {ref.namespace}/{ref.name} does not route requests: ignored")
                continue
            spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
            assert isinstance(spec, dict)
            changes.append(ProposedChange("apply", RoutingObject(ref.kind, ref.namespace, ref.name, spec)))
    return Proposal(tuple(changes), tuple(notes))


def _documents(entry: Any, where: str) -> list[tuple[dict[str, Any], str]]:
    """The objects of one entry with the text they were written in (for the schema's line numbers)."""
    try:
        if isinstance(entry, Mapping):
            return [(read_document(dict(entry)), "")]
        if not isinstance(entry, str):
            raise ProposedInputError(where, "give an object, its YAML or JSON text, or a delete")
        try:
            documents = [d for d in yaml.safe_load_all(entry) if d is not None]
        except yaml.YAMLError:
            read_document(entry)  # raises the write path's error, with the line
            raise
        if not documents:
            raise ProposedInputError(where, "the text holds no object")
        if len(documents) == 1:
            return [(read_document(entry), entry)]
        return [(read_document(d if isinstance(d, dict) else str(d)), "") for d in documents]
    except WriteInputError as exc:
        raise ProposedInputError(where, exc.message) from exc


def _deleted(entry: Mapping[str, Any], namespace: str, where: str) -> RoutingObject:
    kind, name = entry.get("kind"), entry.get("name")
    target_namespace = entry.get("namespace") or namespace
    if not isinstance(kind, str) or not isinstance(name, str) or not name or not isinstance(target_namespace, str):
        raise ProposedInputError(where, "a delete names its kind, name and namespace")
    return RoutingObject(kind, target_namespace, name)


def load_mesh_inventory(cluster: Cluster) -> MeshInventory:
    """The cluster's services (selectors) and workloads (template labels, ready pods) from the stored inventory."""
    services = tuple(
        ServiceBackend(ns, name, selector or {})
        for ns, name, selector in Service.objects.filter(cluster=cluster).values_list("namespace", "name", "selector")
    )
    workloads = tuple(
        WorkloadBackend(ns, name, labels or {}, ready)
        for ns, name, labels, ready in Workload.objects.filter(cluster=cluster).values_list(
            "namespace", "name", "template_labels", "ready_replicas"
        )
    )
    return MeshInventory(services=services, workloads=workloads)


def load_routing_objects(cluster: Cluster, readable: Callable[[str], bool]) -> list[RoutingObject]:
    """The stored VirtualServices and DestinationRules of the namespaces ``readable`` allows."""
    rows = IstioObject.objects.filter(cluster=cluster, group=ISTIO_NETWORKING, kind__in=ROUTING_KINDS).values_list(
        "kind", "namespace", "name", "spec"
    )
    return [RoutingObject(kind, ns, name, spec or {}) for kind, ns, name, spec in rows if readable(ns)]


def applied_states(current: Sequence[RoutingObject], changes: Sequence[ProposedChange]) -> list[bool]:
    """Whether each change is already what the cluster holds (same spec; for a delete: no such object)."""
    held = {(o.kind, o.namespace, o.name): _canonical(o.spec) for o in current}
    states = []
    for change in changes:
        key = (change.obj.kind, change.obj.namespace, change.obj.name)
        if change.action == "delete":
            states.append(key not in held)
        else:
            states.append(held.get(key) == _canonical(change.obj.spec))
    return states


def _canonical(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def applied_at(cluster: Cluster, changes: Sequence[ProposedChange]) -> str | None:
    """When the cluster came to hold the change: the newest recorded change (a mesh-ui write, or one the sync saw)
    of its objects; None when the history knows none of them."""
    moments = []
    for change in changes:
        ref = ObjectRef(change.obj.kind, change.obj.namespace, change.obj.name)
        applied = history_of(cluster, ref).filter(result=ConfigChange.Result.APPLIED)
        newest = applied.values_list("created", flat=True).first()
        if newest is not None:
            moments.append(newest)
    return max(moments).isoformat() if moments else None


def describe_state(applied: Sequence[bool]) -> str:
    if applied and all(applied):
        return "applied"
    return "partly-applied" if any(applied) else "proposed"


def preview(
    cluster: Cluster,
    namespace: str,
    proposal: Proposal,
    duration: int | None,
    readable: Callable[[str], bool],
    granted: frozenset[str] | None,
    detailed_errors: bool,
) -> dict[str, Any]:
    """The API's answer: the prediction over the newest snapshot's versioned-app graph of ``namespace``."""
    current = load_routing_objects(cluster, readable)
    applied = applied_states(current, proposal.changes)
    body: dict[str, Any] = {
        "cluster": cluster.name,
        "namespace": namespace,
        "graphType": GRAPH_TYPE,
        "state": describe_state(applied),
        "appliedAt": applied_at(cluster, proposal.changes) if applied and all(applied) else None,
        "objects": [
            {"action": c.action, "kind": c.obj.kind, "namespace": c.obj.namespace, "name": c.obj.name, "applied": a}
            for c, a in zip(proposal.changes, applied, strict=True)
        ],
    }
    snapshot = reading.find_snapshot(cluster, None)
    if snapshot is None:
        empty = {"elements": {"nodes": []}, "edges": [], "affectedServices": [], "notes": list(proposal.notes)}
        return {**body, **empty, "snapshot": None, "warning": f"no snapshot of {cluster.name} yet"}
    window = reading.pick_window(snapshot, duration)
    meta = reading.build_meta(snapshot, None, detailed_errors)
    raw = reading.read_graph_json(snapshot, GRAPH_TYPE, window, [namespace], False, [], meta, granted=granted)
    graph = json.loads(raw)
    inventory = load_mesh_inventory(cluster)
    result = compute_whatif(graph, inventory, current, proposal.changes)
    if result.unprofiled:
        history = load_history(snapshot, window, namespace, granted)
        if history:
            result = compute_whatif(graph, inventory, current, proposal.changes, history)
    nodes = [n for n in graph.get("elements", {}).get("nodes", []) if n.get("data", {}).get("nodeType") != "box"]
    nodes += [{"data": dict(n)} for n in result.new_nodes]
    labels = {n["data"]["id"]: _node_label(n["data"]) for n in nodes}
    return {
        **body,
        "duration": window,
        "snapshot": graph.get("snapshot"),
        "affectedServices": list(result.affected_services),
        "notes": [*proposal.notes, *result.notes],
        "elements": {"nodes": nodes},
        "edges": [edge_answer(e, labels) for e in result.edges],
    }


def load_history(
    snapshot: GraphSnapshot, window: int, namespace: str, granted: frozenset[str] | None
) -> list[dict[str, Any]]:
    """Older graphs of ``namespace`` (newest first): up to :data:`HISTORY_GRAPHS` snapshots of the last
    :data:`HISTORY_LOOKBACK`, each a window apart, so that each shows other traffic."""
    since = snapshot.taken_at - HISTORY_LOOKBACK
    rows = (
        GraphSnapshot.objects.filter(cluster=snapshot.cluster, taken_at__lt=snapshot.taken_at, taken_at__gte=since)
        .order_by("-taken_at")
        .values_list("pk", "taken_at")
    )
    picked: list[int] = []
    last = snapshot.taken_at
    for pk, taken_at in rows:
        if (last - taken_at).total_seconds() >= window:
            picked.append(pk)
            last = taken_at
            if len(picked) >= HISTORY_GRAPHS:
                break
    graphs = []
    for older in GraphSnapshot.objects.filter(pk__in=picked).defer("health", "metrics").order_by("-taken_at"):
        meta = reading.build_meta(older, older.taken_at)
        seconds = reading.pick_window(older, window)
        body = reading.read_graph_json(older, GRAPH_TYPE, seconds, [namespace], False, [], meta, granted=granted)
        graphs.append(json.loads(body))
    return graphs


def _node_label(data: Mapping[str, Any]) -> str:
    if data.get("nodeType") == "service":
        return f"{data.get('service', '')} (service)"
    name = data.get("workload") or data.get("app") or data.get("id", "")
    return str(name)


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _error_rate(rate: Estimate, errors: Estimate) -> float | None:
    """Errors in percent of requests: known when both are, or when there can be no error at all."""
    if errors.high <= EPSILON:
        return 0.0
    if rate.value is None or errors.value is None:
        return None
    return round(100.0 * errors.value / rate.value, 2) if rate.value > 0 else 0.0


def edge_answer(edge: PredictedEdge, labels: Mapping[str, str]) -> dict[str, Any]:
    """One predicted edge as the API answers it (rates in requests/s, error rates in percent)."""
    now, then = edge.current, edge.predicted
    return {
        "id": edge.edge_id,
        "source": edge.source,
        "target": edge.target,
        "sourceLabel": labels.get(edge.source, edge.source),
        "targetLabel": labels.get(edge.target, edge.target),
        "protocol": edge.protocol,
        "kind": edge.kind,
        "changed": edge.changed,
        "current": {"rate": _number(now.rate.value), "errorRate": _error_rate(now.rate, now.errors)},
        "predicted": {
            "rate": _number(then.rate.value),
            "low": _number(then.rate.low),
            "high": _number(then.rate.high),
            "errorRate": _error_rate(then.rate, then.errors),
            "errorsLow": _number(then.errors.low),
            "errorsHigh": _number(then.errors.high),
        },
        "delta": _number(edge.delta),
        "responseTimeMs": _number(edge.response_time_ms.value) if edge.response_time_ms is not None else None,
        "delayMs": edge.delay_ms,
        "delayedShare": _number(edge.delayed_share.value),
        "notes": list(edge.notes),
    }
