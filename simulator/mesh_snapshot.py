"""An indexed, read-only view of the cluster objects the traffic simulation needs.

``MeshSnapshot.from_reader(read_objects)`` reads pods, deployments, services, ServiceEntries,
VirtualServices, DestinationRules and PeerAuthentications once (plain Kubernetes JSON dicts)
and answers the cheap questions routing asks over and over: which pods are ready, who owns
them, which sidecar they run, which Service a host names.  Also home of the small helpers to
read object metadata and to resolve Istio/Kubernetes host names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KubeObject = Mapping[str, Any]
ObjectReader = Callable[[str], list[dict[str, Any]]]

CLUSTER_DOMAIN = "cluster.local"
ROOT_NAMESPACE = "istio-system"
SIDECAR_CONTAINER = "istio-proxy"


# --------------------------------------------------------------------------- object helpers


def object_metadata(obj: KubeObject) -> Mapping[str, Any]:
    """``metadata`` of a Kubernetes object (empty mapping when absent)."""
    return obj.get("metadata") or {}


def object_spec(obj: KubeObject) -> Mapping[str, Any]:
    """``spec`` of a Kubernetes object (empty mapping when absent)."""
    return obj.get("spec") or {}


def object_name(obj: KubeObject) -> str:
    """``metadata.name`` or an empty string."""
    return str(object_metadata(obj).get("name") or "")


def object_namespace(obj: KubeObject, default: str = "default") -> str:
    """``metadata.namespace`` or ``default``."""
    return str(object_metadata(obj).get("namespace") or default)


def object_labels(obj: KubeObject) -> dict[str, str]:
    """``metadata.labels`` as a plain dict."""
    return {str(k): str(v) for k, v in (object_metadata(obj).get("labels") or {}).items()}


def creation_order_key(obj: KubeObject) -> tuple[str, str, str]:
    """Oldest first (Istio's tie-breaker for conflicting configuration), then namespace/name."""
    metadata = object_metadata(obj)
    return (str(metadata.get("creationTimestamp") or ""), object_namespace(obj), object_name(obj))


def labels_include(labels: Mapping[str, str], required: Mapping[str, Any] | None) -> bool:
    """True when every ``required`` key/value pair is present in ``labels``."""
    return all(labels.get(key) == str(value) for key, value in (required or {}).items())


# --------------------------------------------------------------------------- hosts


def service_fqdn(name: str, namespace: str, cluster_domain: str = CLUSTER_DOMAIN) -> str:
    """``reviews`` in ``bookinfo`` → ``reviews.bookinfo.svc.cluster.local``."""
    return f"{name}.{namespace}.svc.{cluster_domain}"


def host_candidates(host: str, namespace: str, cluster_domain: str = CLUSTER_DOMAIN) -> set[str]:
    """The fully qualified hosts a configured host may denote from ``namespace``.

    A short name (no dot) resolves in the configuration's namespace as Istio does; the
    Kubernetes DNS variants ``name.ns`` and ``name.ns.svc`` are accepted leniently too.
    """
    host = host.strip().rstrip(".").lower()
    if not host:
        return set()
    if "." not in host and host != "*":
        return {service_fqdn(host, namespace, cluster_domain)}
    candidates = {host}
    if host.endswith(".svc"):
        candidates.add(f"{host}.{cluster_domain}")
    elif host.count(".") == 1 and not host.startswith("*"):
        candidates.add(f"{host}.svc.{cluster_domain}")
    return candidates


def host_pattern_matches(pattern: str, fqdn: str) -> bool:
    """Istio host matching: exact, ``*`` or a ``*.suffix`` wildcard."""
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return fqdn.endswith(pattern[1:])
    return pattern == fqdn


def configured_hosts_match(
    hosts: Iterable[str], namespace: str, fqdn: str, cluster_domain: str = CLUSTER_DOMAIN
) -> bool:
    """Whether any of a resource's ``hosts`` (relative to its ``namespace``) denotes ``fqdn``."""
    return any(
        host_pattern_matches(candidate, fqdn)
        for host in hosts
        for candidate in host_candidates(str(host), namespace, cluster_domain)
    )


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True, eq=False)
class PodInfo:
    """A pod as the mesh sees it."""

    name: str
    namespace: str
    labels: dict[str, str]
    ready: bool
    has_sidecar: bool
    service_account: str
    workload: str

    @property
    def key(self) -> tuple[str, str]:
        """Stable identity across snapshots."""
        return (self.namespace, self.name)


@dataclass(frozen=True, eq=False)
class ServiceInfo:
    """A Kubernetes Service, or a ServiceEntry host (``external=True``)."""

    name: str
    namespace: str
    fqdn: str
    selector: dict[str, str]
    ports: tuple[int, ...] = ()
    external: bool = False


def pod_is_ready(pod: KubeObject) -> bool:
    """Ready condition True (or phase Running when no conditions are reported), not terminating."""
    if object_metadata(pod).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status")) == "True"
    return status.get("phase") == "Running"


def pod_has_sidecar(pod: KubeObject) -> bool:
    """An ``istio-proxy`` container (classic or native sidecar) or the injection status annotation."""
    spec = object_spec(pod)
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    if any(container.get("name") == SIDECAR_CONTAINER for container in containers):
        return True
    return "sidecar.istio.io/status" in (object_metadata(pod).get("annotations") or {})


def _workload_name(pod: KubeObject, deployments: Sequence[KubeObject]) -> str:
    """Deployment owning the pod (by selector), else the ReplicaSet owner minus its hash, else the pod."""
    labels = object_labels(pod)
    namespace = object_namespace(pod)
    for deployment in deployments:
        if object_namespace(deployment) != namespace:
            continue
        match_labels = (object_spec(deployment).get("selector") or {}).get("matchLabels") or {}
        if match_labels and labels_include(labels, match_labels):
            return object_name(deployment)
    for owner in object_metadata(pod).get("ownerReferences") or []:
        if owner.get("kind") == "ReplicaSet" and "-" in str(owner.get("name")):
            return str(owner["name"]).rsplit("-", 1)[0]
        if owner.get("name"):
            return str(owner["name"])
    return object_name(pod)


@dataclass
class MeshSnapshot:
    """An indexed, read-only view of the cluster objects at one instant."""

    pods: list[PodInfo]
    services: dict[str, ServiceInfo]
    deployments: list[dict[str, Any]]
    virtual_services: list[dict[str, Any]]
    destination_rules: list[dict[str, Any]]
    peer_authentications: list[dict[str, Any]]
    cluster_domain: str = CLUSTER_DOMAIN
    _endpoint_cache: dict[str, list[PodInfo]] = field(default_factory=dict, repr=False)
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)  # per-snapshot lookups

    @classmethod
    def from_reader(cls, read_objects: ObjectReader, cluster_domain: str = CLUSTER_DOMAIN) -> MeshSnapshot:
        """Read every kind the router needs through ``read_objects(plural)`` and index it."""
        deployments = list(read_objects("deployments") or [])
        pods = [
            PodInfo(
                name=object_name(pod),
                namespace=object_namespace(pod),
                labels=object_labels(pod),
                ready=pod_is_ready(pod),
                has_sidecar=pod_has_sidecar(pod),
                service_account=str(
                    object_spec(pod).get("serviceAccountName") or object_spec(pod).get("serviceAccount") or "default"
                ),
                workload=_workload_name(pod, deployments),
            )
            for pod in read_objects("pods") or []
        ]
        pods.sort(key=lambda pod: (pod.namespace, pod.name))
        services: dict[str, ServiceInfo] = {}
        for entry in sorted(read_objects("serviceentries") or [], key=creation_order_key):
            namespace = object_namespace(entry)
            ports = tuple(int(port.get("number", 0)) for port in object_spec(entry).get("ports") or [])
            for host in object_spec(entry).get("hosts") or []:
                fqdn = str(host).lower().rstrip(".")
                services.setdefault(fqdn, ServiceInfo(fqdn, namespace, fqdn, {}, ports, external=True))
        for service in read_objects("services") or []:
            name, namespace = object_name(service), object_namespace(service)
            spec = object_spec(service)
            ports = tuple(int(port.get("port", 0)) for port in spec.get("ports") or [])
            fqdn = service_fqdn(name, namespace, cluster_domain)
            services[fqdn] = ServiceInfo(name, namespace, fqdn, dict(spec.get("selector") or {}), ports)
        return cls(
            pods=pods,
            services=services,
            deployments=deployments,
            virtual_services=sorted(read_objects("virtualservices") or [], key=creation_order_key),
            destination_rules=sorted(read_objects("destinationrules") or [], key=creation_order_key),
            peer_authentications=sorted(read_objects("peerauthentications") or [], key=creation_order_key),
            cluster_domain=cluster_domain,
        )

    def service_named(self, name: str, namespace: str) -> ServiceInfo | None:
        """The Service ``name`` in ``namespace`` (or a ServiceEntry host spelled exactly ``name``)."""
        fqdn = service_fqdn(name, namespace, self.cluster_domain)
        return self.services.get(fqdn) or self.services.get(name)

    def ready_endpoints(self, service: ServiceInfo) -> list[PodInfo]:
        """Ready pods selected by the service (cached for the lifetime of the snapshot)."""
        cached = self._endpoint_cache.get(service.fqdn)
        if cached is None:
            cached = (
                []
                if service.external or not service.selector
                else [
                    pod
                    for pod in self.pods
                    if pod.ready and pod.namespace == service.namespace and labels_include(pod.labels, service.selector)
                ]
            )
            self._endpoint_cache[service.fqdn] = cached
        return cached

    def has_deployment(self, namespace: str, app: str) -> bool:
        """Whether a Deployment labelled ``app=<app>`` exists in ``namespace``."""
        return any(
            object_namespace(deployment) == namespace
            and (
                object_labels(deployment).get("app") == app
                or ((object_spec(deployment).get("template") or {}).get("metadata") or {}).get("labels", {}).get("app")
                == app
            )
            for deployment in self.deployments
        )

    def deployment_exists(self, namespace: str, name: str) -> bool:
        """Whether the Deployment ``namespace/name`` exists."""
        return any(object_namespace(d) == namespace and object_name(d) == name for d in self.deployments)

    def ready_pods(self, namespace: str, labels: Mapping[str, str]) -> list[PodInfo]:
        """Ready pods in ``namespace`` carrying all ``labels``."""
        return [
            pod for pod in self.pods if pod.ready and pod.namespace == namespace and labels_include(pod.labels, labels)
        ]
