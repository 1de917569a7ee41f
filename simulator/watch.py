"""Watch streams of the simulated Kubernetes API server.

A watch replays the current objects (unless resuming from a resourceVersion), then
follows the store's event log and writes chunked JSON lines: ADDED/MODIFIED/DELETED
(with selector transitions turned into ADDED/DELETED), periodic BOOKMARKs, and an
ERROR event carrying a 410 ``Status`` when the resume point has been compacted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

from simulator.discovery import ApiRequest
from simulator.errors import BadRequest, Expired
from simulator.resources import Obj
from simulator.selectors import labels_of, parse_field_selector, parse_label_selector
from simulator.store import ObjectStore

MAX_WATCH_SECONDS = 1800


class ChunkedResponse(Protocol):
    """The part of the HTTP handler a watch writes to."""

    close_connection: bool

    def start_chunked(self) -> None: ...

    def write_chunk(self, payload: bytes) -> None: ...

    def end_chunked(self) -> None: ...


class WatchStream:
    """One watch request: its parameters are checked on construction, :meth:`run` streams the events."""

    def __init__(self, store: ObjectStore, request: ApiRequest, bookmark_interval: float) -> None:
        """Parse the watch query; raises :class:`BadRequest` for malformed parameters."""
        self.store, self.request, self.bookmark_interval = store, request, bookmark_interval
        query = request.query
        self.label_match = parse_label_selector(query.get("labelSelector"))
        self.field_match = parse_field_selector(query.get("fieldSelector"))
        start_rv = query.get("resourceVersion", "")
        try:
            timeout = float(query.get("timeoutSeconds") or MAX_WATCH_SECONDS)
            self.position = int(start_rv) if start_rv not in ("", "0") else -1
        except ValueError as error:
            raise BadRequest(f"invalid watch parameter: {error}") from error
        self.deadline = time.monotonic() + min(timeout, MAX_WATCH_SECONDS)
        self.bookmarks = query.get("allowWatchBookmarks", "").lower() in ("true", "1")

    def matches(self, obj: Obj | None) -> bool:
        """Whether ``obj`` is in the watched namespace and matches the selectors."""
        if obj is None:
            return False
        namespace = obj.get("metadata", {}).get("namespace")
        return (
            (not self.request.namespace or namespace == self.request.namespace)
            and self.label_match(labels_of(obj))
            and self.field_match(obj)
        )

    def run(
        self, http: ChunkedResponse, active: Callable[[], bool], expired: Callable[[], bool] = lambda: False
    ) -> None:
        """Stream watch events as chunked JSON lines until timeout, drop (``active()`` false) or a broken pipe.

        When ``expired()`` turns true (a fault injected through the control surface) the stream ends with the
        410 ``Status`` a compacted resume point gives.
        """
        request = self.request
        rt, store, matches, position = request.rt, self.store, self.matches, self.position

        def send(event_type: str, obj: Obj) -> None:
            line = json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n"
            http.write_chunk(line.encode())

        http.start_chunked()
        try:
            if position < 0:
                items, rv = store.list_refs(rt.group, rt.plural, request.namespace)
                for obj in items:
                    if matches(obj):
                        send("ADDED", request.render(obj))
                position = rv
            last_bookmark = time.monotonic()
            while active():
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    break
                store.wait_for_change(position, min(remaining, self.bookmark_interval))
                if not active():
                    break
                if expired():
                    send("ERROR", Expired(f"too old resource version: {position} (watches were expired)").status())
                    break
                try:
                    events = store.events_since(position)
                except Expired as error:
                    send("ERROR", error.status())
                    break
                for event in events:
                    position = event.rv
                    if event.key[0] != rt.group or event.key[1] != rt.plural:
                        continue
                    was, now = matches(event.previous), matches(event.object)
                    if event.type == "MODIFIED" and was and not now:
                        send("DELETED", request.render(event.object))
                    elif event.type == "MODIFIED" and now and not was:
                        send("ADDED", request.render(event.object))
                    elif now:
                        send(event.type, request.render(event.object))
                if self.bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval:
                    send(
                        "BOOKMARK",
                        request.render(
                            {
                                "kind": rt.kind,
                                "apiVersion": rt.storage_api_version,
                                "metadata": {"resourceVersion": str(position)},
                            }
                        ),
                    )
                    last_bookmark = time.monotonic()
        except OSError:
            http.close_connection = True
            return
        http.end_chunked()
