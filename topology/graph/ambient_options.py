"""Kiali's ``ambientTraffic`` option answered from a stored graph: ``none``, ``ztunnel``, ``waypoint`` or ``total``.

Kiali reads an ambient mesh's telemetry in two layers: the waypoint proxies' L7 reports (``reporter="waypoint"``)
and ztunnel's L4 rows (told apart by the scrape target's ``app="ztunnel"``).  ``ambientTraffic`` chooses which it
reads (``util.GetReporter`` / ``util.GetApp``): ``total`` (the default, what snapshots store) both, ``waypoint`` no
ztunnel row, ``ztunnel`` no waypoint report, ``none`` neither; the reporter rule (:mod:`topology.graph.reporters`)
then applies to the rows read, so with ``none`` or ``ztunnel`` an ingress gateway's own report of a request a
waypoint also reported counts again.

Snapshots store what ``total`` counts and, on each edge that differs between the values, ``ambientParts``
(:func:`topology.graph.wire.build_ambient_parts_data`): per set of values, the traffic of the rows only those values
count.  :func:`apply_ambient_traffic` subtracts the parts ``total`` counts and the option does not, adds the parts
the option counts and ``total`` does not, then recomputes what follows from the rates: error percentages, the
response breakdown, ``…PercentReq``, tcp ``throughput``, node rates; edges left without traffic go, and nodes left
without an edge that had traffic (an idle node stays).  Kept as stored: ``isMTLS``, principals, response times and
health of an edge whose traffic only partly changes (computed over ``total``'s rows).  Pure functions over
wire-format graphs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from topology.graph.derive import (
    _assemble,
    _copy_elements,
    _num,
    _protocol,
    _recompute_node_traffic,
    _recompute_request_shares,
)
from topology.graph.reporters import AMBIENT_TRAFFIC
from topology.graph.wire import format_percent, format_rate

#: The option values, Kiali's default last (what snapshots store).
AMBIENT_TRAFFIC_VALUES: Final = AMBIENT_TRAFFIC
DEFAULT_AMBIENT_TRAFFIC: Final = "total"
#: The absolute rate keys of an edge a part changes (the rest of its rates are percentages or directions it lacks).
_AMOUNT_KEYS: Final = (
    "http",
    "httpNoResponse",
    "http3xx",
    "http4xx",
    "http5xx",
    "grpc",
    "grpcNoResponse",
    "grpcErr",
    "tcp",
    "tcpSent",
    "tcpReceived",
)
#: Error keys per protocol (Kiali's ``…PercentErr``: 4xx + 5xx + no response; gRPC errors + no response).
_ERROR_KEYS: Final = {"http": ("http4xx", "http5xx", "httpNoResponse"), "grpc": ("grpcErr", "grpcNoResponse")}
#: Below this an amount is rounding left over from subtracting a part: no traffic.
_EPSILON: Final = 1e-9


def _signed_parts(parts: Mapping[str, Any], option: str) -> Iterable[tuple[float, Mapping[str, Any]]]:
    """The parts that change the edge under ``option``, with -1 (``total`` counts them, ``option`` not) or +1."""
    for name, part in parts.items():
        values = set(name.split(","))
        in_total, in_option = DEFAULT_AMBIENT_TRAFFIC in values, option in values
        if in_total and not in_option:
            yield -1.0, part
        elif in_option and not in_total:
            yield 1.0, part


def _absolute_responses(traffic: Mapping[str, Any], total: float) -> dict[str, dict[str, dict[str, float]]]:
    """The stored response breakdown (percentages of ``total``) as rates."""
    found: dict[str, dict[str, dict[str, float]]] = {}
    for code, detail in (traffic.get("responses") or {}).items():
        found[code] = {
            kind: {name: _num(share) * total / 100 for name, share in (detail.get(kind) or {}).items()}
            for kind in ("flags", "hosts")
        }
    return found


def _percent_responses(responses: Mapping[str, Mapping[str, Mapping[str, float]]], total: float) -> dict[str, Any]:
    """Rates back to percentages of ``total``; entries left without traffic go."""
    found: dict[str, Any] = {}
    for code in sorted(responses):
        detail = {
            kind: {name: format_percent(value / total * 100) for name, value in sorted(by_name.items()) if value > 0}
            for kind, by_name in responses[code].items()
        }
        if detail["flags"] or detail["hosts"]:
            found[code] = detail
    return found


def _apply_parts(data: dict[str, Any], option: str) -> bool | None:
    """Change one edge's traffic to what ``option`` counts: None when the option does not change it, False when no
    traffic is left, else True."""
    signed = list(_signed_parts(data.get("ambientParts") or {}, option))
    if not signed:
        return None
    traffic = data["traffic"]
    protocol = _protocol(data)
    stored = dict(traffic.get("rates") or {})
    total = _num(stored.get(protocol))
    amounts = {key: _num(stored.get(key)) for key in _AMOUNT_KEYS}
    responses = _absolute_responses(traffic, total)
    for sign, part in signed:
        for key, value in (part.get("rates") or {}).items():
            if key in amounts:
                amounts[key] += sign * _num(value)
        for code, detail in (part.get("responses") or {}).items():
            mine = responses.setdefault(code, {"flags": {}, "hosts": {}})
            for kind in ("flags", "hosts"):
                for name, value in (detail.get(kind) or {}).items():
                    mine[kind][name] = mine[kind].get(name, 0.0) + sign * _num(value)
    new_total = amounts[protocol]
    if new_total <= _EPSILON:
        return False
    rates = {key: value for key, value in stored.items() if key not in _AMOUNT_KEYS and "Percent" not in key}
    rates.update({key: format_rate(amounts[key]) for key in _AMOUNT_KEYS if amounts[key] > _EPSILON})
    errors = sum(amounts[key] for key in _ERROR_KEYS.get(protocol, ()))
    if errors > _EPSILON:
        rates[protocol + "PercentErr"] = format_percent(errors / new_total * 100)
    traffic["rates"] = {protocol: rates.pop(protocol), **rates}
    traffic["responses"] = _percent_responses(responses, new_total)
    if protocol == "tcp" and "throughput" in data:
        data["throughput"] = f"{new_total:.0f}"
    return True


def apply_ambient_traffic(graph: Mapping[str, Any], option: str = DEFAULT_AMBIENT_TRAFFIC) -> dict[str, Any]:
    """The stored graph as Kiali answers ``ambientTraffic=option`` (see the module docstring); ``total``, and graphs
    without ambient parts, change nothing."""
    if option not in AMBIENT_TRAFFIC_VALUES:
        raise ValueError(f"ambientTraffic: {option!r} is not one of {', '.join(AMBIENT_TRAFFIC_VALUES)}")
    by_id, edges = _copy_elements(graph)
    outcomes = [(data, _apply_parts(data, option)) for data in edges]
    kept = [data for data, outcome in outcomes if outcome is not False]
    if all(outcome is None for _, outcome in outcomes):
        return _assemble(graph, by_id, set(by_id), kept)
    for data in kept:  # the parts describe the stored rates: applying them again would count them twice
        data.pop("ambientParts", None)
    had_traffic = {node_id for node_id, data in by_id.items() if data.get("traffic")}
    _recompute_request_shares(by_id, kept)
    _recompute_node_traffic(by_id, kept)
    linked = {d["source"] for d in kept} | {d["target"] for d in kept}
    keep = {
        node_id
        for node_id, data in by_id.items()
        if not data.get("isBox") and (node_id in linked or node_id not in had_traffic)
    }
    return _assemble(graph, by_id, keep, kept)


__all__: list[str] = ["AMBIENT_TRAFFIC_VALUES", "DEFAULT_AMBIENT_TRAFFIC", "apply_ambient_traffic"]
