"""What the YAML editor's pages hand their script: the object, the API URLs and who may write where.

The editor itself runs in the browser (``frontend/editor/``, bundled by ``make install``); these functions only
gather the data it needs into one dict the templates put in a ``json_script`` block. Nothing here writes: saves,
creates and deletes go through the write API (``/api/v1/istio-objects``), which checks the user's role again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from accounts import access
from accounts.grants import Role
from inventory.models import Cluster, Namespace
from istio_config.objects import ObjectDetail
from istio_config.starter_templates import STARTER_KINDS, starter_yaml

_PLACEHOLDERS = {"namespace": "__namespace__", "kind": "__kind__", "name": "__name__"}


def _api_urls(cluster: Cluster) -> dict[str, str]:
    """The API endpoints the editor calls, and URL patterns (``__namespace__``… placeholders) it fills in."""
    parts = {"cluster": cluster.name, **_PLACEHOLDERS}
    return {
        "validate": f"{reverse('v1:validate')}?cluster={cluster.name}",
        "create": reverse("v1:istio-objects"),
        "object": reverse("v1:istio-object", kwargs=parts),
        "dependents": reverse("v1:istio-object-dependents", kwargs=parts),
        "objectPage": reverse("dashboard:istio-object", kwargs=_PLACEHOLDERS),
        "list": reverse("dashboard:istio"),
        "graph": reverse("dashboard:graph"),  # "Preview on graph" (graph-whatif-contract.js)
    }


def editor_config(cluster: Cluster, detail: ObjectDetail) -> dict[str, Any]:
    """What the editor of a stored object starts from: its YAML and the resourceVersion a save is checked against."""
    return {
        "mode": "edit",
        "cluster": cluster.name,
        "namespace": detail.namespace,
        "kind": detail.kind,
        "name": detail.name,
        "resourceVersion": str(detail.metadata.get("resourceVersion", "")),
        "yaml": detail.yaml,
        "urls": _api_urls(cluster),
    }


def writable_namespaces(user: Any, cluster: Cluster) -> list[str]:
    """The cluster's synced namespaces where ``user`` may create Istio objects (editor or admin), by name."""
    scope = access.namespace_scope(user, cluster, minimum=Role.EDITOR)
    if scope.is_empty:
        return []
    names = Namespace.objects.filter(cluster=cluster).values_list("name", flat=True)
    return scope.intersect(sorted(set(names)))


@dataclass(frozen=True)
class CreatePage:
    """The create page: the kind and namespace chosen, the choices, and the editor's starting document."""

    kind: str
    namespace: str
    kinds: tuple[str, ...]
    namespaces: list[str]
    config: dict[str, Any]


def load_create_page(cluster: Cluster, namespaces: list[str], kind: str, namespace: str) -> CreatePage:
    """The create page for ``kind`` in ``namespace`` (the first of each list when not one of them; the view has
    refused a namespace the user may not write)."""
    kind = kind if kind in STARTER_KINDS else STARTER_KINDS[0]
    namespace = namespace if namespace in namespaces else namespaces[0]
    config = {
        "mode": "create",
        "cluster": cluster.name,
        "namespace": namespace,
        "kind": kind,
        "name": "",
        "resourceVersion": "",
        "yaml": starter_yaml(kind, namespace),
        "urls": _api_urls(cluster),
    }
    return CreatePage(kind, namespace, STARTER_KINDS, namespaces, config)
