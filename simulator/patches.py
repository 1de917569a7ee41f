"""Patch application of the simulated Kubernetes API server.

RFC 7386 JSON merge patches, RFC 6902 JSON patches, Kubernetes strategic merge patches, and the choice between
them by the request's ``Content-Type``. A strategic merge patch merges the lists the kind's schema marks as
map-lists (:class:`~simulator.openapi_models.SchemaCursor`: containers by ``name``, Service ports by ``port``...)
item by item and honours the directives ``kubectl`` sends (``$patch: replace|delete|merge``,
``$setElementOrder/<list>``, ``$deleteFromPrimitiveList/<list>``, ``$retainKeys``); every other list is replaced
whole, which makes it a JSON merge patch for kinds without such lists (the Istio kinds).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from simulator.errors import BadRequest, Invalid, UnsupportedMediaType
from simulator.openapi_models import SchemaCursor

APPLY_PATCH = "application/apply-patch+yaml"


def parse_apply_body(body: bytes) -> Any:
    """The applied configuration of a server-side apply: YAML (JSON is YAML too), one object."""
    try:
        applied = yaml.safe_load(body.decode() or "null")
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BadRequest(f"error decoding YAML: {error}") from error
    if not isinstance(applied, dict):
        raise BadRequest("the applied configuration must be an object")
    return applied


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _item_key(item: Any, keys: list[str]) -> tuple[Any, ...] | None:
    if not isinstance(item, dict) or not all(k in item for k in keys):
        return None
    return tuple(json.dumps(item[k], sort_keys=True) for k in keys)


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_list(current: list[Any], patch: list[Any], schema: SchemaCursor) -> list[Any]:
    """Merge a patch list into a map-list, item by item (``$patch: delete`` removes an item)."""
    keys = schema.merge_keys
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_strip_directives(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    result = list(current)
    for item in patch:
        key = _item_key(item, keys)
        index = next((i for i, old in enumerate(result) if key is not None and _item_key(old, keys) == key), None)
        if isinstance(item, dict) and item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is not None:
            result[index] = strategic_merge_patch(result[index], item, schema.items())
        elif key is not None or not isinstance(item, dict):
            result.append(_strip_directives(item))
    return result


def _reorder(items: list[Any], order: list[Any], keys: list[str]) -> list[Any]:
    """``$setElementOrder``: the items named in ``order`` first, in that order, then the others."""
    position = {(_item_key(o, keys) if keys else json.dumps(o)): i for i, o in enumerate(order)}

    def rank(item: Any) -> int:
        return position.get(_item_key(item, keys) if keys else json.dumps(item), len(order))

    return sorted(items, key=rank)


def strategic_merge_patch(target: Any, patch: Any, schema: SchemaCursor) -> Any:
    """A Kubernetes strategic merge patch of ``target`` (see the module docstring)."""
    if not isinstance(patch, dict):
        return _strip_directives(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.partition("/")[2]
            result[field] = [v for v in result.get(field) or [] if v not in (value or [])]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, list) and schema.field(key).merge_keys:
            result[key] = _merge_list(result.get(key) or [], value, schema.field(key))
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value, schema.field(key))
        else:
            result[key] = _strip_directives(value)
    for key, order in patch.items():
        field = key.partition("/")[2]
        if key.startswith("$setElementOrder/") and isinstance(result.get(field), list):
            result[field] = _reorder(result[field], order or [], schema.field(field).merge_keys)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
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


def apply_patch(content_type: str | None, current: Any, patch: Any, schema: SchemaCursor | None = None) -> Any:
    """Apply ``patch`` to ``current`` as the request's ``Content-Type`` says (JSON, merge or strategic merge);
    ``schema`` (the kind's) says which lists a strategic merge patch merges by key."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json-patch+json":
        return json_patch(current, patch)
    if media_type == "application/merge-patch+json":
        return merge_patch(current, patch)
    if media_type == "application/strategic-merge-patch+json":
        return strategic_merge_patch(current, patch, schema or SchemaCursor({}, {}))
    raise UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types "
        f"include: application/json-patch+json, application/merge-patch+json, "
        f"application/strategic-merge-patch+json, application/apply-patch+yaml (got {media_type!r})"
    )
