"""HTTP plumbing of the simulated API server: the threaded stdlib server and its request handler.

``ApiHttpServer`` is a ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1
keep-alive) that remembers its open connections so that stopping can hang them up;
``ApiRequestHandler`` reads each request, hands it to the server's ``dispatch`` callable (the
:class:`~simulator.server.ApiServer` passes its ``handle``; this module knows nothing of it), answers
``StoreError`` with a Kubernetes ``Status`` and offers the response helpers the API uses: complete
bodies, JSON, and the chunked streams of watches.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.errors import StoreError
from simulator.resources import Obj

#: How long stopping lets connections finish the response they are writing before cutting them off.
CLOSE_GRACE_SECONDS = 1.0

#: ``dispatch(handler, method, body)``: answer one request through the handler's response helpers.
RequestDispatch = Callable[["ApiRequestHandler", str, bytes], None]


class ApiHttpServer(ThreadingHTTPServer):
    """The listening server; every request it reads goes to ``dispatch``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, server_address: tuple[str, int], dispatch: RequestDispatch) -> None:
        super().__init__(server_address, ApiRequestHandler)
        self.dispatch = dispatch
        # Connection threads are daemons, which ThreadingMixIn neither tracks nor joins: without this
        # registry a thread waiting for the next request on a kept-alive connection outlives the server
        # (and still answers that connection's requests after stop).
        self._connections_lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a new connection in its own thread, registered until the connection is shut down."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="simulator-apiserver-connection",
            daemon=self.daemon_threads,
        )
        with self._connections_lock:
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection before closing it, so :meth:`close_connections` never touches a closed socket."""
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def close_connections(self, timeout: float) -> None:
        """Hang up every open connection and wait, at most ``timeout`` seconds, for their threads to end.

        Call after ``shutdown()``, when no connection can be accepted any more.  The reading side is shut
        first: a thread waiting for the next request on a kept-alive connection sees end-of-file and ends,
        while a response being written (a watch's last chunk) still completes.  After a short grace,
        connections still open are shut both ways, which also frees a thread blocked writing to a client
        that does not read.
        """
        deadline = time.monotonic() + timeout
        self._join(self._shut_down_connections(socket.SHUT_RD), min(deadline, time.monotonic() + CLOSE_GRACE_SECONDS))
        self._join(self._shut_down_connections(socket.SHUT_RDWR), deadline)

    def _shut_down_connections(self, how: int) -> list[threading.Thread]:
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # the client has already gone
                    connection.shutdown(how)
            return list(self._connections.values())

    @staticmethod
    def _join(threads: list[threading.Thread], deadline: float) -> None:
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (a scraper's timeout, ``curl | head``) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ApiRequestHandler(BaseHTTPRequestHandler):
    """One connection: reads requests, hands them to the server's ``dispatch``, writes responses."""

    protocol_version = "HTTP/1.1"
    server: ApiHttpServer

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
        try:
            self.server.dispatch(self, method, body)
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
