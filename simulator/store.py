"""In-memory object store of the simulated Kubernetes API server.

Objects are plain JSON-like dicts keyed by ``(group, plural, namespace, name)``
(``namespace`` is ``""`` for cluster-scoped kinds).  Like etcd, the store keeps a
single global, monotonically increasing resourceVersion and a bounded event log
that watchers read with :meth:`ObjectStore.events_since`.

Stored dicts are never mutated in place: every write stores a fresh copy, so
the server may serialize stored objects without copying them.  The public
``get``/``list`` methods return deep copies that callers may modify freely.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulator.errors import AlreadyExists, Conflict, Expired, Invalid, NotFound
from simulator.resources import Obj, not_found, resource_type, resource_type_for
from simulator.selectors import labels_of, parse_field_selector, parse_label_selector

Key = tuple[str, str, str, str]

DEFAULT_EVENT_LOG_SIZE = 10_000


def now_rfc3339() -> str:
    """The current UTC time as Kubernetes formats it (second precision)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deep_copy(obj: Any) -> Any:
    """Deep copy of a JSON-like value (faster than ``copy.deepcopy``)."""
    return json.loads(json.dumps(obj))


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class WatchEvent:
    """One change in the event log. ``previous`` is the object before a MODIFIED change."""

    rv: int
    type: str
    key: Key
    object: Obj
    previous: Obj | None = None


# --------------------------------------------------------------------------- store


class ObjectStore:
    """Thread-safe, versioned store of Kubernetes objects with a watchable event log."""

    def __init__(self, event_log_size: int = DEFAULT_EVENT_LOG_SIZE) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        # (group, plural) -> namespace -> name -> object
        self._objects: dict[tuple[str, str], dict[str, dict[str, Obj]]] = {}
        self._rv = 0
        self._events: deque[WatchEvent] = deque()
        self._event_log_size = event_log_size
        self._compacted_rv = 0

    # ------------------------------------------------------------------ versions
    @property
    def current_rv(self) -> int:
        """The latest resourceVersion handed out."""
        with self.lock:
            return self._rv

    @property
    def oldest_resumable_rv(self) -> int:
        """The oldest resourceVersion a watch may resume from without a 410."""
        with self.lock:
            return self._compacted_rv

    def compact(self, keep: int = 0) -> None:
        """Forget all but the last ``keep`` events; older resumes then get 410 Expired."""
        with self.lock:
            while len(self._events) > keep:
                self._compacted_rv = self._events.popleft().rv
            if keep == 0:
                self._compacted_rv = self._rv

    def events_since(self, rv: int) -> list[WatchEvent]:
        """Events with a resourceVersion greater than ``rv``; raises :class:`Expired` if compacted."""
        with self.lock:
            if rv < self._compacted_rv:
                raise Expired(f"too old resource version: {rv} ({self._compacted_rv})")
            if not self._events or self._events[-1].rv <= rv:
                return []
            if self._events[0].rv > rv:
                return list(self._events)
            result = []
            for event in reversed(self._events):
                if event.rv <= rv:
                    break
                result.append(event)
            result.reverse()
            return result

    def wait_for_change(self, after_rv: int, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until the store moves past ``after_rv`` or :meth:`notify_all`.

        Returns whether the store is past ``after_rv``; callers loop and re-check their own state.
        """
        with self.changed:
            if self._rv <= after_rv:
                self.changed.wait(timeout)
            return self._rv > after_rv

    def notify_all(self) -> None:
        """Wake every waiter (used to end watches)."""
        with self.changed:
            self.changed.notify_all()

    # ------------------------------------------------------------------ internals
    @staticmethod
    def key_of(obj: Obj) -> Key:
        """The storage key of an object."""
        rt = resource_type_for(obj)
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") if rt.namespaced else ""
        return (rt.group, rt.plural, namespace, str(meta.get("name") or ""))

    def _lookup(self, key: Key) -> Obj | None:
        return self._objects.get(key[:2], {}).get(key[2], {}).get(key[3])

    def _put(self, key: Key, obj: Obj) -> None:
        self._objects.setdefault(key[:2], {}).setdefault(key[2], {})[key[3]] = obj

    def _remove(self, key: Key) -> None:
        by_ns = self._objects.get(key[:2], {})
        names = by_ns.get(key[2], {})
        names.pop(key[3], None)
        if not names:
            by_ns.pop(key[2], None)

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _record(self, event: WatchEvent) -> None:
        self._events.append(event)
        while len(self._events) > self._event_log_size:
            self._compacted_rv = self._events.popleft().rv

    def _prepare_new(self, obj: Obj, dry_run: bool) -> tuple[Key, Obj]:
        rt = resource_type_for(obj)
        new = deep_copy(obj)
        new["apiVersion"] = rt.storage_api_version
        meta = new.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise Invalid(
                f"{rt.kind} is invalid: metadata.name: Required value: name or generateName is required",
                {
                    "kind": rt.kind,
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                },
            )
        if not rt.namespaced:
            meta.pop("namespace", None)
        elif not meta.get("namespace"):
            meta["namespace"] = "default"
        if rt.namespaced and self._lookup(("", "namespaces", "", meta["namespace"])) is None:
            # Namespace lifecycle, checked under the store lock: nothing is created in a missing (or just
            # deleted) namespace, so a controller racing a namespace delete cannot leave objects behind.
            raise NotFound(
                f'namespaces "{meta["namespace"]}" not found', {"name": meta["namespace"], "kind": "namespaces"}
            )
        key = self.key_of(new)
        if self._lookup(key) is not None:
            raise AlreadyExists(
                f'{rt.plural}{"." + rt.group if rt.group else ""} "{meta["name"]}" already exists',
                {"name": meta["name"], "group": rt.group, "kind": rt.plural},
            )
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339()
        meta.pop("deletionTimestamp", None)
        if rt.kind not in ("Namespace", "Pod", "Service", "Endpoints", "ConfigMap", "Secret"):
            meta["generation"] = 1
        meta["resourceVersion"] = str(self._rv + 1) if dry_run else "0"
        return key, new

    # ------------------------------------------------------------------ writes
    def create(self, obj: Obj, dry_run: bool = False) -> Obj:
        """Store a new object; returns a copy with uid/resourceVersion/... filled in."""
        with self.changed:
            key, new = self._prepare_new(obj, dry_run)
            if dry_run:
                return new
            new["metadata"]["resourceVersion"] = str(self._next_rv())
            self._put(key, new)
            self._record(WatchEvent(self._rv, "ADDED", key, new))
            self.changed.notify_all()
            return deep_copy(new)

    def create_many(self, objs: Iterable[Obj]) -> int:
        """Bulk create (objects are taken over without copying); returns how many were stored."""
        count = 0
        with self.changed:
            for obj in objs:
                rt = resource_type_for(obj)
                meta = obj.setdefault("metadata", {})
                obj["apiVersion"] = rt.storage_api_version
                key = self.key_of(obj)
                if self._lookup(key) is not None:
                    raise AlreadyExists(f'{rt.plural} "{meta.get("name")}" already exists')
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now_rfc3339())
                meta["resourceVersion"] = str(self._next_rv())
                self._put(key, obj)
                self._record(WatchEvent(self._rv, "ADDED", key, obj))
                count += 1
            self.changed.notify_all()
        return count

    def update(self, obj: Obj, dry_run: bool = False) -> Obj:
        """Replace an existing object.

        If ``metadata.resourceVersion`` is set it must equal the stored one (else 409 Conflict).
        uid and creationTimestamp are preserved; generation increments when ``spec`` changes.
        A no-op update returns the stored object without a new resourceVersion or event.
        """
        with self.changed:
            key = self.key_of(obj)
            rt = resource_type_for(obj)
            current = self._lookup(key)
            if current is None:
                raise not_found(rt, key[3])
            new = deep_copy(obj)
            new["apiVersion"] = rt.storage_api_version
            meta = new.setdefault("metadata", {})
            cur_meta = current["metadata"]
            given_rv = meta.get("resourceVersion")
            if given_rv and str(given_rv) != cur_meta["resourceVersion"]:
                raise Conflict(
                    f"Operation cannot be fulfilled on {rt.plural}{'.' + rt.group if rt.group else ''} "
                    f'"{key[3]}": the object has been modified; please apply your changes to the latest '
                    "version and try again",
                    {"name": key[3], "group": rt.group, "kind": rt.plural},
                )
            for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
                if field in cur_meta:
                    meta[field] = cur_meta[field]
                else:
                    meta.pop(field, None)
            if rt.namespaced:
                meta["namespace"] = key[2]
            if "generation" in cur_meta and new.get("spec") != current.get("spec"):
                meta["generation"] = int(cur_meta["generation"]) + 1
            meta["resourceVersion"] = cur_meta["resourceVersion"]
            if new == current:
                return deep_copy(current)
            if dry_run:
                return new
            meta["resourceVersion"] = str(self._next_rv())
            self._put(key, new)
            self._record(WatchEvent(self._rv, "MODIFIED", key, new, current))
            self.changed.notify_all()
            return deep_copy(new)

    def delete(self, group: str, plural: str, namespace: str | None, name: str, dry_run: bool = False) -> Obj:
        """Remove an object; returns it as it was deleted (with the deletion's resourceVersion)."""
        rt = resource_type(group, plural)
        if rt is None:
            raise NotFound(f"the server could not find the requested resource ({plural})")
        with self.changed:
            key = (group, plural, (namespace or "") if rt.namespaced else "", name)
            current = self._lookup(key)
            if current is None:
                raise not_found(rt, name)
            if dry_run:
                return deep_copy(current)
            gone = dict(current)
            gone["metadata"] = {**current["metadata"], "resourceVersion": str(self._next_rv())}
            self._remove(key)
            self._record(WatchEvent(self._rv, "DELETED", key, gone))
            self.changed.notify_all()
            return deep_copy(gone)

    # ------------------------------------------------------------------ reads
    def get_ref(self, group: str, plural: str, namespace: str | None, name: str) -> Obj:
        """The stored object itself (must not be modified); raises :class:`NotFound`."""
        rt = resource_type(group, plural)
        if rt is None:
            raise NotFound(f"the server could not find the requested resource ({plural})")
        with self.lock:
            obj = self._lookup((group, plural, (namespace or "") if rt.namespaced else "", name))
        if obj is None:
            raise not_found(rt, name)
        return obj

    def get(self, group: str, plural: str, namespace: str | None, name: str) -> Obj:
        """A copy of one object; raises :class:`NotFound`."""
        return deep_copy(self.get_ref(group, plural, namespace, name))

    def find(self, group: str, plural: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of one object, or None when absent."""
        try:
            return self.get(group, plural, namespace, name)
        except NotFound:
            return None

    def list_refs(
        self,
        group: str,
        plural: str,
        namespace: str | None = None,
        label_selector: str | dict[str, str] | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], int]:
        """Stored objects (not copies) sorted by namespace/name, and the resourceVersion of the snapshot."""
        label_match = parse_label_selector(label_selector)
        field_match = parse_field_selector(field_selector)
        with self.lock:
            by_ns = self._objects.get((group, plural), {})
            if namespace:
                items = [((namespace, name), obj) for name, obj in by_ns.get(namespace, {}).items()]
            else:
                items = [((ns, name), obj) for ns, names in by_ns.items() for name, obj in names.items()]
            rv = self._rv
        items.sort(key=lambda kv: kv[0])
        return [obj for _, obj in items if label_match(labels_of(obj)) and field_match(obj)], rv

    def list(
        self, group: str, plural: str, namespace: str | None = None, label_selector: str | dict[str, str] | None = None
    ) -> list[Obj]:
        """Copies of the matching objects, sorted by namespace and name."""
        refs, _ = self.list_refs(group, plural, namespace, label_selector)
        return [deep_copy(obj) for obj in refs]

    def namespace_exists(self, name: str) -> bool:
        """True if a Namespace ``name`` is stored."""
        with self.lock:
            return self._lookup(("", "namespaces", "", name)) is not None
