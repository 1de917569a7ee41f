"""Patch application of the simulated Kubernetes API server.

RFC 7386 JSON merge patches (also used for strategic merge patches, which the
simulator does not distinguish), RFC 6902 JSON patches, and the choice between
them by the request's ``Content-Type``.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.errors import BadRequest, Invalid, UnsupportedMediaType


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (also used for strategic merge patches)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise Invalid(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise Invalid(f"jsonpatch: path not found: /{'/'.join(parts)}")
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise Invalid(f"jsonpatch: invalid array index: {last}")
    else:
        raise Invalid(f"jsonpatch: cannot add to /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise Invalid("jsonpatch: cannot remove the whole document")
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    _resolve(parent, [last])
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    """Apply an RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise BadRequest("json patch must be a list of operations")
    doc = json.loads(json.dumps(doc))
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BadRequest(f"invalid json patch operation: {op!r}")
        parts = _pointer(str(op["path"]))
        kind = op["op"]
        if kind == "add":
            doc = _add(doc, parts, json.loads(json.dumps(op.get("value"))))
        elif kind == "remove":
            doc = _remove(doc, parts)
        elif kind == "replace":
            if parts:
                _resolve(doc, parts)
                doc = _add(_remove(doc, parts), parts, json.loads(json.dumps(op.get("value"))))
            else:
                doc = op.get("value")
        elif kind in ("move", "copy"):
            source = _pointer(str(op.get("from", "")))
            value = json.loads(json.dumps(_resolve(doc, source)))
            if kind == "move":
                doc = _remove(doc, source)
            doc = _add(doc, parts, value)
        elif kind == "test":
            if _resolve(doc, parts) != op.get("value"):
                raise Invalid(f"jsonpatch: test operation failed at {op['path']}")
        else:
            raise BadRequest(f"invalid json patch op: {kind!r}")
    return doc


def apply_patch(content_type: str | None, current: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``current`` as the request's ``Content-Type`` says (JSON, merge or strategic merge)."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json-patch+json":
        return json_patch(current, patch)
    if media_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        return merge_patch(current, patch)
    raise UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types "
        f"include: application/json-patch+json, application/merge-patch+json, "
        f"application/strategic-merge-patch+json (got {media_type!r})"
    )
