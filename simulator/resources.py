"""Resource catalogue of the simulated Kubernetes API server.

Lists every served resource type (core/v1, apps/v1, the Istio networking and
security groups and the Kubernetes Gateway API kinds Istio implements) with its
versions, plural, kind and scope, and maps URLs
(``group`` + ``plural``) and objects (``apiVersion`` + ``kind``) to their type.
Builds the errors that name a resource type (:func:`not_found`) from :mod:`simulator.errors`,
which in turn knows nothing of resource types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.errors import BadRequest, NotFound

Obj = dict[str, Any]


@dataclass(frozen=True)
class ResourceType:
    """One served resource: its API group, versions, plural name and kind."""

    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()

    @property
    def storage_api_version(self) -> str:
        """The apiVersion objects of this type are stored under."""
        return api_version(self.group, self.versions[0])


def api_version(group: str, version: str) -> str:
    """``v1`` for the core group, ``group/version`` otherwise."""
    return f"{group}/{version}" if group else version


ISTIO_NETWORKING_VERSIONS = ("v1", "v1beta1", "v1alpha3")
ISTIO_SECURITY_VERSIONS = ("v1", "v1beta1")
GATEWAY_API_GROUP = "gateway.networking.k8s.io"

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", ("v1",), "namespaces", "Namespace", namespaced=False, short_names=("ns",)),
    ResourceType("", ("v1",), "services", "Service", short_names=("svc",)),
    ResourceType("", ("v1",), "pods", "Pod", short_names=("po",)),
    ResourceType("", ("v1",), "endpoints", "Endpoints", short_names=("ep",)),
    ResourceType("", ("v1",), "configmaps", "ConfigMap", short_names=("cm",)),
    ResourceType("", ("v1",), "secrets", "Secret"),
    ResourceType("apps", ("v1",), "deployments", "Deployment", short_names=("deploy",)),
    ResourceType("apps", ("v1",), "replicasets", "ReplicaSet", short_names=("rs",)),
    ResourceType("apps", ("v1",), "statefulsets", "StatefulSet", short_names=("sts",)),
    ResourceType(
        "networking.istio.io", ISTIO_NETWORKING_VERSIONS, "virtualservices", "VirtualService", short_names=("vs",)
    ),
    ResourceType(
        "networking.istio.io", ISTIO_NETWORKING_VERSIONS, "destinationrules", "DestinationRule", short_names=("dr",)
    ),
    ResourceType("networking.istio.io", ISTIO_NETWORKING_VERSIONS, "gateways", "Gateway", short_names=("gw",)),
    ResourceType(
        "networking.istio.io", ISTIO_NETWORKING_VERSIONS, "serviceentries", "ServiceEntry", short_names=("se",)
    ),
    ResourceType("networking.istio.io", ISTIO_NETWORKING_VERSIONS, "sidecars", "Sidecar"),
    ResourceType(
        "security.istio.io", ISTIO_SECURITY_VERSIONS, "peerauthentications", "PeerAuthentication", short_names=("pa",)
    ),
    ResourceType(
        "security.istio.io",
        ISTIO_SECURITY_VERSIONS,
        "authorizationpolicies",
        "AuthorizationPolicy",
        short_names=("ap",),
    ),
    ResourceType(
        "security.istio.io",
        ISTIO_SECURITY_VERSIONS,
        "requestauthentications",
        "RequestAuthentication",
        short_names=("ra",),
    ),
    # The Gateway API kinds Istio implements, at the versions the standard channel (v1.2) serves; after the Istio
    # kinds, so that the plural "gateways" alone still means Istio's Gateway (see ``Simulator.read_objects``).
    ResourceType(GATEWAY_API_GROUP, ("v1", "v1beta1"), "gateways", "Gateway", short_names=("gtw",)),
    ResourceType(GATEWAY_API_GROUP, ("v1", "v1beta1"), "httproutes", "HTTPRoute"),
    ResourceType(GATEWAY_API_GROUP, ("v1",), "grpcroutes", "GRPCRoute"),
    ResourceType(GATEWAY_API_GROUP, ("v1beta1",), "referencegrants", "ReferenceGrant", short_names=("refgrant",)),
)

_BY_GROUP_PLURAL = {(rt.group, rt.plural): rt for rt in RESOURCE_TYPES}
_BY_GROUP_KIND = {(rt.group, rt.kind): rt for rt in RESOURCE_TYPES}


def resource_type(group: str, plural: str) -> ResourceType | None:
    """The served resource type for ``(group, plural)``, or None."""
    return _BY_GROUP_PLURAL.get((group, plural))


def resource_type_for(obj: Obj) -> ResourceType:
    """The resource type of an object, from its ``apiVersion`` and ``kind``."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    rt = _BY_GROUP_KIND.get((group, str(obj.get("kind", ""))))
    if rt is None:
        raise BadRequest(f"no kind {obj.get('kind')!r} is registered for version {obj.get('apiVersion')!r}")
    return rt


def not_found(rt: ResourceType, name: str) -> NotFound:
    """The NotFound error the real API server returns for a missing object of type ``rt``."""
    details: dict[str, Any] = {"name": name, "kind": rt.plural}
    if rt.group:
        details["group"] = rt.group
    resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    return NotFound(f'{resource} "{name}" not found', details)
