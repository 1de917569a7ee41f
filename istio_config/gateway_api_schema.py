"""Structural validation of the Kubernetes Gateway API kinds Istio implements (Gateway, HTTPRoute, GRPCRoute,
ReferenceGrant of ``gateway.networking.k8s.io``), as the API server checks them against their CRDs.

Pure module. The Gateway API CRDs are not shipped with mesh-ui, so these schemas are hand-written from the Gateway
API specification (standard channel, v1.2): they carry the *required* fields, types, bounds and name/hostname
patterns of each kind, the list-map keys that make duplicate listener names an error, and the one CEL rule users
meet most ("Must have port for Service reference"). Everything they do not describe is kept as it is
(``x-kubernetes-preserve-unknown-fields``), so a valid object is never pruned; they are not the full CRDs (no
defaults, no enum of every field, not every CEL rule), which means an object these accept may still be rejected by
a real API server. The shared OpenAPI machinery is :mod:`istio_config.schema_nodes` and
:mod:`istio_config.schema_cel`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from istio_config.schema_cel import evaluate_rules
from istio_config.schema_errors import NOT_SUPPORTED, TYPE_INVALID, IstioCause, not_supported
from istio_config.schema_nodes import SchemaNode, compile_schema

GATEWAY_API_GROUP = "gateway.networking.k8s.io"

_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_GROUP = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_KIND = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"
_PROTOCOL = (
    r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"
    r"|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$"
)
_KEEP = {"x-kubernetes-preserve-unknown-fields": True}


def _string(min_length: int = 0, max_length: int = 253, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    if pattern:
        schema["pattern"] = pattern
    return schema


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **_KEEP}
    if required:
        schema["required"] = list(required)
    return schema


def _array(items: dict[str, Any], max_items: int, min_items: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": items, "maxItems": max_items}
    if min_items:
        schema["minItems"] = min_items
    return schema


_PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
_NAME = _string(1, 253)
_HOSTNAMES = _array(_string(1, 253, _HOSTNAME), 16)

_PARENT_REF = _object(
    {
        "group": _string(0, 253, _GROUP),
        "kind": _string(1, 63, _KIND),
        "namespace": _string(1, 63, _NAMESPACE),
        "name": _NAME,
        "sectionName": _string(1, 253, _SUBDOMAIN),
        "port": _PORT,
    },
    required=("name",),
)

# A backend without group and kind is a Service, which needs a port (the CRD's CEL rule, defaults folded in).
_BACKEND_REF = _object(
    {
        "group": _string(0, 253, _GROUP),
        "kind": _string(1, 63, _KIND),
        "namespace": _string(1, 63, _NAMESPACE),
        "name": _NAME,
        "port": _PORT,
        "weight": {"type": "integer", "minimum": 0, "maximum": 1000000},
    },
    required=("name",),
)
_BACKEND_REF["x-kubernetes-validations"] = [
    {
        "rule": "((!has(self.group) || size(self.group) == 0) && (!has(self.kind) || self.kind == 'Service'))"
        " ? has(self.port) : true",
        "message": "Must have port for Service reference",
    }
]


def _route_spec(rule_properties: dict[str, Any]) -> dict[str, Any]:
    return _object(
        {
            "parentRefs": _array(_PARENT_REF, 32),
            "hostnames": _HOSTNAMES,
            "rules": _array(_object({"backendRefs": _array(_BACKEND_REF, 16), **rule_properties}), 16),
        }
    )


_LISTENER = _object(
    {
        "name": _string(1, 253, _SUBDOMAIN),
        "hostname": _string(1, 253, _HOSTNAME),
        "port": _PORT,
        "protocol": _string(1, 255, _PROTOCOL),
        "tls": _object(
            {
                "mode": {"type": "string", "enum": ["Terminate", "Passthrough"]},
                "certificateRefs": _array(
                    _object(
                        {
                            "group": _string(0, 253, _GROUP),
                            "kind": _string(1, 63, _KIND),
                            "name": _NAME,
                            "namespace": _string(1, 63, _NAMESPACE),
                        },
                        required=("name",),
                    ),
                    64,
                ),
            }
        ),
    },
    required=("name", "port", "protocol"),
)

_GATEWAY_SPEC = _object(
    {
        "gatewayClassName": _string(1, 253),
        "listeners": {
            **_array(_LISTENER, 64, min_items=1),
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
        },
        "addresses": _array(_object({"type": _string(1, 253), "value": _string(1, 253)}, required=("value",)), 16),
    },
    required=("gatewayClassName", "listeners"),
)

_REFERENCE_GRANT_SPEC = _object(
    {
        "from": _array(
            _object(
                {"group": _string(0, 253, _GROUP), "kind": _string(1, 63, _KIND), "namespace": _string(1, 63)},
                required=("group", "kind", "namespace"),
            ),
            16,
            min_items=1,
        ),
        "to": _array(
            _object(
                {"group": _string(0, 253, _GROUP), "kind": _string(1, 63, _KIND), "name": _NAME},
                required=("group", "kind"),
            ),
            16,
            min_items=1,
        ),
    },
    required=("from", "to"),
)


def _root(spec: dict[str, Any], spec_required: bool = True) -> dict[str, Any]:
    root: dict[str, Any] = {"type": "object", "properties": {"spec": spec, "status": {"type": "object", **_KEEP}}}
    if spec_required:
        root["required"] = ["spec"]
    return root


#: (kind, served versions, schema) of each Gateway API kind mesh-ui knows.
_SCHEMAS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "Gateway": (("v1", "v1beta1"), _root(_GATEWAY_SPEC)),
    "HTTPRoute": (("v1", "v1beta1"), _root(_route_spec({"matches": _array(_object({}), 64)}))),
    "GRPCRoute": (("v1",), _root(_route_spec({"matches": _array(_object({}), 64)}))),
    "ReferenceGrant": (("v1beta1",), _root(_REFERENCE_GRANT_SPEC, spec_required=False)),
}


@lru_cache(maxsize=8)
def _compiled(kind: str) -> SchemaNode:
    return compile_schema(_SCHEMAS[kind][1])


def gateway_api_kinds() -> dict[str, tuple[str, ...]]:
    """Each Gateway API kind mesh-ui validates, with its served versions."""
    return {kind: versions for kind, (versions, _) in _SCHEMAS.items()}


def validate_gateway_api_object(obj: dict[str, Any]) -> list[IstioCause]:
    """Kubernetes-style causes for one Gateway API object (empty list = valid); metadata is not checked here."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    kind = str(obj.get("kind", ""))
    if group != GATEWAY_API_GROUP or kind not in _SCHEMAS:
        return [not_supported("kind", f"{group}/{kind}", sorted(f"{GATEWAY_API_GROUP}/{k}" for k in _SCHEMAS))]
    versions = _SCHEMAS[kind][0]
    if version not in versions:
        return [not_supported("apiVersion", obj.get("apiVersion"), [f"{group}/{v}" for v in versions])]
    node = _compiled(kind)
    body = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
    pruned = node.prune(body, (), [])
    causes: list[IstioCause] = []
    node.validate(pruned, (), causes)
    if not any(c["reason"] in (TYPE_INVALID, NOT_SUPPORTED) for c in causes):
        evaluate_rules(node, pruned, (), causes)
    return causes
