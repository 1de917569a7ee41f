"""Istio's mesh config, read from the ``mesh`` key (YAML) of the ``istio`` ConfigMap, into the checks' ``MeshConfig``.

Pure module. Only the fields that change what the checks conclude are read: ``rootNamespace``, ``enableAutoMtls``
and the default ``exportTo`` of Services, VirtualServices and DestinationRules. Missing fields take Istio's
defaults (the root namespace is istiod's own namespace); a ``mesh`` that is not YAML, or a field of the wrong type,
is a ``MeshConfigError`` naming it, as istiod would refuse to load it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from istio_config.checks.model import MeshConfig

MESH_KEY = "mesh"
_EXPORT_FIELDS = {
    "defaultServiceExportTo": "default_service_export_to",
    "defaultVirtualServiceExportTo": "default_virtual_service_export_to",
    "defaultDestinationRuleExportTo": "default_destination_rule_export_to",
}


class MeshConfigError(ValueError):
    """The mesh config cannot be read: invalid YAML or a field of the wrong type."""


def _export_to(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MeshConfigError(f"{field} must be a list of namespaces, not {value!r}")
    return tuple(value)


def parse_mesh_config(data: Mapping[str, str] | None, control_plane_namespace: str) -> MeshConfig:
    """The ``MeshConfig`` of an ``istio`` ConfigMap's ``data`` (None or no ``mesh`` key: Istio's defaults)."""
    text = (data or {}).get(MESH_KEY) or ""
    try:
        mesh = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise MeshConfigError(f"the mesh config is not valid YAML: {exc}") from exc
    if mesh is None:
        mesh = {}
    if not isinstance(mesh, dict):
        raise MeshConfigError(f"the mesh config must be a mapping, not {type(mesh).__name__}")
    root_namespace = mesh.get("rootNamespace") or control_plane_namespace
    if not isinstance(root_namespace, str):
        raise MeshConfigError(f"rootNamespace must be a namespace name, not {root_namespace!r}")
    auto_mtls = mesh.get("enableAutoMtls", True)
    if not isinstance(auto_mtls, bool):
        raise MeshConfigError(f"enableAutoMtls must be true or false, not {auto_mtls!r}")
    exports = {
        attribute: _export_to(mesh[field], field) if mesh.get(field) is not None else ("*",)
        for field, attribute in _EXPORT_FIELDS.items()
    }
    return MeshConfig(root_namespace=root_namespace, enable_auto_mtls=auto_mtls, **exports)
