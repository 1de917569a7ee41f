"""Request routing and discovery of the simulated Kubernetes API server.

Parses resource URLs (``/api[s]/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{sub}]]``)
into :class:`ApiRequest` objects, and builds the discovery documents (``/api``,
``/apis``, ``/apis/{group}``, resource lists) and ``/version`` from the resource catalogue.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from simulator.errors import NotFound
from simulator.media import META_API_VERSION, PARTIAL_LIST, metadata_of
from simulator.openapi_models import istio_crd_categories
from simulator.resources import RESOURCE_TYPES, Obj, ResourceType, api_version, resource_type


class ApiRequest:
    """A parsed resource request: ``/api[s]/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{sub}]]``."""

    def __init__(
        self,
        rt: ResourceType,
        version: str,
        namespace: str | None,
        name: str | None,
        subresource: str | None,
        query: dict[str, str],
    ) -> None:
        self.rt, self.version, self.namespace, self.name = rt, version, namespace, name
        self.subresource, self.query = subresource, query
        #: Reads answer ``PartialObjectMetadata`` (set by the server from the Accept header).
        self.metadata_only = False
        #: Renders each object of a watch as a ``Table`` (set by the server for ``as=Table`` watches).
        self.table_renderer: Callable[[Obj], Obj] | None = None
        #: The client's User-Agent (set by the server): names the field manager of a write without ``fieldManager``.
        self.user_agent = ""

    @property
    def api_version(self) -> str:
        return api_version(self.rt.group, self.version)

    @property
    def field_manager(self) -> str:
        """Who writes: ``?fieldManager=``, else the User-Agent's product (``kubectl/v1.31 ...`` -> ``kubectl``)."""
        return self.query.get("fieldManager") or self.user_agent.split("/")[0].strip() or "unknown"

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    def present(self, obj: Obj) -> Obj:
        """``obj`` as served at the requested version."""
        return {**obj, "apiVersion": self.api_version}

    def render(self, obj: Obj) -> Obj:
        """``obj`` as a read answers it: at the requested version, its metadata alone, or (a watch of ``kubectl get
        -w``) a one-row Table, as asked for."""
        if self.table_renderer is not None:
            return self.table_renderer(self.present(obj))
        return metadata_of(obj) if self.metadata_only else self.present(obj)

    @property
    def list_kind(self) -> tuple[str, str]:
        """(kind, apiVersion) of a list answer."""
        if self.metadata_only:
            return PARTIAL_LIST, META_API_VERSION
        return f"{self.rt.kind}List", self.api_version


def parse_resource_path(path: str, query: dict[str, str]) -> ApiRequest | None:
    """Parse a resource path; None for discovery paths; raises NotFound for unknown resources."""
    segments = [s for s in path.split("/") if s]
    if not segments or segments[0] not in ("api", "apis"):
        raise NotFound("the server could not find the requested resource")
    if segments[0] == "api":
        if len(segments) < 3:
            return None
        group, version, rest = "", segments[1], segments[2:]
    else:
        if len(segments) < 4:
            return None
        group, version, rest = segments[1], segments[2], segments[3:]
    namespace: str | None = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise NotFound("the server could not find the requested resource")
    rt = resource_type(group, rest[0])
    if rt is None or version not in rt.versions or (namespace is not None and not rt.namespaced):
        raise NotFound("the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    if rt.namespaced and namespace is None and name is not None:
        raise NotFound("the server could not find the requested resource")
    subresource = rest[2] if len(rest) > 2 else None
    if subresource not in (None, "status") and not (subresource == "scale" and rt.kind == "Deployment"):
        raise NotFound("the server could not find the requested resource")
    return ApiRequest(rt, version, namespace, name, subresource, query)


#: The kinds ``kubectl get all`` lists (the ``all`` category of the real server's built-in resources).
_ALL_CATEGORY = {"Pod", "Service", "Deployment", "ReplicaSet", "StatefulSet"}


def categories(rt: ResourceType) -> list[str]:
    """The discovery categories of a resource: ``all`` for the workload kinds, the CRD's own for Istio kinds
    (``istio-io``, ``networking-istio-io``: ``kubectl get istio-io`` lists every Istio object)."""
    if rt.group.endswith("istio.io"):
        return istio_crd_categories(rt.group, rt.kind)
    return ["all"] if rt.kind in _ALL_CATEGORY and rt.group in ("", "apps") else []


def discovery(path: str, host: str, hidden_groups: frozenset[str] = frozenset()) -> Obj:
    """``/api``, ``/apis``, ``/apis/{group}`` and resource-list discovery documents, without ``hidden_groups``
    (the groups whose CRDs are not installed)."""
    segments = [s for s in path.split("/") if s]
    groups: OrderedDict[str, list[str]] = OrderedDict()
    served = [rt for rt in RESOURCE_TYPES if rt.group not in hidden_groups]
    for rt in served:
        if rt.group:
            versions = groups.setdefault(rt.group, [])
            versions.extend(v for v in rt.versions if v not in versions)
    if segments == ["api"]:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
        }

    def group_doc(name: str, versions: list[str]) -> Obj:
        gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}

    if segments == ["apis"]:
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group_doc(g, vs) for g, vs in groups.items()]}
    if len(segments) == 2 and segments[1] in groups:
        return {"kind": "APIGroup", "apiVersion": "v1", **group_doc(segments[1], groups[segments[1]])}
    group, version = (
        ("", segments[1])
        if segments[0] == "api" and len(segments) == 2
        else (segments[1], segments[2])
        if len(segments) == 3
        else ("?", "?")
    )
    resources = []
    for rt in served:
        if rt.group == group and version in rt.versions:
            resources.append(
                {
                    "name": rt.plural,
                    "singularName": rt.kind.lower(),
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "shortNames": list(rt.short_names),
                    "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                    "categories": categories(rt),
                }
            )
            resources.append(
                {
                    "name": f"{rt.plural}/status",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
            if rt.kind == "Deployment":
                resources.append(
                    {
                        "name": "deployments/scale",
                        "singularName": "",
                        "namespaced": True,
                        "group": "autoscaling",
                        "version": "v1",
                        "kind": "Scale",
                        "verbs": ["get", "patch", "update"],
                    }
                )
    if not resources:
        raise NotFound("the server could not find the requested resource")
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version(group, version),
        "resources": resources,
    }


VERSION_INFO: Obj = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-meshsim",
    "gitCommit": "0" * 40,
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}


AGGREGATED_GROUP = "apidiscovery.k8s.io"


def aggregated_version(accept: str) -> str | None:
    """The aggregated-discovery version (``v2``, ``v2beta1``) an Accept header asks for first, None for the legacy
    documents (kubectl 1.26+ asks for ``as=APIGroupDiscoveryList`` and falls back to legacy discovery)."""
    for part in accept.split(","):
        media_type, *params = (piece.strip() for piece in part.split(";"))
        parsed = dict(param.partition("=")[::2] for param in params)
        if parsed.get("g") == AGGREGATED_GROUP and parsed.get("as") == "APIGroupDiscoveryList":
            if parsed.get("v") in ("v2", "v2beta1"):
                return parsed["v"]
        elif media_type in ("application/json", "*/*", "application/*") and "as" not in parsed:
            return None
    return None


def _aggregated_resource(resource: Obj, group: str, version: str, subresources: list[Obj]) -> Obj:
    kind = {"group": group, "version": version, "kind": resource["kind"]}
    return {
        "resource": resource["name"],
        "responseKind": kind,
        "scope": "Namespaced" if resource["namespaced"] else "Cluster",
        "singularResource": resource["singularName"],
        "verbs": resource["verbs"],
        **({"shortNames": resource["shortNames"]} if resource.get("shortNames") else {}),
        **({"categories": resource["categories"]} if resource.get("categories") else {}),
        "subresources": [
            {
                "subresource": sub["name"].partition("/")[2],
                "responseKind": {
                    "group": sub.get("group", group),
                    "version": sub.get("version", version),
                    "kind": sub["kind"],
                },
                "verbs": sub["verbs"],
            }
            for sub in subresources
        ],
    }


def aggregated_discovery(path: str, version: str, hidden_groups: frozenset[str] = frozenset()) -> Obj:
    """``/api`` or ``/apis`` as one ``APIGroupDiscoveryList``: every group, version and resource in one answer,
    built from the same resource lists as the legacy documents."""
    core = path.strip("/") == "api"
    groups: OrderedDict[str, list[str]] = OrderedDict()
    for rt in RESOURCE_TYPES:
        if rt.group not in hidden_groups and (rt.group == "") == core:
            versions = groups.setdefault(rt.group, [])
            versions.extend(v for v in rt.versions if v not in versions)
    items = []
    for group, versions in groups.items():
        entries = []
        for gv in versions:
            listing = discovery(f"/api/{gv}" if core else f"/apis/{group}/{gv}", "", hidden_groups)["resources"]
            main = [r for r in listing if "/" not in r["name"]]
            entries.append(
                {
                    "version": gv,
                    "resources": [
                        _aggregated_resource(
                            r, group, gv, [s for s in listing if s["name"].startswith(r["name"] + "/")]
                        )
                        for r in main
                    ],
                    "freshness": "Current",
                }
            )
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": entries})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }
