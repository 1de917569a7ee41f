"""What a write of an Istio object is given, read and checked before anything else happens: pure, no Django.

``read_document`` turns the posted text (YAML or JSON, one object, at most 256 KiB) into a dict or says why it
cannot, with the line of a YAML error; ``check_identity`` refuses a kind mesh-ui does not write, an apiVersion the
kind is not served at, a missing name, and a name, kind or namespace that is not the one the URL names;
``check_schema`` runs the CRD schema (Istio's, or the Gateway API's) as the API server would. ``config_yaml``
renders an object as the history keeps it (configuration only, no bookkeeping) and ``unified_diff`` compares two.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from clients.kubernetes_writes import writable_kind
from istio_config.checks.k8s_gateways import CHECK_KIND_OF_GATEWAY_API_KIND, GATEWAY_API_GROUP
from istio_config.gateway_api_schema import gateway_api_kinds, validate_gateway_api_object
from istio_config.schema import known_istio_kinds, validate_istio_object
from istio_config.yaml_lines import compose_yaml, dump_yaml, yaml_line_of

#: The largest object mesh-ui writes (the API server's own limit on a request is far larger; no Istio object
#: needs more).
MAX_DOCUMENT_BYTES = 256 * 1024

#: Metadata that says what the object is; the rest (resourceVersion, uid, managedFields...) is the cluster's.
CONFIG_METADATA = ("name", "namespace", "labels", "annotations")


@dataclass
class WriteInputError(ValueError):
    """Input that cannot be written: ``code`` is ``invalid-yaml`` or ``invalid-object``; ``details`` are
    ``{"line", "message"}`` entries (a YAML error) or ``{"field", "message"}`` (an object error)."""

    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ObjectRef:
    """An Istio object by the names URLs and the history use: check kind, namespace, name."""

    kind: str
    namespace: str
    name: str


def check_kind_of(group: str, kind: str) -> str:
    """The kind the checks, URLs and history know ``group``/``kind`` by (``K8sHTTPRoute`` for the Gateway API's)."""
    if group == GATEWAY_API_GROUP:
        return CHECK_KIND_OF_GATEWAY_API_KIND.get(kind, kind)
    return kind


def read_document(posted: str | dict[str, Any]) -> dict[str, Any]:
    """The one object of ``posted`` (YAML or JSON text, or an already parsed dict).

    Raises :class:`WriteInputError`: ``invalid-object`` for a body over :data:`MAX_DOCUMENT_BYTES`, several
    documents or something that is not an object; ``invalid-yaml`` with the line for text that does not parse.
    """
    if isinstance(posted, dict):
        size = len(json.dumps(posted, default=str).encode())
        document: Any = posted
    else:
        size = len(posted.encode())
    if size > MAX_DOCUMENT_BYTES:
        raise WriteInputError(
            "invalid-object", f"the object is {size} bytes; mesh-ui writes objects of at most {MAX_DOCUMENT_BYTES}"
        )
    if isinstance(posted, str):
        try:
            documents = [d for d in yaml.safe_load_all(posted) if d is not None]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise WriteInputError(
                "invalid-yaml",
                f"the text is not valid YAML{f' (line {line})' if line else ''}: {problem}",
                [{"line": line, "message": str(problem)}],
            ) from exc
        if len(documents) != 1:
            raise WriteInputError("invalid-object", f"give exactly one object (the text holds {len(documents)})")
        document = documents[0]
    if not isinstance(document, dict):
        raise WriteInputError("invalid-object", "the text must be one object (a YAML mapping or JSON object)")
    return document


def _served_versions(group: str, kind: str) -> tuple[str, ...]:
    if group == GATEWAY_API_GROUP:
        return gateway_api_kinds().get(kind, ())
    return tuple(k["version"] for k in known_istio_kinds() if k["group"] == group and k["kind"] == kind)


def _object_error(message: str, field_path: str) -> WriteInputError:
    return WriteInputError("invalid-object", message, [{"field": field_path, "message": message}])


def check_identity(document: dict[str, Any], expected: ObjectRef | None = None) -> ObjectRef:
    """What ``document`` names, refused unless mesh-ui writes its kind at its apiVersion and it has a name.

    ``expected`` is the object the URL names (an update, delete or rollback): the document must name the same one;
    a document without a namespace takes the URL's. Raises :class:`WriteInputError` (``invalid-object``).
    """
    api_version = document.get("apiVersion")
    kind = document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        raise _object_error("apiVersion and kind are required", "kind")
    group, _, version = api_version.rpartition("/")
    if writable_kind(group, kind) is None:
        raise _object_error(f"{api_version} {kind} is not an Istio or Gateway API kind mesh-ui writes", "kind")
    served = _served_versions(group, kind)
    if version not in served:
        raise _object_error(
            f"{kind} is not served at {api_version}; use one of {', '.join(f'{group}/{v}' for v in served)}",
            "apiVersion",
        )
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        raise _object_error("metadata is required (with a name)", "metadata")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise _object_error("metadata.name is required", "metadata.name")
    namespace = metadata.get("namespace")
    if namespace in (None, "") and expected is not None:
        namespace = metadata["namespace"] = expected.namespace
    if not isinstance(namespace, str) or not namespace:
        raise _object_error("metadata.namespace is required", "metadata.namespace")
    ref = ObjectRef(check_kind_of(group, kind), namespace, name)
    if expected is not None:
        for what, given, wanted in (
            ("kind", ref.kind, expected.kind),
            ("metadata.namespace", ref.namespace, expected.namespace),
            ("metadata.name", ref.name, expected.name),
        ):
            if given != wanted:
                raise _object_error(f"{what} is {given!r} but this is {wanted!r}; create a new object instead", what)
    return ref


def check_schema(document: dict[str, Any], text: str = "") -> list[dict[str, Any]]:
    """The CRD schema failures of ``document`` as ``{"path", "message", "line", "severity", "code"}``, each
    pinned to the line of ``text`` (the posted YAML or JSON) where the field is written."""
    group = str(document.get("apiVersion", "")).rpartition("/")[0]
    causes = validate_gateway_api_object(document) if group == GATEWAY_API_GROUP else validate_istio_object(document)
    root = compose_yaml(text) if text else None
    return [
        {
            "path": str(c.get("field", "")),
            "message": str(c.get("message", "")),
            "line": yaml_line_of(str(c.get("field", "")), root) if root is not None and c.get("field") else None,
            "severity": "error",
            "code": "schema",
        }
        for c in causes
    ]


def config_document(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` reduced to its configuration: apiVersion, kind, metadata (name, namespace, labels, annotations) and
    everything else but ``status``, keys sorted below the top; the cluster's bookkeeping (resourceVersion, uid,
    managedFields) is dropped."""
    found = obj.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    kept = {key: _keys_sorted(metadata[key]) for key in CONFIG_METADATA if metadata.get(key)}
    out: dict[str, Any] = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": kept}
    rest = sorted(k for k in obj if k not in ("apiVersion", "kind", "metadata", "status"))
    out.update({k: _keys_sorted(obj[k]) for k in rest})
    return out


def _keys_sorted(value: Any) -> Any:
    """``value`` with the keys of every mapping in it sorted (lists keep their order).

    The same object read from the stored copy and from the cluster must give the same text: PostgreSQL's ``jsonb``
    keeps keys in its own order (shortest first), the API server in the order they were written.
    """
    if isinstance(value, dict):
        return {key: _keys_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_keys_sorted(item) for item in value]
    return value


def config_yaml(obj: dict[str, Any] | None) -> str:
    """:func:`config_document` of ``obj`` as YAML; empty for no object (before a create, after a delete)."""
    if not obj:
        return ""
    return dump_yaml(config_document(obj))


def unified_diff(before: str, after: str, from_name: str = "before", to_name: str = "after") -> str:
    """A unified diff of two YAML texts (empty when they are equal)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=from_name, tofile=to_name
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
