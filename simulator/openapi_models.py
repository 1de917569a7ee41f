"""OpenAPI schemas of the kinds the simulated API server serves, generated from data.

Nothing here is written per kind:

- the built-in kinds (core/v1, apps/v1) come from the Kubernetes Python client's generated models, whose
  ``openapi_types`` and ``attribute_map`` are the Kubernetes OpenAPI document turned into Python (``V1Pod`` has
  ``spec: V1PodSpec``, ``V1PodSpec`` has ``containers: list[V1Container]``...). The client does not keep the
  strategic-merge keys, so the few lists that merge by key (containers by ``name``, Service ports by ``port``...)
  come from :data:`MERGE_KEYS`, a table of the Kubernetes API's ``patchMergeKey`` tags;
- the Istio kinds use the ``openAPIV3Schema`` of Istio's CRDs shipped in ``istio_config/data``;
- the Gateway API kinds, whose CRDs are not shipped, get an open schema (``spec`` and ``status`` objects that keep
  any field), as a CRD with ``x-kubernetes-preserve-unknown-fields`` would.

:func:`definitions_for` returns, for one group-version, the named schemas of its kinds and of everything they
reference (``$ref`` to ``#/components/schemas/NAME`` or, with ``ref_prefix``, ``#/definitions/NAME``), each kind's
schema tagged with ``x-kubernetes-group-version-kind`` as the real server tags it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import kubernetes.client

from simulator.resources import RESOURCE_TYPES, Obj, ResourceType

V3_REF = "#/components/schemas/"
V2_REF = "#/definitions/"

#: ``(model, JSON field) -> merge key`` of the lists the Kubernetes API merges by key (its ``patchMergeKey`` tags);
#: every other list is atomic (replaced whole by a patch or an apply).
MERGE_KEYS: dict[tuple[str, str], str] = {
    ("V1PodSpec", "containers"): "name",
    ("V1PodSpec", "initContainers"): "name",
    ("V1PodSpec", "ephemeralContainers"): "name",
    ("V1PodSpec", "volumes"): "name",
    ("V1PodSpec", "imagePullSecrets"): "name",
    ("V1PodSpec", "hostAliases"): "ip",
    ("V1Container", "env"): "name",
    ("V1Container", "ports"): "containerPort",
    ("V1Container", "volumeMounts"): "mountPath",
    ("V1Container", "volumeDevices"): "devicePath",
    ("V1ServiceSpec", "ports"): "port",
    ("V1ObjectMeta", "ownerReferences"): "uid",
    ("V1PodStatus", "conditions"): "type",
    ("V1DeploymentStatus", "conditions"): "type",
    ("V1ReplicaSetStatus", "conditions"): "type",
    ("V1StatefulSetStatus", "conditions"): "type",
    ("V1NamespaceStatus", "conditions"): "type",
}

_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(str, (.*)\)$")
_PRIMITIVES: dict[str, Obj] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int64"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "object": {"x-kubernetes-int-or-string": True},
}
_OPEN_OBJECT: Obj = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def reversed_group(group: str) -> str:
    """``networking.istio.io`` -> ``io.istio.networking``; the core group is ``io.k8s.api.core``."""
    return ".".join(reversed(group.split("."))) if group else "io.k8s.api.core"


def model_name(model: str) -> str:
    """The schema name of a Kubernetes client model (``V1PodSpec`` -> ``io.k8s.api.v1.PodSpec``)."""
    match = re.match(r"^(V\d+(?:alpha\d+|beta\d+)?)(.*)$", model)
    if match:
        return f"io.k8s.api.{match.group(1).lower()}.{match.group(2)}"
    return f"io.k8s.api.{model}"


def kind_name(rt: ResourceType, version: str) -> str:
    """The schema name of a served kind at ``version`` (``io.istio.networking.v1.VirtualService``)."""
    if rt.group in ("", "apps"):
        return model_name(f"V1{rt.kind}")
    return f"{reversed_group(rt.group)}.{version}.{rt.kind}"


def _type_schema(type_name: str, ref_prefix: str, wanted: set[str]) -> Obj:
    if type_name in _PRIMITIVES:
        return dict(_PRIMITIVES[type_name])
    if match := _LIST.match(type_name):
        return {"type": "array", "items": _type_schema(match.group(1), ref_prefix, wanted)}
    if match := _DICT.match(type_name):
        return {"type": "object", "additionalProperties": _type_schema(match.group(1), ref_prefix, wanted)}
    wanted.add(type_name)
    return {"$ref": ref_prefix + model_name(type_name)}


def _model_schema(model: str, ref_prefix: str, wanted: set[str]) -> Obj:
    """The schema of one client model; the models it references are added to ``wanted``."""
    cls = getattr(kubernetes.client, model)
    properties: Obj = {}
    for attribute, type_name in sorted(cls.openapi_types.items()):
        field = cls.attribute_map[attribute]
        schema = _type_schema(type_name, ref_prefix, wanted)
        key = MERGE_KEYS.get((model, field))
        if key is not None:
            schema.update(
                {
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": key,
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": [key],
                }
            )
        properties[field] = schema
    return {"type": "object", "properties": properties}


def _gvk(rt: ResourceType, version: str) -> list[Obj]:
    return [{"group": rt.group, "version": version, "kind": rt.kind}]


def _crd_schema(rt: ResourceType, version: str, ref_prefix: str) -> Obj:
    from istio_config.schema import schema_for

    base = schema_for(rt.group, version, rt.kind) if rt.group.endswith("istio.io") else None
    if base is None:
        base = {"type": "object", "properties": {"spec": dict(_OPEN_OBJECT), "status": dict(_OPEN_OBJECT)}}
    properties = dict(base.get("properties") or {})
    properties.update(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": ref_prefix + model_name("V1ObjectMeta")},
        }
    )
    return {**base, "type": "object", "properties": properties}


@lru_cache(maxsize=64)
def _cached_definitions(group: str, version: str, ref_prefix: str) -> dict[str, Obj]:
    definitions: dict[str, Obj] = {}
    wanted: set[str] = set()
    for rt in RESOURCE_TYPES:
        if rt.group != group or version not in rt.versions:
            continue
        if rt.group in ("", "apps"):
            schema = _model_schema(f"V1{rt.kind}", ref_prefix, wanted)
        else:
            schema = _crd_schema(rt, version, ref_prefix)
            wanted.add("V1ObjectMeta")
        schema["x-kubernetes-group-version-kind"] = _gvk(rt, version)
        definitions[kind_name(rt, version)] = schema
    done: set[str] = set()
    while wanted - done:
        model = sorted(wanted - done)[0]
        done.add(model)
        name = model_name(model)
        if name not in definitions:
            definitions[name] = _model_schema(model, ref_prefix, wanted)
    return definitions


def definitions_for(group: str, version: str, ref_prefix: str = V3_REF) -> dict[str, Obj]:
    """Named schemas of the kinds served at ``group/version`` and of every model they reference (shared, do not
    modify). Empty when nothing is served there."""
    return _cached_definitions(group, version, ref_prefix)


@lru_cache(maxsize=1)
def _istio_kinds() -> dict[str, Obj]:
    from istio_config.schema import DATA_FILE

    with DATA_FILE.open(encoding="utf-8") as fh:
        kinds: dict[str, Obj] = json.load(fh)["kinds"]
    return kinds


def istio_crd_categories(group: str, kind: str) -> list[str]:
    """The ``categories`` of an Istio CRD (``istio-io``, ``networking-istio-io``), from the shipped CRD data."""
    return list((_istio_kinds().get(f"{group}/{kind}") or {}).get("categories") or [])


def group_versions() -> list[tuple[str, str]]:
    """Every served ``(group, version)``, in catalogue order."""
    seen: list[tuple[str, str]] = []
    for rt in RESOURCE_TYPES:
        for version in rt.versions:
            if (rt.group, version) not in seen:
                seen.append((rt.group, version))
    return seen


def resolve(schema: Obj, definitions: dict[str, Obj]) -> Obj:
    """``schema`` itself, or the definition its ``$ref`` names (empty when unknown)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return definitions.get(ref.rpartition("/")[2], {})
    return schema


class SchemaCursor:
    """A position in a kind's schema, followed field by field to find how lists merge (their merge key)."""

    def __init__(self, schema: Obj, definitions: dict[str, Obj]) -> None:
        self.schema = resolve(schema, definitions)
        self.definitions = definitions

    @classmethod
    def for_kind(cls, rt: ResourceType, version: str) -> SchemaCursor:
        """The cursor at the root of ``rt``'s schema at ``version`` (open when unknown)."""
        definitions = definitions_for(rt.group, version)
        return cls(definitions.get(kind_name(rt, version), {}), definitions)

    def field(self, name: str) -> SchemaCursor:
        """The schema of field ``name`` of this object (its ``additionalProperties`` for a map)."""
        sub = (self.schema.get("properties") or {}).get(name)
        if sub is None and isinstance(self.schema.get("additionalProperties"), dict):
            sub = self.schema["additionalProperties"]
        return SchemaCursor(sub or {}, self.definitions)

    def items(self) -> SchemaCursor:
        """The schema of this list's items."""
        items = self.schema.get("items")
        return SchemaCursor(items if isinstance(items, dict) else {}, self.definitions)

    @property
    def merge_keys(self) -> list[str]:
        """The keys of this list's items when it is a map-list (merged by key), else empty: atomic."""
        keys = self.schema.get("x-kubernetes-list-map-keys")
        return [str(k) for k in keys] if isinstance(keys, list) else []


def _unknown(value: object, schema: SchemaCursor, path: str, out: list[str]) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _unknown(item, schema.items(), f"{path}[{index}]", out)
        return
    if not isinstance(value, dict):
        return
    node = schema.schema
    known = node.get("properties")
    closed = (
        isinstance(known, dict)
        and not node.get("additionalProperties")
        and not node.get("x-kubernetes-preserve-unknown-fields")
    )
    for key, sub in value.items():
        where = f"{path}.{key}" if path else key
        if closed and key not in (known or {}):
            out.append(where)
        else:
            _unknown(sub, schema.field(key), where, out)


def unknown_fields(obj: Obj, schema: SchemaCursor) -> list[str]:
    """The paths (``spec.http[0].foo``) of the fields of ``obj`` its kind's schema does not declare."""
    out: list[str] = []
    _unknown(obj, schema, "", out)
    return out
