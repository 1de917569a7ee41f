"""Admission validation of the simulated Kubernetes API server.

Checks object names against the DNS-1123 rules the real server enforces; for core kinds, the rules of the
API server's own validation that users trip over (a container without an image, in a Pod or a workload's pod
template; a ``nodePort`` on a ClusterIP Service; a Service port protocol other than TCP, UDP or SCTP), with its
exact field paths and messages; for Istio kinds, the Istio CRD schema; for the Gateway API kinds, their structural
schema (:mod:`istio_config.gateway_api_schema`). Builds the 422 ``Invalid`` error with causes.
"""

from __future__ import annotations

import re

from simulator.errors import Invalid
from simulator.resources import GATEWAY_API_GROUP, Obj, ResourceType

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAMES = {"Namespace", "Service"}
_POD_TEMPLATE_KINDS = {"Deployment", "ReplicaSet", "StatefulSet"}
SERVICE_PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")


def _required(field: str) -> Obj:
    return {"reason": "FieldValueRequired", "message": "Required value", "field": field}


def _container_causes(pod_spec: Obj, path: str) -> list[Obj]:
    """Kubernetes' ``validateContainers``, the parts users meet: containers present, each named, with an image."""
    containers = pod_spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [_required(f"{path}.containers")]
    causes: list[Obj] = []
    for field in ("containers", "initContainers"):
        for index, container in enumerate(pod_spec.get(field) or []):
            container = container if isinstance(container, dict) else {}
            if not container.get("name"):
                causes.append(_required(f"{path}.{field}[{index}].name"))
            if not container.get("image"):
                causes.append(_required(f"{path}.{field}[{index}].image"))
    return causes


def _service_causes(spec: Obj) -> list[Obj]:
    """Kubernetes' ``ValidateService`` for ports: protocol TCP/UDP/SCTP, no ``nodePort`` on a ClusterIP Service."""
    causes: list[Obj] = []
    cluster_ip = spec.get("type", "ClusterIP") == "ClusterIP"
    for index, port in enumerate(spec.get("ports") or []):
        port = port if isinstance(port, dict) else {}
        protocol = port.get("protocol", "TCP")
        if protocol not in SERVICE_PORT_PROTOCOLS:
            supported = ", ".join(f'"{p}"' for p in SERVICE_PORT_PROTOCOLS)
            causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "message": f'Unsupported value: "{protocol}": supported values: {supported}',
                    "field": f"spec.ports[{index}].protocol",
                }
            )
        if cluster_ip and port.get("nodePort"):
            causes.append(
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: may not be used when `type` is 'ClusterIP'",
                    "field": f"spec.ports[{index}].nodePort",
                }
            )
    return causes


def _mapping(value: object) -> Obj:
    return value if isinstance(value, dict) else {}


def core_causes(obj: Obj, rt: ResourceType) -> list[Obj]:
    """The core-kind rules of the API server's validation this simulator enforces."""
    spec = _mapping(obj.get("spec"))
    if rt.kind == "Pod":
        return _container_causes(spec, "spec")
    if rt.kind in _POD_TEMPLATE_KINDS:
        return _container_causes(_mapping(_mapping(spec.get("template")).get("spec")), "spec.template.spec")
    if rt.kind == "Service":
        return _service_causes(spec)
    return []


def validation_causes(obj: Obj, rt: ResourceType) -> list[Obj]:
    """Field causes making ``obj`` invalid: metadata checks plus Istio's CRD schema for Istio kinds."""
    causes: list[Obj] = []
    meta = obj.get("metadata") or {}
    name = meta.get("name") or (str(meta.get("generateName") or "") + "x")
    pattern, what, limit = (
        (_DNS1123_LABEL, "RFC 1123 label", 63)
        if rt.kind in _LABEL_NAMES
        else (_DNS1123_SUBDOMAIN, "RFC 1123 subdomain", 253)
    )
    if not pattern.match(name) or len(name) > limit:
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                "alphanumeric characters, '-' or '.', and must start and end with an "
                "alphanumeric character",
            }
        )
    causes.extend(core_causes(obj, rt))
    if rt.group.endswith("istio.io"):
        from istio_config.schema import validate_istio_object

        known = {c["field"] for c in causes}
        causes.extend(dict(c) for c in validate_istio_object(obj) if c.get("field") not in known)
    elif rt.group == GATEWAY_API_GROUP:
        from istio_config.gateway_api_schema import validate_gateway_api_object

        causes.extend(dict(c) for c in validate_gateway_api_object(obj))
    return causes


def invalid_error(obj: Obj, rt: ResourceType, causes: list[Obj]) -> Invalid:
    """The 422 error for ``obj`` with the given causes."""
    name = (obj.get("metadata") or {}).get("name", "")
    qualified = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    summary = ", ".join(f"{c.get('field', '')}: {c.get('message', '')}" for c in causes)
    details: Obj = {"name": name, "kind": rt.kind, "causes": causes}
    if rt.group:
        details["group"] = rt.group
    return Invalid(
        f'{qualified} "{name}" is invalid: [{summary}]'
        if len(causes) > 1
        else f'{qualified} "{name}" is invalid: {summary}',
        details,
    )
