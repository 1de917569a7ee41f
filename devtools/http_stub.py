"""A loopback HTTP server that answers each request with what a function returns (tests' and benchmarks' stand-ins).

Stand-ins for Prometheus' query API or a metrics endpoint: with :func:`serving`, the function gets a GET's path
(with its query string) and headers and returns ``(status, content type, body)``. Stand-ins that need other
methods, request bodies or response headers (the OIDC provider of ``devtools.oidc_provider``) use
:func:`serving_requests`. The server runs on a free port in threads of its own and is shut down when the ``with``
block ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: ``(HTTP status, Content-Type, body)``.
Answer = tuple[int, str, bytes]
#: ``(path with query string, request headers) -> answer``.
Responder = Callable[[str, Mapping[str, str]], Answer]


@dataclass(frozen=True)
class StubRequest:
    """One request as a stand-in sees it."""

    method: str
    path: str  # with the query string
    headers: Mapping[str, str]
    body: bytes


#: ``(HTTP status, response headers, body)``.
FullAnswer = tuple[int, Mapping[str, str], bytes]
#: ``request -> full answer``.
RequestHandler = Callable[[StubRequest], FullAnswer]


@contextmanager
def serving_requests(handle: RequestHandler) -> Iterator[str]:
    """Serve ``handle`` (GET and POST) on 127.0.0.1 and a free port; yields the base URL (``http://127.0.0.1:PORT``)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, content = handle(StubRequest(self.command, self.path, dict(self.headers), body))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serving(respond: Responder) -> Iterator[str]:
    """Serve ``respond`` to GETs on 127.0.0.1 and a free port; yields the base URL (``http://127.0.0.1:PORT``)."""

    def handle(request: StubRequest) -> FullAnswer:
        status, content_type, body = respond(request.path, request.headers)
        return status, {"Content-Type": content_type}, body

    with serving_requests(handle) as url:
        yield url
