"""List pagination of the simulated Kubernetes API server.

A ``limit``-ed list keeps the full result as a snapshot and hands out opaque
``continue`` tokens pointing into it, so every page is consistent with the first;
only the most recent snapshots are kept, and an evicted token answers 410 Expired.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import threading
from collections import OrderedDict

from simulator.discovery import ApiRequest
from simulator.errors import BadRequest, Expired
from simulator.resources import Obj
from simulator.store import ObjectStore

MAX_SNAPSHOTS = 128


class ListPager:
    """Serves list requests, remembering paginated snapshots for their continue tokens."""

    def __init__(self) -> None:
        self._snapshots: OrderedDict[int, tuple[int, list[Obj]]] = OrderedDict()
        self._snapshot_ids = itertools.count(1)
        self._snapshot_lock = threading.Lock()

    def list(self, store: ObjectStore, request: ApiRequest) -> Obj:
        """The ``{Kind}List`` answering ``request`` (selectors, ``limit`` and ``continue``)."""
        rt, query = request.rt, request.query
        try:
            limit = int(query.get("limit") or 0)
        except ValueError as error:
            raise BadRequest(f"invalid limit: {query.get('limit')!r}") from error
        token = query.get("continue")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                snapshot_id, offset = int(state["id"]), int(state["offset"])
            except (ValueError, KeyError, TypeError, binascii.Error) as error:
                raise BadRequest("invalid continue token") from error
            with self._snapshot_lock:
                snapshot = self._snapshots.get(snapshot_id)
            if snapshot is None:
                raise Expired(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                )
            rv, items = snapshot
        else:
            items, rv = store.list_refs(
                rt.group, rt.plural, request.namespace, query.get("labelSelector"), query.get("fieldSelector")
            )
            snapshot_id, offset = 0, 0
        meta: Obj = {"resourceVersion": str(rv)}
        page = items[offset : offset + limit] if limit else items[offset:]
        remaining = len(items) - offset - len(page)
        if limit and remaining > 0:
            if not snapshot_id:
                snapshot_id = next(self._snapshot_ids)
                with self._snapshot_lock:
                    self._snapshots[snapshot_id] = (rv, items)
                    while len(self._snapshots) > MAX_SNAPSHOTS:
                        self._snapshots.popitem(last=False)
            state_json = json.dumps({"rv": rv, "id": snapshot_id, "offset": offset + len(page)})
            meta["continue"] = base64.urlsafe_b64encode(state_json.encode()).decode()
            meta["remainingItemCount"] = remaining
        kind, api_version = request.list_kind
        return {"kind": kind, "apiVersion": api_version, "metadata": meta, "items": [request.render(o) for o in page]}
