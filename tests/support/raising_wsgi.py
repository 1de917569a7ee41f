"""mesh-ui's WSGI application plus one path that raises past Django, so that gunicorn itself logs the request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mesh_ui.wsgi import application as mesh_ui_application

RAISING_PATH = "/raise-past-django"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == RAISING_PATH:
        # The message quotes the query string, as a careless library's error would.
        raise RuntimeError(f"cannot answer {environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
    return mesh_ui_application(environ, start_response)
