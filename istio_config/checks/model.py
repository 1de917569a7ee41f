"""The plain, typed input and output of the configuration checks.

``ConfigInventory`` is a snapshot of one cluster's inventory (namespaces, services, workloads, pods, Istio objects,
Secret names and the mesh config);
``Finding`` is one problem a check found on one Istio object. Both are frozen dataclasses with no Django in sight,
so the checks are pure functions that tests can feed literal data (``istio_config.inventory_loader`` builds the
snapshot from the database).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    """How serious a finding is, with Kiali's and istioctl's levels."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class NamespaceInfo:
    """A namespace and its sidecar-injection setting (enabled, disabled, a revision, or empty)."""

    name: str
    injection: str = ""


@dataclass(frozen=True)
class ServiceInfo:
    """A Kubernetes Service: its ports (Kubernetes ``ServicePort`` dicts), pod selector and labels."""

    namespace: str
    name: str
    ports: tuple[Mapping[str, Any], ...] = ()
    selector: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkloadInfo:
    """A Deployment or StatefulSet: the labels of its pod template and whether its pods run a sidecar."""

    namespace: str
    name: str
    template_labels: Mapping[str, str] = field(default_factory=dict)
    sidecar_present: bool = False


@dataclass(frozen=True)
class PodInfo:
    """A pod: its labels, the workload that owns it and whether it runs an ``istio-proxy`` sidecar."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    workload_name: str = ""
    sidecar: bool = False


@dataclass(frozen=True)
class SecretInfo:
    """The name and type of a Secret (never its data), for checks of TLS credential references."""

    namespace: str
    name: str
    secret_type: str = ""


@dataclass(frozen=True)
class MeshConfig:
    """The parts of Istio's mesh config (the ``istio`` ConfigMap) that change what the checks conclude.

    The defaults are Istio's own when the ConfigMap says nothing: automatic mTLS on, the control-plane namespace
    as the root namespace, and every object visible in every namespace.
    """

    root_namespace: str = "istio-system"
    enable_auto_mtls: bool = True
    default_service_export_to: tuple[str, ...] = ("*",)
    default_virtual_service_export_to: tuple[str, ...] = ("*",)
    default_destination_rule_export_to: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class IstioConfig:
    """One Istio object: kind (``VirtualService``...), namespace, name, spec, labels and ``resourceVersion``."""

    kind: str
    namespace: str
    name: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    resource_version: str = ""


@dataclass(frozen=True)
class ConfigInventory:
    """What the checks see of one cluster."""

    namespaces: tuple[NamespaceInfo, ...] = ()
    services: tuple[ServiceInfo, ...] = ()
    workloads: tuple[WorkloadInfo, ...] = ()
    istio_objects: tuple[IstioConfig, ...] = ()
    domain_suffix: str = "cluster.local"
    pods: tuple[PodInfo, ...] = ()
    mesh: MeshConfig = field(default_factory=MeshConfig)
    #: Secret names and types, or None when mesh-ui may not list Secrets (then credential checks stay silent).
    secrets: tuple[SecretInfo, ...] | None = None

    def of_kind(self, kind: str) -> list[IstioConfig]:
        """The Istio objects of one kind, in inventory order."""
        return [obj for obj in self.istio_objects if obj.kind == kind]


@dataclass(frozen=True)
class Finding:
    """One problem on one Istio object: a stable code, a severity, a message and the offending field's path.

    ``code`` is Kiali's KIA code when Kiali has the check (else mesh-ui's own MUI code); ``istio_code`` is the
    ``istioctl analyze`` code of the same check, when it has one. ``path`` is a JSON path such as
    ``spec.http[0].route[1].destination.subset``.
    """

    code: str
    severity: Severity
    message: str
    kind: str
    namespace: str
    name: str
    path: str
    istio_code: str = ""

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.namespace, self.kind, self.name, self.path, self.code)


def list_of(value: Any) -> list[Any]:
    """``value`` when it is a list, else empty: a malformed spec is the schema check's business, not a crash."""
    return value if isinstance(value, list) else []


def mappings_of(value: Any) -> list[Mapping[str, Any]]:
    """The mapping entries of :func:`list_of` ``value`` (subsets, servers...), renumbered without the others."""
    return [item for item in list_of(value) if isinstance(item, dict)]


def subset_names(rule: IstioConfig) -> frozenset[str]:
    """The subset names a DestinationRule defines."""
    return frozenset(str(s.get("name", "")) for s in mappings_of(rule.spec.get("subsets")))
