"""HTTP front end of the simulator: the subset of the Kubernetes REST API mesh-ui uses.

Serves core/v1, apps/v1 and the Istio networking/security groups over plain HTTP
(stdlib ``ThreadingHTTPServer``, HTTP/1.1) with list (selectors, pagination), get,
create, replace, merge/strategic/JSON patch, delete, the deployment ``scale`` and
``status`` subresources, and chunked ``watch`` streams with bookmarks and 410
expiry, answering errors with Kubernetes ``Status`` objects.

This module holds the HTTP handler, the server lifecycle and the per-verb request
handling; URL parsing and discovery (:mod:`simulator.discovery`), patches
(:mod:`simulator.patches`), validation (:mod:`simulator.validation`), pagination
(:mod:`simulator.paging`), watch streams (:mod:`simulator.watch`) and fault
injection (:mod:`simulator.faults`) live in their own modules; non-Kubernetes endpoints
(``/metrics``, ``/simulator/v1``) are mounted by the facade (:meth:`ApiServer.mount`).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from simulator.discovery import VERSION_INFO, ApiRequest, discovery, parse_resource_path
from simulator.errors import BadRequest, MethodNotAllowed, NotFound, StoreError, UnsupportedMediaType
from simulator.faults import SERVICE_ACCOUNT_USER, Faults
from simulator.paging import ListPager
from simulator.patches import apply_patch, json_patch, merge_patch
from simulator.replicas import build_scale
from simulator.resources import RESOURCE_TYPES, Obj
from simulator.store import ObjectStore
from simulator.validation import invalid_error, validation_causes
from simulator.watch import MAX_WATCH_SECONDS, WatchStream

if TYPE_CHECKING:
    from simulator.controller import Controller

RouteHandler = Callable[[], tuple[int, str, bytes]]
#: ``handler(method, path below the mount point, body) -> (status, content_type, body)``.
MountHandler = Callable[[str, str, bytes], tuple[int, str, bytes]]

# Public names, including those now defined in the modules above and re-exported from here.
__all__ = [
    "MAX_WATCH_SECONDS",
    "SERVICE_ACCOUNT_USER",
    "VERSION_INFO",
    "ApiRequest",
    "ApiServer",
    "Faults",
    "MountHandler",
    "RouteHandler",
    "UnsupportedMediaType",
    "discovery",
    "invalid_error",
    "json_patch",
    "merge_patch",
    "parse_resource_path",
    "validation_causes",
]


# --------------------------------------------------------------------------- HTTP plumbing


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: ApiServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (a scraper's timeout, ``curl | head``) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm holds the body
        # until the client's delayed ACK (~40 ms per request on a kept-alive connection).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        api = self.server.api
        if api.faults.latency > 0:
            time.sleep(api.faults.latency)
        try:
            api.handle(self, method, body)
        except StoreError as error:
            self.send_json(error.code, error.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # report as an InternalError Status
            status = StoreError(f"Internal error occurred: {error!r}").status()
            self.send_json(500, status)

    def send_body(self, code: int, content_type: str, payload: bytes) -> None:
        """Send a complete response with Content-Length."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(payload)

    def send_json(self, code: int, obj: Obj) -> None:
        """Send ``obj`` as JSON."""
        self.send_body(code, "application/json", json.dumps(obj, separators=(",", ":")).encode())

    def start_chunked(self) -> None:
        """Start a chunked streaming JSON response."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def write_chunk(self, payload: bytes) -> None:
        """Write one chunk and flush it."""
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def end_chunked(self) -> None:
        """Terminate the stream and close the connection."""
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True


# --------------------------------------------------------------------------- API server


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
        self.controller = controller
        self.faults = faults or Faults()
        self.bookmark_interval = bookmark_interval
        self.routes: dict[str, RouteHandler] = {}
        self.mounts: dict[str, MountHandler] = {}
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._watch_epoch = 0
        self._stopping = False
        self._pager = ListPager()
        self._cluster_ip_lock = threading.Lock()
        self._next_cluster_ip = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Serve in a background thread; returns the bound (host, port)."""
        self._httpd = _HttpServer((host, port), _Handler)
        self._httpd.api = self
        self._stopping = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="simulator-apiserver", daemon=True
        )
        self._thread.start()
        bound_host, bound_port = self._httpd.server_address[:2]
        return str(bound_host), int(bound_port)

    def stop(self) -> None:
        """Stop serving and end all watches."""
        self._stopping = True
        self.drop_watches()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def drop_watches(self) -> None:
        """Close every open watch stream."""
        self._watch_epoch += 1
        self.store.notify_all()

    def add_route(self, path: str, handler: RouteHandler) -> None:
        """Serve ``GET path`` with ``handler() -> (status, content_type, body)``."""
        self.routes[path] = handler

    def mount(self, prefix: str, handler: MountHandler) -> None:
        """Serve every method on ``prefix`` and the paths below it (non-Kubernetes endpoints)."""
        self.mounts[prefix.rstrip("/")] = handler

    # ------------------------------------------------------------------ dispatch
    def handle(self, http: _Handler, method: str, body: bytes) -> None:
        """Route one HTTP request."""
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
        request = parse_resource_path(path, query)
        if request is None:
            http.send_json(200, discovery(path, http.headers.get("Host", "")))
            return
        if request.subresource == "scale":
            self._handle_scale(http, method, request, body)
            return
        if method == "GET" and request.name is None:
            watch = query.get("watch", "").lower() in ("true", "1")
            self.faults.check(request.rt, "watch" if watch else "list", request.namespace)
            if watch:
                self._watch(http, request)
            else:
                http.send_json(200, self._list(request))
            return
        handler = {
            "GET": self._get,
            "POST": self._create,
            "PUT": self._replace,
            "PATCH": self._patch,
            "DELETE": self._delete,
        }.get(method)
        if handler is None:
            raise MethodNotAllowed(f"the server does not allow this method on the requested resource: {method}")
        code, obj = handler(http, request, body)
        http.send_json(code, obj)

    def _reconcile(self, namespace: str | None) -> None:
        if self.controller is not None:
            self.controller.reconcile([namespace] if namespace else None)

    @staticmethod
    def _parse_body(body: bytes) -> Any:
        try:
            return json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            raise BadRequest(f"error decoding request body: {error}") from error

    # ------------------------------------------------------------------ reads
    def _list(self, request: ApiRequest) -> Obj:
        return self._pager.list(self.store, request)

    def _get(self, http: _Handler, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        assert request.name is not None
        self.faults.check(request.rt, "get", request.namespace)
        rt = request.rt
        return 200, request.present(self.store.get_ref(rt.group, rt.plural, request.namespace, request.name))

    # ------------------------------------------------------------------ writes
    def _check_body(self, request: ApiRequest, obj: Any) -> Obj:
        """Check kind/apiVersion/namespace/name of a request body against the URL; fill defaults."""
        rt = request.rt
        if not isinstance(obj, dict):
            raise BadRequest("the request body must be a JSON object")
        obj.setdefault("kind", rt.kind)
        obj.setdefault("apiVersion", request.api_version)
        group, _, version = str(obj["apiVersion"]).rpartition("/")
        if obj["kind"] != rt.kind or group != rt.group or version not in rt.versions:
            raise BadRequest(
                f"the API version in the data ({obj['apiVersion']}) and kind ({obj['kind']}) do not "
                f"match the requested resource {request.api_version}/{rt.plural}"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != request.namespace:
                raise BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = request.namespace
            if request.namespace and not self.store.namespace_exists(request.namespace):
                raise NotFound(
                    f'namespaces "{request.namespace}" not found', {"name": request.namespace, "kind": "namespaces"}
                )
        if request.name is not None and meta.get("name") and meta["name"] != request.name:
            raise BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({request.name})"
            )
        if request.name is not None:
            meta["name"] = request.name
        causes = validation_causes(obj, rt)
        if causes:
            raise invalid_error(obj, rt, causes)
        return obj

    def _create(self, http: _Handler, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        if request.name is not None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        self.faults.check(request.rt, "create", request.namespace)
        obj = self._check_body(request, self._parse_body(body))
        if request.rt.kind == "Service":
            self._allocate_cluster_ip(obj)
        created = self.store.create(obj, dry_run=request.dry_run)
        if not request.dry_run:
            self._reconcile(request.namespace)
        return 201, request.present(created)

    def _allocate_cluster_ip(self, service: Obj) -> None:
        """Give a Service a cluster IP like the service IP allocator does."""
        spec = service.setdefault("spec", {})
        if spec.get("type") == "ExternalName" or spec.get("clusterIP"):
            return
        with self._cluster_ip_lock:
            self._next_cluster_ip += 1
            n = self._next_cluster_ip
        spec["clusterIP"] = f"10.96.{128 + (n // 250) % 128}.{n % 250 + 2}"
        spec["clusterIPs"] = [spec["clusterIP"]]
        spec.setdefault("type", "ClusterIP")

    def _write(self, request: ApiRequest, new: Obj, current: Obj) -> Obj:
        """Validate and store ``new`` replacing ``current``, honouring the status subresource split."""
        if request.subresource == "status":
            merged = {**current, "status": new.get("status")}
            merged["metadata"] = {**current["metadata"]}
            if new.get("metadata", {}).get("resourceVersion"):
                merged["metadata"]["resourceVersion"] = new["metadata"]["resourceVersion"]
            new = merged
        elif "status" in current:
            new["status"] = current["status"]
        else:
            new.pop("status", None)
        new = self._check_body(request, new)
        updated = self.store.update(new, dry_run=request.dry_run)
        if not request.dry_run:
            self._reconcile(request.namespace)
        return request.present(updated)

    def _replace(self, http: _Handler, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        if request.name is None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        rt = request.rt
        self.faults.check(rt, "update", request.namespace)
        new = self._parse_body(body)
        if not isinstance(new, dict):
            raise BadRequest("the request body must be a JSON object")
        current = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        return 200, self._write(request, new, current)

    def _patch(self, http: _Handler, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        if request.name is None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        rt = request.rt
        self.faults.check(rt, "patch", request.namespace)
        current = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        patched = apply_patch(http.headers.get("Content-Type"), request.present(current), self._parse_body(body))
        if not isinstance(patched, dict):
            raise BadRequest("the patched object must be a JSON object")
        return 200, self._write(request, patched, current)

    def _delete(self, http: _Handler, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        rt = request.rt
        self.faults.check(rt, "delete", request.namespace)
        if request.name is None:
            return self._delete_collection(request)
        if request.subresource is not None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        current = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        options = self._parse_body(body) or {}
        precondition = (options.get("preconditions") or {}) if isinstance(options, dict) else {}
        if precondition.get("uid") and precondition["uid"] != current["metadata"]["uid"]:
            raise StoreError("Precondition failed: UID in precondition does not match")
        gone = self.store.delete(rt.group, rt.plural, request.namespace, request.name, dry_run=request.dry_run)
        if not request.dry_run and rt.kind == "Namespace":
            # The namespace goes first, so nothing (e.g. the controller replacing pods) can be created in it
            # while its contents are removed.
            self._delete_namespace_contents(request.name)
        if not request.dry_run:
            self._reconcile(request.namespace)
        if rt.kind in ("Pod", "Namespace"):
            return 200, request.present(gone)
        details: Obj = {"name": request.name, "kind": rt.plural, "uid": gone["metadata"]["uid"]}
        if rt.group:
            details["group"] = rt.group
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _delete_collection(self, request: ApiRequest) -> tuple[int, Obj]:
        rt = request.rt
        items, _ = self.store.list_refs(
            rt.group,
            rt.plural,
            request.namespace,
            request.query.get("labelSelector"),
            request.query.get("fieldSelector"),
        )
        deleted = []
        for obj in items:
            meta = obj["metadata"]
            try:
                deleted.append(
                    self.store.delete(rt.group, rt.plural, meta.get("namespace"), meta["name"], dry_run=request.dry_run)
                )
            except NotFound:
                continue
        if not request.dry_run:
            self._reconcile(request.namespace)
        return 200, {
            "kind": f"{rt.kind}List",
            "apiVersion": request.api_version,
            "metadata": {"resourceVersion": str(self.store.current_rv)},
            "items": [request.present(o) for o in deleted],
        }

    def _delete_namespace_contents(self, namespace: str) -> None:
        for rt in RESOURCE_TYPES:
            if rt.namespaced:
                for obj in self.store.list_refs(rt.group, rt.plural, namespace)[0]:
                    try:
                        self.store.delete(rt.group, rt.plural, namespace, obj["metadata"]["name"])
                    except NotFound:
                        continue

    # ------------------------------------------------------------------ scale subresource
    def _handle_scale(self, http: _Handler, method: str, request: ApiRequest, body: bytes) -> None:
        assert request.name is not None
        rt = request.rt
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(method)
        if verb is None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        self.faults.check(rt, verb, request.namespace)
        deployment = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        scale = build_scale(deployment)
        if method == "GET":
            http.send_json(200, scale)
            return
        payload = self._parse_body(body)
        new_scale = apply_patch(http.headers.get("Content-Type"), scale, payload) if method == "PATCH" else payload
        if not isinstance(new_scale, dict):
            raise BadRequest("the request body must be a Scale object")
        replicas = (new_scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid_error(
                {"metadata": {"name": request.name}},
                rt,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "field": "spec.replicas",
                        "message": f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                    }
                ],
            )
        deployment["spec"]["replicas"] = replicas
        wanted_rv = (new_scale.get("metadata") or {}).get("resourceVersion")
        if wanted_rv:
            deployment["metadata"]["resourceVersion"] = wanted_rv
        updated = self.store.update(deployment, dry_run=request.dry_run)
        if not request.dry_run:
            self._reconcile(request.namespace)
        http.send_json(200, build_scale(updated))

    # ------------------------------------------------------------------ watch
    def _watch(self, http: _Handler, request: ApiRequest) -> None:
        """Stream watch events as chunked JSON lines until timeout, drop or server stop."""
        stream = WatchStream(self.store, request, self.bookmark_interval)
        epoch = self._watch_epoch
        stream.run(http, lambda: not self._stopping and epoch == self._watch_epoch)
