"""Admission validation of the simulated Kubernetes API server.

Checks object names against the DNS-1123 rules the real server enforces and, for
Istio kinds, the Istio CRD schema, and builds the 422 ``Invalid`` error with causes.
"""

from __future__ import annotations

import re

from simulator.errors import Invalid
from simulator.resources import Obj, ResourceType

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAMES = {"Namespace", "Service"}


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
    if rt.group.endswith("istio.io"):
        try:
            from istio_config.schema import validate_istio_object
        except ImportError:
            return causes
        known = {c["field"] for c in causes}
        causes.extend(dict(c) for c in validate_istio_object(obj) if c.get("field") not in known)
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
