"""Istio objects as the object pages and the API show them: the stored row rebuilt as a Kubernetes document,
its YAML, and its findings pinned to the YAML's lines; lists of objects with their validation counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from inventory.models import Cluster, IstioObject
from istio_config.checks import Finding
from istio_config.findings import SeverityCounts, count_by_object, findings_in, findings_of_object, narrow_by_findings
from istio_config.models import ConfigFinding
from istio_config.yaml_lines import compose_yaml, dump_yaml, yaml_line_of


@dataclass(frozen=True)
class PinnedFinding:
    """A finding (stored, or of a posted object) and the YAML line its path points at."""

    kind: str
    namespace: str
    name: str
    code: str
    istio_code: str
    severity: str
    message: str
    path: str
    line: int | None

    @classmethod
    def of(cls, finding: ConfigFinding | Finding, line: int | None) -> PinnedFinding:
        return cls(
            kind=finding.kind,
            namespace=finding.namespace,
            name=finding.name,
            code=finding.code,
            istio_code=finding.istio_code,
            severity=str(finding.severity),
            message=finding.message,
            path=finding.path,
            line=line,
        )


def pin_findings(findings: list[ConfigFinding] | list[Finding], yaml_text: str) -> list[PinnedFinding]:
    """``findings`` with the line of ``yaml_text`` each one's path points at (the text is parsed once)."""
    root = compose_yaml(yaml_text)
    return [PinnedFinding.of(f, yaml_line_of(f.path, root)) for f in findings]


def istio_object_document(obj: IstioObject) -> dict[str, Any]:
    """The object as the API server holds it (the fields mesh-ui stores), rebuilt from its row."""
    metadata: dict[str, Any] = {"name": obj.name, "namespace": obj.namespace}
    if obj.labels:
        metadata["labels"] = obj.labels
    if obj.annotations:
        metadata["annotations"] = obj.annotations
    if obj.resource_version:
        metadata["resourceVersion"] = obj.resource_version
    if obj.generation:
        metadata["generation"] = obj.generation
    if obj.uid:
        metadata["uid"] = obj.uid
    if obj.created_at:
        metadata["creationTimestamp"] = obj.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": f"{obj.group}/{obj.version}", "kind": obj.kind, "metadata": metadata, "spec": obj.spec}


@dataclass
class ObjectRow:
    """An Istio object of a list, with its validation counts."""

    cluster: str
    namespace: str
    kind: str
    name: str
    group: str
    version: str
    validation: SeverityCounts


@dataclass
class ObjectDetail(ObjectRow):
    """One Istio object with its document, YAML and pinned findings."""

    metadata: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    yaml: str = ""
    findings: list[PinnedFinding] = field(default_factory=list)

    def lines(self) -> list[tuple[int, str, list[PinnedFinding]]]:
        """The YAML's lines, numbered, each with the findings pinned to it."""
        pinned: dict[int, list[PinnedFinding]] = {}
        for finding in self.findings:
            pinned.setdefault(finding.line or 1, []).append(finding)
        return [(n, text, pinned.get(n, [])) for n, text in enumerate(self.yaml.splitlines(), start=1)]


def filter_objects(
    cluster: Cluster,
    scope: Q,
    namespace: str = "",
    kind: str = "",
    name: str = "",
    severity: str = "",
    code: str = "",
    status: str = "",
) -> QuerySet[IstioObject]:
    """The cluster's Istio objects in ``scope``, narrowed by the list filters (one query, ordered)."""
    objects = IstioObject.objects.filter(cluster=cluster).filter(scope)
    if namespace:
        objects = objects.filter(namespace=namespace)
    if kind:
        objects = objects.filter(kind=kind)
    if name:
        objects = objects.filter(name__icontains=name)
    return narrow_by_findings(objects, severity, code, status).order_by("namespace", "kind", "name")


def rows_with_counts(cluster: Cluster, objects: list[IstioObject]) -> list[ObjectRow]:
    """``objects`` (one page) with their validation counts: one query for all of them."""
    namespaces = {o.namespace for o in objects}
    counts = count_by_object(findings_in(cluster, Q(namespace__in=sorted(namespaces)))) if objects else {}
    return [
        ObjectRow(
            cluster.name,
            o.namespace,
            o.kind,
            o.name,
            o.group,
            o.version,
            counts.get((o.kind, o.namespace, o.name)) or SeverityCounts(),
        )
        for o in objects
    ]


def load_object_detail(cluster: Cluster, namespace: str, kind: str, name: str) -> ObjectDetail | None:
    """One stored object with its findings pinned to the lines of its YAML; None when it is not stored."""
    obj = IstioObject.objects.filter(cluster=cluster, namespace=namespace, kind=kind, name=name).first()
    if obj is None:
        return None
    document = istio_object_document(obj)
    yaml_text = dump_yaml(document)
    findings = findings_of_object(cluster, kind, namespace, name)
    counts = SeverityCounts()
    for finding in findings:
        counts.add(finding.severity)
    return ObjectDetail(
        cluster=cluster.name,
        namespace=namespace,
        kind=kind,
        name=name,
        group=obj.group,
        version=obj.version,
        validation=counts,
        metadata=document["metadata"],
        spec=obj.spec,
        yaml=yaml_text,
        findings=pin_findings(findings, yaml_text),
    )
