"""Who "the client" of a request is: one definition for login throttling, token throttling and the audit log.

django-axes resolves it (with django-ipware): ``REMOTE_ADDR``, or, with ``MESH_UI_PROXY_COUNT`` reverse proxies in
front, the address the last of them appended to ``X-Forwarded-For`` (what the client wrote itself is never trusted).
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, or None when the request carries none."""
    return get_client_ip_address(request) or None
