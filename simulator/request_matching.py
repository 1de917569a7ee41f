"""Istio request matching: which ``http`` route's ``match`` blocks a request satisfies.

``RequestAttributes`` is everything an Envoy proxy can match on (URI, method, headers, authority,
the sender's labels and namespace, the gateway it passes through, the port); the functions
below evaluate Istio's ``StringMatch``, ``HTTPMatchRequest`` and a route's ``match`` list
(AND within a block, OR across blocks) and whether a ``gateways`` list binds a proxy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from simulator.mesh_snapshot import labels_include

MESH_GATEWAY = "mesh"


@dataclass(frozen=True)
class RequestAttributes:
    """What a proxy can match on: the request plus who sends it and through which gateway."""

    uri: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    authority: str = ""
    source_labels: Mapping[str, str] = field(default_factory=dict)
    source_namespace: str = ""
    gateway: str = MESH_GATEWAY
    port: int | None = None

    @property
    def path(self) -> str:
        """URI without the query string."""
        return self.uri.split("?", 1)[0]

    @property
    def query_params(self) -> dict[str, str]:
        """Query parameters (last value wins)."""
        if "?" not in self.uri:
            return {}
        pairs = (item.split("=", 1) for item in self.uri.split("?", 1)[1].split("&") if item)
        return {pair[0]: (pair[1] if len(pair) > 1 else "") for pair in pairs}


@lru_cache(maxsize=512)
def _compiled_regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def string_matches(spec: Mapping[str, Any] | None, value: str | None, ignore_case: bool = False) -> bool:
    """Istio ``StringMatch``: ``exact``, ``prefix`` or (full-match RE2-like) ``regex``; ``{}`` = present."""
    if value is None:
        return False
    if not spec:
        return True
    if ignore_case:
        value = value.lower()
    if "exact" in spec:
        expected = str(spec["exact"])
        return value == (expected.lower() if ignore_case else expected)
    if "prefix" in spec:
        expected = str(spec["prefix"])
        return value.startswith(expected.lower() if ignore_case else expected)
    if "regex" in spec:
        pattern = _compiled_regex(str(spec["regex"]))
        return pattern is not None and pattern.fullmatch(value) is not None
    return True


def gateway_selected(gateways: Sequence[str], gateway: str) -> bool:
    """Whether a ``gateways`` list binds the given proxy (``mesh`` = sidecars, anything else = ingress)."""
    if gateway == MESH_GATEWAY:
        return MESH_GATEWAY in gateways
    return any(name != MESH_GATEWAY for name in gateways)


def request_matches(block: Mapping[str, Any], request: RequestAttributes) -> bool:
    """One ``HTTPMatchRequest``: every condition present must hold (AND)."""
    ignore_case = bool(block.get("ignoreUriCase"))
    if "uri" in block and not string_matches(block["uri"], request.path, ignore_case):
        return False
    if "method" in block and not string_matches(block["method"], request.method):
        return False
    if "authority" in block and not string_matches(block["authority"], request.authority):
        return False
    if "scheme" in block and not string_matches(block["scheme"], "http"):
        return False
    headers = {name.lower(): value for name, value in request.headers.items()}
    for name, spec in (block.get("headers") or {}).items():
        if not string_matches(spec, headers.get(str(name).lower())):
            return False
    for name, spec in (block.get("withoutHeaders") or {}).items():
        if string_matches(spec, headers.get(str(name).lower())):
            return False
    query = request.query_params
    for name, spec in (block.get("queryParams") or {}).items():
        if not string_matches(spec, query.get(str(name))):
            return False
    if not labels_include(request.source_labels, block.get("sourceLabels")):
        return False
    if block.get("sourceNamespace") and block["sourceNamespace"] != request.source_namespace:
        return False
    if block.get("port") is not None and request.port is not None and int(block["port"]) != request.port:
        return False
    return not (block.get("gateways") and not gateway_selected(block["gateways"], request.gateway))


def route_matches(route: Mapping[str, Any], request: RequestAttributes) -> bool:
    """A route's ``match`` list: no list matches everything, otherwise any block (OR)."""
    blocks = route.get("match") or []
    return not blocks or any(request_matches(block, request) for block in blocks)
