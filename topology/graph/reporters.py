"""Which reporter's rows the graph counts: Istio reports a request twice, the graph counts it once (Kiali's rule).

A sidecar proxy reports every request it sees: the client's proxy with ``reporter="source"``, the server's with
``reporter="destination"``; in ambient mode ztunnel reports each L4 connection the same way (both sides, TCP
metrics) and a waypoint proxy reports the L7 requests it routes with ``reporter="waypoint"``.  Kiali
(``graph/telemetry/istio/istio.go``) reads the destination report of traffic into a namespace and the source report
of traffic out of it, and applies a time series to an edge once: a report is a duplicate when the edge already holds
one with the same source, destination, response code, flags and host.  Since the destination report comes first,
the rule is:

- every destination report of a request to a known workload counts (Kiali reads destination reports by
  ``destination_workload_namespace``, so one without a workload is never read);
- a source report counts unless a destination report with the same *key* exists: the same identity labels
  (source, destination service and workload, canonical app and version, clusters), protocol, response code, gRPC
  status and flags.  So traffic the destination proxy never saw stays in the graph: a destination without a sidecar,
  an external host or an egress gateway, a workload of another cluster whose Prometheus is not read, a request that
  failed before reaching any destination (``503 UF``, ``404 NR``), or a response the two proxies saw differently (the
  client timed out, ``504 UT``, while the server answered ``200``);
- a waypoint report counts unless a destination report has the same key (a waypoint in front of a workload with a
  sidecar: the sidecar's report wins); a source report counts unless a destination *or a waypoint* report has the
  same key (an ingress gateway calling an ambient workload through its waypoint: Kiali's ``reporter=~"waypoint|..."``
  and its per-edge time-series hash keep one of them).  So a source report of a request that reached no workload
  counts unless a waypoint reported it;
- rows of any other reporter are not counted.

The order is ``destination`` > ``waypoint`` > ``source``: each report counts unless a report of a higher rank has
the same key.

Kiali's ``ambientTraffic`` option (``none|ztunnel|waypoint|total``, default ``total``) chooses which ambient rows are
read before the rule applies: waypoint reports only for ``waypoint``/``total``, ztunnel's rows (told apart by the
scrape target's ``app="ztunnel"`` label, :data:`ZTUNNEL_MARKER`) only for ``ztunnel``/``total``.  So with ``none`` a
source report a waypoint report outranks counts again.  :func:`build_option_masks` gives each row the set of options
under which it counts (a bit mask over :data:`AMBIENT_TRAFFIC`); the graph stores what ``total`` counts and, per edge,
the rows counted under some options only (:mod:`topology.graph.ambient_options` answers the others).

Both telemetry sources and every graph apply it through :func:`build_counted_filter`; the PromQL of
:mod:`topology.graph.queries` applies the same rule with ``unless on(<key>)``, so Prometheus sends only counted rows.
The key leaves out what differs between the two reports of one request by design: ``connection_security_policy``
(only the destination knows it) and the principals.  Pure: no I/O, no Django.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from topology.graph.paths import IDENTITY_LABELS

#: The labels two reports of one request share (``unless on(...)`` in PromQL), per kind of row.
REQUEST_KEY_LABELS: Final[tuple[str, ...]] = (
    *IDENTITY_LABELS,
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
)
TCP_KEY_LABELS: Final[tuple[str, ...]] = (*IDENTITY_LABELS, "response_flags")
#: Latency rows carry no response code: a source histogram counts unless the destination has one for the identity.
LATENCY_KEY_LABELS: Final[tuple[str, ...]] = (*IDENTITY_LABELS, "request_protocol")

_NO_WORKLOAD: Final = frozenset({"", "unknown"})
#: Every reporter the graph reads, in the order they win over each other.
REPORTERS: Final[tuple[str, ...]] = ("destination", "waypoint", "source")
#: A row's labels: a Prometheus row's ``metric`` or a sample's :class:`~topology.graph.samples.IstioLabels`.
Labels = Mapping[str, object]


def _key_reader(key_labels: tuple[str, ...]) -> Callable[[Labels], tuple[object, ...]]:
    """Read a row's key; a missing label reads as ``""``, as in PromQL's label matching."""
    fast = operator.itemgetter(*key_labels)

    def read(labels: Labels) -> tuple[object, ...]:
        try:
            key: tuple[object, ...] = fast(labels)
        except KeyError:
            get = labels.get
            key = tuple([get(name, "") for name in key_labels])
        return key

    return read


def build_counted_filter(label_sets: Iterable[Labels], key_labels: tuple[str, ...]) -> Callable[[Labels], bool]:
    """A predicate telling, for any row of ``label_sets``, whether the graph counts it (module docstring).

    ``label_sets`` are all the rows of one query (every reporter); the keys of the destination and waypoint reports
    are read only when a waypoint or source report needs them.
    """
    rows = label_sets if isinstance(label_sets, list | tuple) else list(label_sets)
    read_key = _key_reader(key_labels)
    destination_keys: set[tuple[object, ...]] | None = None
    waypoint_keys: set[tuple[object, ...]] | None = None

    def is_counted(labels: Labels) -> bool:
        nonlocal destination_keys, waypoint_keys
        reporter = labels.get("reporter")
        if reporter == "destination":
            return labels.get("destination_workload", "") not in _NO_WORKLOAD
        if reporter != "source" and reporter != "waypoint":
            return False
        if destination_keys is None:
            destination_keys = {
                read_key(row)
                for row in rows
                if row.get("reporter") == "destination" and row.get("destination_workload", "") not in _NO_WORKLOAD
            }
            waypoint_keys = {read_key(row) for row in rows if row.get("reporter") == "waypoint"}
        key = read_key(labels)
        if key in destination_keys:
            return False
        return reporter == "waypoint" or key not in waypoint_keys  # type: ignore[operator]

    return is_counted


#: Kiali's ``ambientTraffic`` values; option ``i`` is bit ``1 << i`` of a row's mask (:func:`build_option_masks`).
AMBIENT_TRAFFIC: Final[tuple[str, ...]] = ("none", "ztunnel", "waypoint", "total")
#: The mask of a row every option counts, and the bit of ``total`` (what snapshots store).
EVERY_OPTION: Final = 0b1111
TOTAL_BIT: Final = 0b1000
#: The scrape target's label that marks ztunnel's series (Prometheus' pod-label relabelling of the ztunnel pod; Kiali's
#: ``GetApp``): ztunnel's own series look like a sidecar's.
ZTUNNEL_MARKER: Final = ("app", "ztunnel")


def option_bit(option: str) -> int:
    """The bit of one ``ambientTraffic`` value in a row's mask."""
    return 1 << AMBIENT_TRAFFIC.index(option)


def is_waypoint_report(labels: Labels) -> bool:
    """A waypoint proxy's report (``reporter="waypoint"``)."""
    return labels.get("reporter") == "waypoint"


def is_ztunnel_row(labels: Labels) -> bool:
    """A series of ztunnel (its scrape target's ``app="ztunnel"``)."""
    return labels.get(ZTUNNEL_MARKER[0]) == ZTUNNEL_MARKER[1]


def reads_row(option: str, labels: Labels) -> bool:
    """Whether ``ambientTraffic=option`` reads the row at all (Kiali's ``GetReporter`` and ``GetApp``)."""
    if option in ("none", "ztunnel") and is_waypoint_report(labels):
        return False
    return not (option in ("none", "waypoint") and is_ztunnel_row(labels))


def has_ambient_rows(rows: Iterable[Labels]) -> bool:
    """Whether any row is a waypoint report or ztunnel's (else every option counts the same rows)."""
    marker, ztunnel = ZTUNNEL_MARKER
    for row in rows:
        get = row.get
        if get("reporter") == "waypoint" or get(marker) == ztunnel:
            return True
    return False


def build_option_masks(label_sets: Iterable[Labels], key_labels: tuple[str, ...]) -> Callable[[Labels], int]:
    """For any row of ``label_sets``, the options under which the graph counts it, as a bit mask (0: never).

    Each option applies the rule of :func:`build_counted_filter` to the rows it reads (:func:`reads_row`).  Rows of a
    mesh without waypoint or ztunnel rows count under every option or none (one filter suffices).
    """
    rows = label_sets if isinstance(label_sets, list | tuple) else list(label_sets)
    if not has_ambient_rows(rows):
        is_counted = build_counted_filter(rows, key_labels)
        return lambda labels: EVERY_OPTION if is_counted(labels) else 0
    filters = [
        (option_bit(option), option, build_counted_filter([row for row in rows if reads_row(option, row)], key_labels))
        for option in AMBIENT_TRAFFIC
    ]

    def mask(labels: Labels) -> int:
        found = 0
        for bit, option, is_counted in filters:
            if reads_row(option, labels) and is_counted(labels):
                found |= bit
        return found

    return mask


def select_readable_rows(rows: list[dict[str, Any]], key_labels: tuple[str, ...]) -> list[dict[str, Any]]:
    """The Prometheus rows some ``ambientTraffic`` option counts, in their order (what the request and TCP queries
    fetch: the graph stores ``total`` and what the other options need)."""
    metrics: list[Labels] = [row.get("metric", {}) for row in rows]
    if not has_ambient_rows(metrics):
        is_counted = build_counted_filter(metrics, key_labels)
        return [row for row, metric in zip(rows, metrics, strict=True) if is_counted(metric)]
    mask = build_option_masks(metrics, key_labels)
    return [row for row, metric in zip(rows, metrics, strict=True) if mask(metric)]


def select_counted_rows(rows: list[dict[str, Any]], key_labels: tuple[str, ...]) -> list[dict[str, Any]]:
    """The Prometheus rows (``{"metric": {...}, "value": [...]}``) the graph counts, in their order."""
    metrics: list[Labels] = [row.get("metric", {}) for row in rows]
    is_counted = build_counted_filter(metrics, key_labels)
    return [row for row, metric in zip(rows, metrics, strict=True) if is_counted(metric)]


__all__: list[str] = [
    "AMBIENT_TRAFFIC",
    "EVERY_OPTION",
    "LATENCY_KEY_LABELS",
    "REPORTERS",
    "REQUEST_KEY_LABELS",
    "TCP_KEY_LABELS",
    "TOTAL_BIT",
    "ZTUNNEL_MARKER",
    "build_counted_filter",
    "build_option_masks",
    "option_bit",
    "reads_row",
    "select_counted_rows",
    "select_readable_rows",
]
