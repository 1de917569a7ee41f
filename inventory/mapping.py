"""Pure mapping from raw Kubernetes objects to the inventory's row fields.

No Django here: each ``build_*_fields`` takes a Kubernetes JSON dict and returns the model field values, so the
rules (which label means injection, how a pod finds its workload, what counts as ready) are testable alone.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

SIDECAR_CONTAINER = "istio-proxy"

Fields = dict[str, Any]


def parse_timestamp(raw: str | None) -> datetime | None:
    """Parse an RFC 3339 timestamp as Kubernetes writes it (``2026-01-02T03:04:05Z``)."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def object_key(obj: dict[str, Any]) -> tuple[str, str]:
    """(namespace, name) of an object; namespace is empty for cluster-scoped kinds."""
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def build_common_fields(obj: dict[str, Any]) -> Fields:
    metadata = obj.get("metadata") or {}
    return {
        "name": metadata.get("name", ""),
        "uid": metadata.get("uid", ""),
        "resource_version": str(metadata.get("resourceVersion", "")),
        "labels": metadata.get("labels") or {},
        "annotations": metadata.get("annotations") or {},
        "created_at": parse_timestamp(metadata.get("creationTimestamp")),
    }


def build_namespaced_fields(obj: dict[str, Any]) -> Fields:
    fields = build_common_fields(obj)
    fields["namespace"] = (obj.get("metadata") or {}).get("namespace", "")
    return fields


def injection_of(labels: dict[str, str]) -> str:
    """What a namespace's labels say about sidecar injection: enabled, disabled, a revision, or ''."""
    value = labels.get("istio-injection")
    if value:
        return value
    revision = labels.get("istio.io/rev")
    return f"rev:{revision}" if revision else ""


def build_namespace_fields(obj: dict[str, Any]) -> Fields:
    fields = build_common_fields(obj)
    fields["phase"] = (obj.get("status") or {}).get("phase", "")
    fields["injection"] = injection_of(fields["labels"])
    return fields


def build_service_fields(obj: dict[str, Any]) -> Fields:
    fields = build_namespaced_fields(obj)
    spec = obj.get("spec") or {}
    fields["service_type"] = spec.get("type", "ClusterIP")
    fields["cluster_ip"] = spec.get("clusterIP", "") or ""
    fields["ports"] = [
        {key: port[key] for key in ("name", "port", "protocol", "targetPort", "appProtocol") if key in port}
        for port in spec.get("ports") or []
    ]
    fields["selector"] = spec.get("selector") or {}
    return fields


#: Where a workload's app and version come from, first found wins: the order in which Istio derives the canonical
#: service and revision its telemetry reports (and Kiali reads).
APP_LABELS: tuple[str, ...] = ("service.istio.io/canonical-name", "app.kubernetes.io/name", "app")
VERSION_LABELS: tuple[str, ...] = ("service.istio.io/canonical-revision", "app.kubernetes.io/version", "version")


def read_label(labels: dict[str, str], names: tuple[str, ...]) -> str:
    """The value of the first of ``names`` set in ``labels`` (``""`` when none is)."""
    return next((labels[name] for name in names if labels.get(name)), "")


def build_workload_fields(obj: dict[str, Any], kind: str) -> Fields:
    """Fields of a Deployment or StatefulSet. ``sidecar_present`` is derived later from its pods."""
    fields = build_namespaced_fields(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    fields.update(
        kind=kind,
        template_labels=template_labels,
        app=read_label(template_labels, APP_LABELS),
        version=read_label(template_labels, VERSION_LABELS),
        desired_replicas=int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1),
        ready_replicas=int(status.get("readyReplicas") or 0),
        available_replicas=int(status.get("availableReplicas") or 0),
    )
    return fields


_HASH_SUFFIX = re.compile(r"-[a-z0-9]{1,10}$")


def owning_workload(obj: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) of the workload that runs a pod, following Kubernetes' naming as Kiali does.

    A ReplicaSet owner is mapped to its Deployment by removing the ``pod-template-hash`` suffix, so mesh-ui needs
    no ReplicaSet list. A pod with no controller is its own workload.
    """
    metadata = obj.get("metadata") or {}
    owners = metadata.get("ownerReferences") or []
    owner = next((ref for ref in owners if ref.get("controller")), owners[0] if owners else None)
    if owner is None:
        return "Pod", str(metadata.get("name", ""))
    kind, name = str(owner.get("kind", "")), str(owner.get("name", ""))
    if kind == "ReplicaSet":
        template_hash = (metadata.get("labels") or {}).get("pod-template-hash")
        if template_hash and name.endswith(f"-{template_hash}"):
            return "Deployment", name[: -len(template_hash) - 1]
        if _HASH_SUFFIX.search(name):
            return "Deployment", _HASH_SUFFIX.sub("", name)
        return "ReplicaSet", name
    return kind, name


def build_pod_fields(obj: dict[str, Any]) -> Fields:
    fields = build_namespaced_fields(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    containers = spec.get("containers") or []
    # Native sidecars (Kubernetes 1.28+) run istio-proxy as an init container that keeps running.
    init_containers = spec.get("initContainers") or []
    sidecar = any(c.get("name") == SIDECAR_CONTAINER for c in containers) or any(
        c.get("name") == SIDECAR_CONTAINER and c.get("restartPolicy") == "Always" for c in init_containers
    )
    statuses = status.get("containerStatuses") or []
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    workload_kind, workload_name = owning_workload(obj)
    fields.update(
        phase=status.get("phase", ""),
        ready=conditions.get("Ready") == "True",
        sidecar=sidecar,
        containers_total=len(containers),
        containers_ready=sum(1 for s in statuses if s.get("ready")),
        workload_kind=workload_kind,
        workload_name=workload_name,
        node_name=spec.get("nodeName", "") or "",
        pod_ip=status.get("podIP", "") or "",
    )
    return fields


def build_istio_fields(obj: dict[str, Any], group: str, version: str, kind: str) -> Fields:
    """Fields of an Istio object listed as ``group/version`` ``kind`` (list items may omit apiVersion)."""
    fields = build_namespaced_fields(obj)
    fields.update(
        group=group,
        version=version,
        kind=kind,
        generation=int((obj.get("metadata") or {}).get("generation") or 0),
        spec=obj.get("spec") or {},
    )
    return fields


def build_config_map_fields(obj: dict[str, Any]) -> Fields:
    """Fields of a ConfigMap (mesh-ui reads only Istio's ``istio`` ConfigMap): its string ``data``."""
    fields = build_namespaced_fields(obj)
    data = obj.get("data") or {}
    fields["data"] = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return fields


def build_secret_name_fields(obj: dict[str, Any]) -> Fields:
    """Fields of a Secret listed as metadata only: name, namespace, labels; never its data nor its annotations.

    The annotations are dropped even though the metadata-only list carries them: ``kubectl apply`` keeps the
    whole object, data included, in ``kubectl.kubernetes.io/last-applied-configuration``.
    """
    fields = build_namespaced_fields(obj)
    fields["annotations"] = {}
    return fields
