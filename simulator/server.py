"""The simulated API server: the subset of the Kubernetes REST API mesh-ui uses.

Serves core/v1, apps/v1 and the Istio networking/security groups over plain HTTP
(stdlib ``ThreadingHTTPServer``, HTTP/1.1) with list (selectors, pagination), get,
create, replace, merge/strategic/JSON patch, server-side apply with ``managedFields``
(:mod:`simulator.field_ownership`), delete, the deployment ``scale`` and ``status`` subresources, and chunked
``watch`` streams with bookmarks and 410 expiry, answering errors with Kubernetes ``Status`` objects. Reads honour
``Accept: ...;as=PartialObjectMetadata`` and ``as=Table`` (:mod:`simulator.media`, :mod:`simulator.tables`);
discovery (legacy and aggregated) and the OpenAPI v2/v3 documents (:mod:`simulator.openapi`) are what ``kubectl``
needs to work as against a cluster; the API groups of uninstalled CRDs answer 404.

This module holds ``ApiServer``: the server lifecycle, extra routes and mounts, and the
dispatch of each request.  It sits on top of its two parts, which do not know it or each other:
the HTTP server and handler (:mod:`simulator.http_server`, given :meth:`ApiServer.handle` as its
dispatch) and the per-verb resource handling (:mod:`simulator.resource_handlers`, which returns
``(status code, object)`` and never touches HTTP); URL parsing and discovery
(:mod:`simulator.discovery`), patches (:mod:`simulator.patches`), validation
(:mod:`simulator.validation`), pagination (:mod:`simulator.paging`), watch streams
(:mod:`simulator.watch`) and fault injection (:mod:`simulator.faults`) have their own modules;
non-Kubernetes endpoints (``/metrics``, ``/simulator/v1``) are mounted by the facade
(:meth:`ApiServer.mount`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from simulator.controller import Controller
from simulator.discovery import (
    AGGREGATED_GROUP,
    VERSION_INFO,
    ApiRequest,
    aggregated_discovery,
    aggregated_version,
    discovery,
    parse_resource_path,
)
from simulator.errors import MethodNotAllowed, NotFound
from simulator.faults import Faults
from simulator.http_server import ApiHttpServer, ApiRequestHandler
from simulator.media import read_form
from simulator.openapi import OPENAPI_V2_PROTOBUF, v2_document, v2_protobuf, v3_document, v3_index
from simulator.resource_handlers import ResourceHandlers
from simulator.resources import Obj
from simulator.store import ObjectStore
from simulator.tables import table
from simulator.watch import WatchStream

RouteHandler = Callable[[], tuple[int, str, bytes]]
#: ``handler(method, path below the mount point, body) -> (status, content_type, body)``.
MountHandler = Callable[[str, str, bytes], tuple[int, str, bytes]]


class ApiServer:
    """The simulated API server bound to a store (and optionally a controller)."""

    def __init__(
        self,
        store: ObjectStore,
        controller: Controller | None = None,
        faults: Faults | None = None,
        bookmark_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.faults = faults or Faults()
        self.resources = ResourceHandlers(store, controller, self.faults)
        self.bookmark_interval = bookmark_interval
        self.routes: dict[str, RouteHandler] = {}
        self.mounts: dict[str, MountHandler] = {}
        self._httpd: ApiHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._watch_epoch = 0
        self._stopping = False
        #: API groups whose CRDs are not installed: their resources answer 404 and discovery omits them.
        self.uninstalled_groups: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Serve in a background thread; returns the bound (host, port)."""
        self._httpd = ApiHttpServer((host, port), self.handle)
        self._stopping = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="simulator-apiserver", daemon=True
        )
        self._thread.start()
        bound_host, bound_port = self._httpd.server_address[:2]
        return str(bound_host), int(bound_port)

    def stop(self) -> None:
        """Stop serving: end all watches, close the listening socket and every open connection."""
        self._stopping = True
        self.drop_watches()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.close_connections(timeout=5)
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def drop_watches(self) -> None:
        """Close every open watch stream."""
        self._watch_epoch += 1
        self.store.notify_all()

    def expire_watches(self, plural: str) -> None:
        """End every open watch of ``plural`` with 410 Gone, as after a compaction; other watches go on."""
        self.faults.expire_watches(plural)
        self.store.notify_all()

    def add_route(self, path: str, handler: RouteHandler) -> None:
        """Serve ``GET path`` with ``handler() -> (status, content_type, body)``."""
        self.routes[path] = handler

    def mount(self, prefix: str, handler: MountHandler) -> None:
        """Serve every method on ``prefix`` and the paths below it (non-Kubernetes endpoints)."""
        self.mounts[prefix.rstrip("/")] = handler

    # ------------------------------------------------------------------ dispatch
    def handle(self, http: ApiRequestHandler, method: str, body: bytes) -> None:
        """Route one HTTP request (after the injected latency, if any)."""
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)
        split = urlsplit(http.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if path in self.routes and method == "GET":
            code, content_type, payload = self.routes[path]()
            http.send_body(code, content_type, payload)
            return
        for prefix, mounted in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                http.send_body(*mounted(method, path[len(prefix) :], body))
                return
        if path in ("/healthz", "/readyz", "/livez"):
            http.send_body(200, "text/plain; charset=utf-8", b"ok")
            return
        if path == "/version":
            http.send_json(200, VERSION_INFO)
            return
        if path == "/openapi" or path.startswith("/openapi/"):
            http.send_body(*self._openapi(path, http.headers.get("Accept") or ""))
            return
        request = parse_resource_path(path, query)
        aggregated = aggregated_version(http.headers.get("Accept") or "") if path in ("/api", "/apis") else None
        if request is None and aggregated:
            document = aggregated_discovery(path, aggregated, frozenset(self.uninstalled_groups))
            media = f"application/json;g={AGGREGATED_GROUP};v={aggregated};as=APIGroupDiscoveryList"
            http.send_body(200, media, json.dumps(document, separators=(",", ":")).encode())
            return
        if request is None:
            http.send_json(200, discovery(path, http.headers.get("Host", ""), frozenset(self.uninstalled_groups)))
            return
        if request.rt.group in self.uninstalled_groups:
            raise NotFound("the server could not find the requested resource")
        as_table = False
        if method == "GET" and request.subresource is None:
            # A watch streams objects one by one: as a get, it asks for PartialObjectMetadata.
            watching = query.get("watch", "").lower() in ("true", "1")
            form = read_form(http.headers.get("Accept"), is_list=request.name is None and not watching)
            request.metadata_only, as_table = form == "metadata", form == "table"
            if as_table and watching:
                request.table_renderer = lambda obj: self._table(
                    request, [obj], {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")}
                )
        request.user_agent = http.headers.get("User-Agent") or ""
        body_type = http.headers.get("Content-Type")
        if request.subresource == "scale":
            http.send_json(*self.resources.scale(method, request, body, body_type))
            return
        if method == "GET" and request.name is None:
            watch = query.get("watch", "").lower() in ("true", "1")
            self.faults.check(request.rt, "watch" if watch else "list", request.namespace)
            if watch:
                self._watch(http, request)
            elif as_table:
                answer = self.resources.list_objects(request)
                http.send_json(200, self._table(request, answer["items"], answer["metadata"]))
            else:
                http.send_json(200, self.resources.list_objects(request))
            return
        match method:
            case "GET":
                code, obj = self.resources.get_object(request)
                if as_table:
                    obj = self._table(request, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
            case "POST":
                code, obj = self.resources.create_object(request, body)
            case "PUT":
                code, obj = self.resources.replace_object(request, body)
            case "PATCH":
                code, obj = self.resources.patch_object(request, body, body_type)
            case "DELETE":
                code, obj = self.resources.delete_object(request, body)
            case _:
                raise MethodNotAllowed(f"the server does not allow this method on the requested resource: {method}")
        http.send_json(code, obj)

    @staticmethod
    def _table(request: ApiRequest, objects: list[Obj], list_meta: Obj) -> Obj:
        include = request.query.get("includeObject") or "Metadata"
        return table(request.rt, request.version, objects, list_meta, include)

    def _openapi(self, path: str, accept: str) -> tuple[int, str, bytes]:
        """``/openapi/v2`` (protobuf when asked for, else JSON), ``/openapi/v3`` and its group-version documents."""
        hidden = frozenset(self.uninstalled_groups)
        if path == "/openapi/v2":
            document = v2_document(hidden)
            if OPENAPI_V2_PROTOBUF in accept:
                # The API server answers with the type spelled without the "@" (which Go's MIME parser rejects).
                return 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", v2_protobuf(hidden)
            return 200, "application/json", json.dumps(document, separators=(",", ":")).encode()
        if path == "/openapi/v3":
            return 200, "application/json", json.dumps(v3_index(hidden)).encode()
        if path.startswith("/openapi/v3/"):
            return 200, "application/json", v3_document(path[len("/openapi/v3/") :], hidden)
        raise NotFound("the server could not find the requested resource")

    # ------------------------------------------------------------------ watch
    def _watch(self, http: ApiRequestHandler, request: ApiRequest) -> None:
        """Stream watch events as chunked JSON lines until timeout, drop or server stop."""
        stream = WatchStream(self.store, request, self.bookmark_interval)
        epoch = self._watch_epoch
        plural = request.rt.plural
        generation = self.faults.watch_generation(plural)
        stream.run(
            http,
            lambda: not self._stopping and epoch == self._watch_epoch,
            lambda: self.faults.watch_generation(plural) != generation,
        )
