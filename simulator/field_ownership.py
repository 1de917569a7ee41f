"""Field ownership (``metadata.managedFields``) and server-side apply of the simulated API server.

A simplified version of the API server's structured-merge-diff, enough for ``kubectl apply --server-side`` and
GitOps tools:

- An object's fields are its **leaves**: scalars, empty maps, and atomic lists as a whole. Map-lists (the lists
  the kind's schema merges by key, :class:`~simulator.openapi_models.SchemaCursor`) are followed item by item
  (``k:{"name":"x"}``); every other list is one field, owned whole. ``apiVersion``, ``kind``, ``status`` and the
  server-set metadata (name, namespace, uid, resourceVersion, generation, creationTimestamp, managedFields) are
  never owned.
- Every write records who set what, in ``managedFields`` (``FieldsV1``): a create, replace or patch gives its
  manager (``?fieldManager=``, else the User-Agent's product, as the real server does) the fields it changed, and
  takes them from every other manager; fields that disappear leave every set.
- An **apply** (``PATCH`` with ``application/apply-patch+yaml``) by manager M: a field of the applied configuration
  that another manager owns *with a different value* is a conflict (409, one cause per field) unless ``?force=true``,
  which moves it to M. The applied configuration is merged into the object (maps merged, map-lists merged by key,
  atomic lists and scalars replaced); M then owns exactly the fields it applied; the fields M owned before, no
  longer applied and owned by nobody else, are removed (with the maps and map-list items left empty).

What is simpler than the real server: no per-field version conversion (``apiVersion`` of an entry is the one the
write used), no ``x-kubernetes-map-type: granular`` nor set-lists, no defaulting before comparing values, and an
atomic list's ownership never splits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from simulator.errors import Conflict
from simulator.openapi_models import SchemaCursor
from simulator.resources import Obj

Path = tuple[str, ...]
_SERVER_METADATA = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")
_UNOWNED = ("apiVersion", "kind", "status")


def _key_token(item: Obj, keys: list[str]) -> str:
    return "k:" + json.dumps({k: item[k] for k in keys}, separators=(",", ":"), sort_keys=True)


def _walk(value: Any, schema: SchemaCursor, prefix: Path, out: set[Path]) -> None:
    if value is None:  # an applied null removes the field: nobody owns it
        return
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _walk(sub, schema.field(key), (*prefix, f"f:{key}"), out)
        return
    keys = schema.merge_keys
    if isinstance(value, list) and keys and all(isinstance(i, dict) and all(k in i for k in keys) for i in value):
        for item in value:
            _walk(item, schema.items(), (*prefix, _key_token(item, keys)), out)
        return
    out.add(prefix)


def field_set(obj: Obj, schema: SchemaCursor) -> set[Path]:
    """The owned-field paths (leaves) of ``obj``."""
    out: set[Path] = set()
    for key, value in obj.items():
        if key in _UNOWNED:
            continue
        if key == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in value.items() if k not in _SERVER_METADATA}
            _walk(meta, schema.field("metadata"), ("f:metadata",), out) if meta else None
            continue
        _walk(value, schema.field(key), (f"f:{key}",), out)
    return out


def value_at(obj: Any, path: Path) -> Any:
    """The value at ``path`` in ``obj`` (``None`` when absent)."""
    for token in path:
        if token.startswith("f:") and isinstance(obj, dict):
            obj = obj.get(token[2:])
        elif token.startswith("k:") and isinstance(obj, list):
            wanted = json.loads(token[2:])
            obj = next((i for i in obj if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items())), None)
        else:
            return None
    return obj


def _remove(obj: Any, path: Path) -> None:
    """Remove the field at ``path``, then the maps and map-list items it leaves empty (keys alone count as empty)."""
    if not path:
        return
    parent = value_at(obj, path[:-1])
    token = path[-1]
    if token.startswith("f:") and isinstance(parent, dict):
        parent.pop(token[2:], None)
    elif token.startswith("k:") and isinstance(parent, list):
        item = value_at(parent, (token,))
        if item is not None:
            parent.remove(item)
    else:
        return
    if len(path) > 1:
        container = value_at(obj, path[:-1])
        key_only = path[-2].startswith("k:") and set(container or {}) <= set(json.loads(path[-2][2:]))
        if container in ({}, []) or key_only:
            _remove(obj, path[:-1])


def to_fields_v1(paths: set[Path]) -> Obj:
    """A set of paths as a ``FieldsV1`` tree (leaves ``{}``; ``"."`` for a path that also has children)."""
    tree: Obj = {}
    for path in sorted(paths):
        node = tree
        for token in path:
            node = node.setdefault(token, {})
    for path in paths:
        node = tree
        for token in path:
            node = node[token]
        if node:
            node["."] = {}
    return tree


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    """The paths of a ``FieldsV1`` tree."""
    out: set[Path] = set()
    if not isinstance(tree, dict):
        return out
    for token, child in tree.items():
        if token == ".":
            out.add(prefix)
        elif isinstance(child, dict) and child:
            out |= from_fields_v1(child, (*prefix, token))
        else:
            out.add((*prefix, token))
    return out


def _entries(obj: Obj) -> list[Obj]:
    entries = (obj.get("metadata") or {}).get("managedFields")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _owners(obj: Obj) -> dict[tuple[str, str], tuple[set[Path], str]]:
    """``(manager, operation) -> (owned paths, apiVersion)`` of an object's managedFields."""
    return {
        (str(e.get("manager", "")), str(e.get("operation", "Update"))): (
            from_fields_v1(e.get("fieldsV1")),
            str(e.get("apiVersion", "")),
        )
        for e in _entries(obj)
    }


def _store(
    obj: Obj, owners: dict[tuple[str, str], tuple[set[Path], str]], touched: tuple[str, str], changed: bool
) -> None:
    """Write ``owners`` as ``obj``'s managedFields; ``touched`` wrote, changing the object or not (``changed``)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = {(str(e.get("manager", "")), str(e.get("operation", ""))): e for e in _entries(obj)}
    entries = []
    for key, (paths, api_version) in owners.items():
        if not paths:
            continue
        fields = to_fields_v1(paths)
        old = before.get(key)
        # An entry keeps its time unless its fields changed or its manager wrote a change: a no-op write leaves
        # the object as it was (no new resourceVersion, no watch event), as on the API server.
        unchanged = old is not None and old.get("fieldsV1") == fields and not (key == touched and changed)
        entries.append(
            {
                "manager": key[0],
                "operation": key[1],
                "apiVersion": api_version if not unchanged or old is None else old.get("apiVersion", api_version),
                "time": old.get("time", now) if unchanged and old is not None else now,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            }
        )
    meta = obj.setdefault("metadata", {})
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def record_update(old: Obj | None, new: Obj, manager: str, schema: SchemaCursor) -> None:
    """Record a create/replace/patch by ``manager`` in ``new``'s managedFields (``old``: the object before).

    A write that sets managedFields itself (``kubectl apply --server-side`` migrating a client-side apply's
    ownership, a backup being restored) keeps what it set, as the API server does; ``[{}]`` (a single empty entry)
    clears them, while an empty list is ignored, so that clients unaware of the field never strip it.
    """
    given = (new.get("metadata") or {}).get("managedFields")
    if given == [{}]:
        new["metadata"].pop("managedFields", None)
        return
    if given and isinstance(given, list) and given != _entries(old or {}) and all(isinstance(e, dict) for e in given):
        return
    owners = _owners(old or {})
    new_fields = field_set(new, schema)
    changed = {p for p in new_fields if old is None or value_at(old, p) != value_at(new, p)}
    for key, (paths, version) in owners.items():
        owners[key] = ((paths & new_fields) - changed, version)
    mine, _ = owners.get((manager, "Update"), (set(), ""))
    owners[(manager, "Update")] = ((mine & new_fields) | changed, str(new.get("apiVersion", "")))
    new.setdefault("metadata", {})["managedFields"] = _entries(old or {})  # the server's, not the body's
    _store(new, owners, (manager, "Update"), bool(changed))


def _without_managed(obj: Obj) -> Obj:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def _merge_applied(current: Any, applied: Any, schema: SchemaCursor) -> Any:
    if isinstance(current, dict) and isinstance(applied, dict):
        result = dict(current)
        for key, value in applied.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = _merge_applied(current.get(key), value, schema.field(key))
        return result
    keys = schema.merge_keys
    if isinstance(current, list) and isinstance(applied, list) and keys:
        result_list = list(current)
        for item in applied:
            if not isinstance(item, dict) or not all(k in item for k in keys):
                continue
            token = _key_token(item, keys)
            existing = value_at(result_list, (token,))
            if existing is None:
                result_list.append(item)
            else:
                result_list[result_list.index(existing)] = _merge_applied(existing, item, schema.items())
        return result_list
    return applied


def _describe(path: Path) -> str:
    parts = []
    for token in path:
        if token.startswith("f:"):
            parts.append("." + token[2:])
        else:
            keys = json.loads(token[2:])
            parts.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]")
    return "".join(parts)


def server_side_apply(current: Obj, applied: Obj, manager: str, force: bool, schema: SchemaCursor) -> Obj:
    """The object after ``manager`` applies ``applied`` to ``current`` (see the module docstring); raises
    :class:`Conflict` for fields other managers own with other values, unless ``force``."""
    owners = _owners(current)
    applied_fields = field_set(applied, schema)
    conflicts: list[tuple[str, Path]] = []
    for (other, operation), (paths, _version) in owners.items():
        if (other, operation) == (manager, "Apply"):
            continue
        for path in sorted(paths & applied_fields):
            if value_at(current, path) != value_at(applied, path):
                conflicts.append((other, path))
    if conflicts and not force:
        causes = [
            {"reason": "FieldManagerConflict", "message": f'conflict with "{other}"', "field": _describe(path)}
            for other, path in conflicts
        ]
        if len(causes) == 1:
            listing = f"{causes[0]['message']}: {causes[0]['field']}"
        else:
            listing = "\n" + "\n".join(f"- {c['message']}: {c['field']}" for c in causes)
        plural = "conflict" if len(causes) == 1 else "conflicts"
        raise Conflict(f"Apply failed with {len(causes)} {plural}: {listing}", {"causes": causes})
    mine, _ = owners.get((manager, "Apply"), (set(), ""))
    for key, (paths, version) in owners.items():
        owners[key] = (paths - applied_fields, version)
    owners[(manager, "Apply")] = (applied_fields, str(applied.get("apiVersion", "")))
    merged = _merge_applied({k: v for k, v in current.items()}, applied, schema)
    still_owned = set().union(*(paths for paths, _ in owners.values()))
    for path in sorted(mine - applied_fields, key=len, reverse=True):
        if path not in still_owned:
            _remove(merged, path)
    _store(merged, owners, (manager, "Apply"), _without_managed(merged) != _without_managed(current))
    return merged
