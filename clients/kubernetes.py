"""Kubernetes API access for mesh-ui: list and watch the kinds the inventory stores.

All Kubernetes network I/O goes through this module. It uses the official ``kubernetes`` client but asks for raw
JSON (``_preload_content=False``) and parses it into plain dicts, which is several times faster than the client's
model classes on large lists and keeps the rest of mesh-ui free of client types. Errors come out as
``KubeError`` with the HTTP status (0 when the server could not be reached).

Least privilege, read-only: every call is a ``list`` or ``watch``. Some kinds are read narrowly:

- the mesh config is the one ``istio`` ConfigMap of the control-plane namespace (a namespaced list with
  ``fieldSelector=metadata.name=istio``), never every ConfigMap of the cluster;
- Secrets are listed as metadata only (``Accept: ...;as=PartialObjectMetadataList``): the API server sends names,
  labels and annotations but never ``data`` (nor ``type``, which PartialObjectMetadata lacks). RBAC cannot grant
  "metadata only", so the service account still needs ``list``/``watch`` on secrets; mesh-ui simply never asks
  for the data, and the mapping drops the annotations too (``kubectl apply`` keeps a copy of the data in one);
- the Kubernetes Gateway API kinds are optional: a cluster without their CRDs answers 404, which the sync records
  as "not installed" (``ResourceKind.optional``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.watch.watch import iter_resp_lines

from clients.redaction import redact_text


@dataclass(frozen=True)
class ResourceKind:
    """A listable Kubernetes resource: how to address it and what the inventory calls it."""

    key: str  # unique name in mesh-ui, e.g. "pods", "virtualservices"
    kind: str
    group: str  # "" for core
    version: str
    plural: str
    namespaced: bool = True
    #: Served only when its CRD is installed: a 404 on the list means "not installed", not a failure.
    optional: bool = False
    #: List and watch only in this namespace (empty: every namespace).
    namespace: str = ""
    #: Narrow the list and watch with this ``fieldSelector`` (e.g. ``metadata.name=istio``).
    field_selector: str = ""
    #: Ask for ``PartialObjectMetadata`` (names, labels, annotations; never ``data`` nor ``spec``).
    metadata_only: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


CORE_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("namespaces", "Namespace", "", "v1", "namespaces", namespaced=False),
    ResourceKind("services", "Service", "", "v1", "services"),
    ResourceKind("deployments", "Deployment", "apps", "v1", "deployments"),
    ResourceKind("statefulsets", "StatefulSet", "apps", "v1", "statefulsets"),
    ResourceKind("pods", "Pod", "", "v1", "pods"),
)

#: The control-plane namespace mesh-ui assumes when a cluster row names none (Istio's default).
DEFAULT_CONTROL_PLANE_NAMESPACE = "istio-system"
#: Istio's mesh config: the ``mesh`` key of this ConfigMap in the control-plane namespace.
MESH_CONFIG_MAP_NAME = "istio"
MESH_CONFIG_KEY = "meshconfig"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"

ISTIO_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("virtualservices", "VirtualService", "networking.istio.io", "v1", "virtualservices"),
    ResourceKind("destinationrules", "DestinationRule", "networking.istio.io", "v1", "destinationrules"),
    ResourceKind("gateways", "Gateway", "networking.istio.io", "v1", "gateways"),
    ResourceKind("serviceentries", "ServiceEntry", "networking.istio.io", "v1", "serviceentries"),
    ResourceKind("sidecars", "Sidecar", "networking.istio.io", "v1", "sidecars"),
    ResourceKind("peerauthentications", "PeerAuthentication", "security.istio.io", "v1", "peerauthentications"),
    ResourceKind("authorizationpolicies", "AuthorizationPolicy", "security.istio.io", "v1", "authorizationpolicies"),
    ResourceKind(
        "requestauthentications", "RequestAuthentication", "security.istio.io", "v1", "requestauthentications"
    ),
)

#: The Kubernetes Gateway API kinds Istio implements; optional, since many clusters lack their CRDs.
GATEWAY_API_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("k8sgateways", "Gateway", GATEWAY_API_GROUP, "v1", "gateways", optional=True),
    ResourceKind("httproutes", "HTTPRoute", GATEWAY_API_GROUP, "v1", "httproutes", optional=True),
    ResourceKind("grpcroutes", "GRPCRoute", GATEWAY_API_GROUP, "v1", "grpcroutes", optional=True),
    ResourceKind("referencegrants", "ReferenceGrant", GATEWAY_API_GROUP, "v1beta1", "referencegrants", optional=True),
)

#: What the configuration checks read besides objects: the mesh config and the names of Secrets.
CONFIG_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind(
        MESH_CONFIG_KEY,
        "ConfigMap",
        "",
        "v1",
        "configmaps",
        namespace=DEFAULT_CONTROL_PLANE_NAMESPACE,
        field_selector=f"metadata.name={MESH_CONFIG_MAP_NAME}",
    ),
    ResourceKind("secrets", "Secret", "", "v1", "secrets", metadata_only=True),
)

INVENTORY_KINDS: tuple[ResourceKind, ...] = CORE_KINDS + ISTIO_KINDS + GATEWAY_API_KINDS + CONFIG_KINDS
KINDS_BY_KEY: dict[str, ResourceKind] = {kind.key: kind for kind in INVENTORY_KINDS}

#: ``Accept`` headers: plain JSON, or metadata only (``PartialObjectMetadataList`` for lists, ``...Metadata`` for
#: the objects of a watch), as client-go's metadata informers ask.
JSON = "application/json"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def inventory_kinds(control_plane_namespace: str = DEFAULT_CONTROL_PLANE_NAMESPACE) -> tuple[ResourceKind, ...]:
    """Every kind a cluster's sync lists, the mesh config read from ``control_plane_namespace``."""
    return tuple(
        replace(kind, namespace=control_plane_namespace) if kind.key == MESH_CONFIG_KEY else kind
        for kind in INVENTORY_KINDS
    )


class KubeError(Exception):
    """A failed Kubernetes call. ``status`` is the HTTP status, or 0 when the server was not reached.

    ``reason`` and ``causes`` come from the API server's ``Status`` when it sent one: the reason (``Conflict``,
    ``Invalid``...) and, for a refused object, one ``{"field", "message", "reason"}`` per offending field.
    Credentials in the message (a password in the server URL, a token echoed back) are redacted.
    """

    def __init__(self, status: int, message: str, reason: str = "", causes: list[dict[str, str]] | None = None) -> None:
        message = redact_text(message)
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.causes = causes or []

    @property
    def gone(self) -> bool:
        """410 Gone: the resourceVersion is too old to watch from; relist."""
        return self.status == 410

    @property
    def not_found(self) -> bool:
        """404: for a list, the API server does not serve the resource (its CRD is not installed)."""
        return self.status == 404

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}" if self.status else self.message


@dataclass(frozen=True)
class ObjectList:
    """A complete list of one kind, with the resourceVersion to start watching from."""

    items: list[dict[str, Any]]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ADDED, MODIFIED, DELETED or BOOKMARK, with the raw object."""

    type: str
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        return str(self.object.get("metadata", {}).get("resourceVersion", ""))


@dataclass(frozen=True)
class ClusterConnection:
    """How to reach one cluster's API server."""

    name: str
    kubeconfig_path: str = ""
    context: str = ""
    in_cluster: bool = False


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
        return str(body.get("message") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason or exc.body)


def kube_error_of(exc: ApiException) -> KubeError:
    """``exc`` as a ``KubeError`` carrying the API server's ``Status``: message, reason and causes."""
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if not isinstance(body, dict):
        return KubeError(exc.status or 0, _status_message(exc))
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    causes = [
        {"field": str(c.get("field", "")), "message": str(c.get("message", "")), "reason": str(c.get("reason", ""))}
        for c in (details or {}).get("causes") or []
        if isinstance(c, dict)
    ]
    return KubeError(exc.status or 0, str(body.get("message") or exc.reason), str(body.get("reason") or ""), causes)


class KubernetesClient:
    """List and watch inventory kinds in one cluster, with a timeout on every call."""

    def __init__(self, connection: ClusterConnection, timeout: float = 10.0, page_size: int = 500) -> None:
        self.connection = connection
        self.timeout = timeout
        self.page_size = page_size
        self._api = self._build_api_client(connection)

    @staticmethod
    def _build_api_client(connection: ClusterConnection) -> k8s.ApiClient:
        configuration = k8s.Configuration()
        try:
            if connection.in_cluster:
                k8s_config.load_incluster_config(client_configuration=configuration)
            else:
                k8s_config.load_kube_config(
                    config_file=connection.kubeconfig_path or None,
                    context=connection.context or None,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (ConfigException, OSError, TypeError, ValueError) as exc:
            raise KubeError(0, f"cannot load cluster configuration for {connection.name!r}: {exc}") from exc
        # One connection per concurrent watch plus lists.
        configuration.connection_pool_maxsize = 32
        configuration.retries = 0
        return k8s.ApiClient(configuration)

    def close(self) -> None:
        self._api.close()

    def _path(self, kind: ResourceKind) -> str:
        prefix = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
        if kind.namespace:
            prefix += f"/namespaces/{kind.namespace}"
        return f"{prefix}/{kind.plural}"

    @staticmethod
    def _selectors(kind: ResourceKind) -> list[tuple[str, Any]]:
        return [("fieldSelector", kind.field_selector)] if kind.field_selector else []

    def _call(
        self, path: str, query: list[tuple[str, Any]], read_timeout: float, accept: str = JSON
    ) -> urllib3.HTTPResponse:
        """Issue a GET and return the unread response; map every failure to ``KubeError``."""
        try:
            response: urllib3.HTTPResponse = self._api.call_api(
                path,
                "GET",
                query_params=query,
                header_params={"Accept": accept},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=(self.timeout, read_timeout),
            )[0]
            return response
        except ApiException as exc:
            raise KubeError(exc.status or 0, _status_message(exc)) from exc
        except (TimeoutError, urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeError(0, f"cannot reach the API server of {self.connection.name!r}: {exc}") from exc

    def iter_list_pages(self, kind: ResourceKind) -> Iterator[ObjectList]:
        """List every object of ``kind`` across namespaces, yielding page by page (``limit``/``continue``).

        Each page carries the list's resourceVersion; the last page's is the one to watch from. Reading pages as
        they come keeps only one page of raw objects in memory.
        """
        token = ""
        resource_version = ""
        while True:
            query: list[tuple[str, Any]] = [("limit", self.page_size), *self._selectors(kind)]
            if token:
                query.append(("continue", token))
            accept = METADATA_LIST if kind.metadata_only else JSON
            response = self._call(self._path(kind), query, self.timeout, accept)
            try:
                body = json.loads(response.data)
            except ValueError as exc:
                raise KubeError(response.status, f"invalid JSON in {kind.key} list: {exc}") from exc
            finally:
                response.release_conn()
            metadata = body.get("metadata") or {}
            resource_version = str(metadata.get("resourceVersion", resource_version))
            token = metadata.get("continue") or ""
            yield ObjectList(items=body.get("items") or [], resource_version=resource_version)
            if not token:
                return

    def fetch_list(self, kind: ResourceKind) -> ObjectList:
        """List every object of ``kind`` across namespaces into one list."""
        items: list[dict[str, Any]] = []
        resource_version = ""
        for page in self.iter_list_pages(kind):
            items.extend(page.items)
            resource_version = page.resource_version
        return ObjectList(items=items, resource_version=resource_version)

    def watch(
        self,
        kind: ResourceKind,
        resource_version: str,
        timeout_seconds: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[WatchEvent]:
        """Stream events of ``kind`` after ``resource_version`` until the server ends the watch.

        Raises ``KubeError`` with status 410 when the version is too old (the caller relists), and with
        the server's status for any other ERROR event.
        """
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", timeout_seconds),
            *self._selectors(kind),
        ]
        accept = METADATA_OBJECT if kind.metadata_only else JSON
        # The read timeout outlives the server-side timeout a little so a hung server cannot block us forever.
        response = self._call(self._path(kind), query, timeout_seconds + self.timeout, accept)
        try:
            for line in iter_resp_lines(response):
                if should_stop():
                    return
                if not line:
                    continue
                event = json.loads(line)
                event_type = event.get("type", "")
                obj = event.get("object") or {}
                if event_type == "ERROR":
                    raise KubeError(int(obj.get("code") or 500), str(obj.get("message") or "watch error"))
                yield WatchEvent(type=event_type, object=obj)
        except (TimeoutError, urllib3.exceptions.HTTPError, OSError) as exc:
            if should_stop():
                return
            raise KubeError(0, f"watch of {kind.key} interrupted: {exc}") from exc
        except ValueError as exc:
            raise KubeError(0, f"invalid JSON in {kind.key} watch: {exc}") from exc
        finally:
            response.close()
            response.release_conn()
