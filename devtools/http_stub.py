"""A loopback HTTP server that answers each GET with what a function returns (tests' and benchmarks' stand-ins).

Stand-ins for Prometheus' query API or a metrics endpoint: the function gets the request's path (with its query
string) and headers and returns ``(status, content type, body)``. The server runs on a free port in threads of its
own and is shut down when the ``with`` block ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: ``(HTTP status, Content-Type, body)``.
Answer = tuple[int, str, bytes]
#: ``(path with query string, request headers) -> answer``.
Responder = Callable[[str, Mapping[str, str]], Answer]


@contextmanager
def serving(respond: Responder) -> Iterator[str]:
    """Serve ``respond`` on 127.0.0.1 and a free port; yields the base URL (``http://127.0.0.1:PORT``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, content_type, body = respond(self.path, dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
