"""The OpenAPI documents of the simulated API server, as ``kubectl`` reads them.

- ``/openapi/v3``: the index of group-versions, each with its ``serverRelativeURL`` (carrying a content hash, as the
  real server's does, so clients may cache it);
- ``/openapi/v3/api/v1``, ``/openapi/v3/apis/{group}/{version}``: one OpenAPI 3.0 document per group-version, with
  the schemas of :mod:`simulator.openapi_models` and a path per resource whose operations carry
  ``x-kubernetes-group-version-kind``. Its ``PATCH`` lists the ``fieldValidation`` parameter, which is what tells
  ``kubectl`` (>= 1.27) to leave validation to the server, and the patch media types the server accepts
  (strategic merge only for the built-in kinds, as for a real cluster's CRDs);
- ``/openapi/v2``: the whole API as one Swagger 2.0 document (definitions and ``PATCH`` paths), JSON or, as kubectl
  asks for it, protobuf (:mod:`simulator.openapi_proto`). Swagger 2.0 has no ``oneOf``/``anyOf``/``not`` nor
  ``nullable``: they are dropped, as the API server drops them when it publishes CRD schemas in v2.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from simulator.errors import NotFound
from simulator.openapi_models import V2_REF, V3_REF, definitions_for, group_versions, kind_name
from simulator.openapi_proto import encode_document
from simulator.resources import RESOURCE_TYPES, Obj, ResourceType

OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
_SMP = "application/strategic-merge-patch+json"
_V2_DROPPED = ("oneOf", "anyOf", "not", "nullable", "x-kubernetes-validations")
_QUERY_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def gv_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/{group}/{version}``: the key of a group-version in the v3 index."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _parse_gv_path(path: str) -> tuple[str, str]:
    parts = path.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        return "", parts[1]
    if parts[:1] == ["apis"] and len(parts) == 3:
        return parts[1], parts[2]
    raise NotFound("the server could not find the requested resource")


def _resource_paths(rt: ResourceType, version: str) -> tuple[str, str]:
    prefix = f"/{gv_path(rt.group, version)}"
    if rt.namespaced:
        prefix += "/namespaces/{namespace}"
    return f"{prefix}/{rt.plural}", f"{prefix}/{rt.plural}/{{name}}"


def _parameters() -> list[Obj]:
    return [
        {"name": name, "in": "query", "schema": {"type": "boolean" if name == "force" else "string"}}
        for name in _QUERY_PARAMETERS
    ]


def _v3_paths(rt: ResourceType, version: str) -> Obj:
    gvk = {"group": rt.group, "version": version, "kind": rt.kind}
    body = {"schema": {"$ref": V3_REF + kind_name(rt, version)}}
    ok = {"200": {"description": "OK", "content": {"application/json": body}}}
    patch_types = (*_PATCH_TYPES, _SMP) if rt.group in ("", "apps") else _PATCH_TYPES

    def operation(action: str, **extra: Any) -> Obj:
        return {
            "operationId": f"{action}{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            **extra,
        }

    collection, item = _resource_paths(rt, version)
    return {
        collection: {
            "get": operation("list"),
            "post": operation("post", parameters=_parameters(), requestBody={"content": {"application/json": body}}),
        },
        item: {
            "get": operation("get"),
            "put": operation("put", parameters=_parameters(), requestBody={"content": {"application/json": body}}),
            "patch": operation(
                "patch", parameters=_parameters(), requestBody={"content": {t: {"schema": {}} for t in patch_types}}
            ),
            "delete": operation("delete", parameters=_parameters()),
        },
    }


@lru_cache(maxsize=64)
def _v3_document(group: str, version: str) -> bytes:
    paths: Obj = {}
    for rt in RESOURCE_TYPES:
        if rt.group == group and version in rt.versions:
            paths.update(_v3_paths(rt, version))
    if not paths:
        raise NotFound("the server could not find the requested resource")
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.31.0"},
        "paths": paths,
        "components": {"schemas": definitions_for(group, version, V3_REF)},
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def v3_document(path: str, hidden_groups: frozenset[str] = frozenset()) -> bytes:
    """The JSON OpenAPI v3 document of the group-version at ``path`` (``api/v1``, ``apis/{group}/{version}``)."""
    group, version = _parse_gv_path(path)
    if group in hidden_groups:
        raise NotFound("the server could not find the requested resource")
    return _v3_document(group, version)


def v3_index(hidden_groups: frozenset[str] = frozenset()) -> Obj:
    """``/openapi/v3``: each group-version and the URL of its document (with a content hash)."""
    paths: Obj = {}
    for group, version in group_versions():
        if group in hidden_groups:
            continue
        digest = hashlib.sha512(_v3_document(group, version)).hexdigest()[:32].upper()
        key = gv_path(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}


def to_v2_schema(schema: Any) -> Any:
    """An OpenAPI v3 schema as Swagger 2.0 allows it (no oneOf/anyOf/not/nullable)."""
    if isinstance(schema, list):
        return [to_v2_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: Obj = {}
    for key, value in schema.items():
        if key in _V2_DROPPED:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: to_v2_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = to_v2_schema(value)
        elif key == "allOf" and isinstance(value, list):
            kept = [converted for converted in (to_v2_schema(item) for item in value) if converted]
            if kept:
                out[key] = kept
        else:
            out[key] = value
    return out


@lru_cache(maxsize=4)
def v2_document(hidden_groups: frozenset[str] = frozenset()) -> Obj:
    """``/openapi/v2``: every served kind's definitions and ``PATCH`` path, as one Swagger 2.0 document."""
    definitions: Obj = {}
    paths: Obj = {}
    for group, version in group_versions():
        if group in hidden_groups:
            continue
        for name, schema in definitions_for(group, version, V2_REF).items():
            definitions.setdefault(name, to_v2_schema(schema))
    parameters = [{"name": name, "in": "query", "type": "string"} for name in _QUERY_PARAMETERS]
    for rt in RESOURCE_TYPES:
        if rt.group in hidden_groups:
            continue
        for version in rt.versions:
            _, item = _resource_paths(rt, version)
            gvk = {"group": rt.group, "version": version, "kind": rt.kind}
            ok = {"200": {"description": "OK", "schema": {"$ref": V2_REF + kind_name(rt, version)}}}
            patch_types = [*_PATCH_TYPES, _SMP] if rt.group in ("", "apps") else list(_PATCH_TYPES)
            paths[item] = {
                "get": {"operationId": f"read{rt.kind}", "responses": ok, "x-kubernetes-action": "get",
                        "x-kubernetes-group-version-kind": gvk},
                "patch": {"operationId": f"patch{rt.kind}", "consumes": patch_types, "parameters": parameters,
                          "responses": ok, "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk},
            }  # fmt: skip
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.31.0"},
        "paths": paths,
        "definitions": definitions,
    }


@lru_cache(maxsize=4)
def v2_protobuf(hidden_groups: frozenset[str] = frozenset()) -> bytes:
    """:func:`v2_document` encoded as gnostic's ``openapi.v2.Document`` (:mod:`simulator.openapi_proto`)."""
    return encode_document(v2_document(hidden_groups))
