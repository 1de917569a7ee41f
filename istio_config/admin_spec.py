"""The admin's structured forms over an Istio spec: which fields a form shows, how a spec splits into those fields and
the rest (shown as YAML and kept, never dropped), how they join back, and which form field an error path names.
Pure, no Django.

A form field is a :class:`Leaf`: a name and the path of one value under the part of the spec it edits (a
VirtualService's HTTP route, a DestinationRule's traffic policy...). A value is taken into its field only when it
has the shape the field edits (a string for a text field, a list of strings for a list field...); anything else —
an unmodelled field, an odd shape — stays in the rest. Joining overlays the fields on the rest, mappings by key and
lists by position, so ``split`` then ``join`` gives back the same spec.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

#: The kinds of value a leaf edits.
STR, INT, NUMBER, STRING_LIST, STRING_MAP, STRING_MATCH, MATCH_MAP = (
    "str",
    "int",
    "number",
    "string-list",
    "string-map",
    "string-match",
    "match-map",
)
#: The ways an Istio ``StringMatch`` matches.
MATCH_TYPES = ("exact", "prefix", "regex")


@dataclass(frozen=True)
class Leaf:
    """One form field: its name, the path of its value, and the kind of value it edits."""

    field: str
    path: Path
    kind: str = STR


def _is_string_match(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) in MATCH_TYPES
        and isinstance(next(iter(value.values())), str)
    )


def accepts(kind: str, value: Any) -> bool:
    """Whether a leaf of ``kind`` edits ``value`` (an empty value stays in the rest, so it is never lost)."""
    if kind == STR:
        return isinstance(value, str) and value != ""
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == STRING_LIST:
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    if kind == STRING_MAP:
        return isinstance(value, dict) and bool(value) and all(isinstance(v, str) for v in value.values())
    if kind == STRING_MATCH:
        return _is_string_match(value)
    if kind == MATCH_MAP:
        return isinstance(value, dict) and bool(value) and all(_is_string_match(v) for v in value.values())
    raise ValueError(f"unknown leaf kind {kind!r}")


def is_empty(value: Any) -> bool:
    """A form field left blank: it writes nothing."""
    return value is None or value == "" or value == [] or value == {}


def _get(value: Any, path: Path) -> tuple[bool, Any]:
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return False, None
        elif not isinstance(value, dict) or step not in value:
            return False, None
        value = value[step]
    return True, value


def _prune(value: Any, original: Any) -> Any:
    """``value`` without the mappings and lists that split emptied (empty ones the user wrote stay)."""
    if isinstance(value, dict) and isinstance(original, dict):
        out = {}
        for key, item in value.items():
            pruned = _prune(item, original.get(key))
            if pruned in ({}, []) and original.get(key) not in ({}, []):
                continue  # emptied by split
            out[key] = pruned
        return out
    if isinstance(value, list) and isinstance(original, list):
        items = [_prune(item, original[i] if i < len(original) else None) for i, item in enumerate(value)]
        # An emptied element keeps its place (``{}``) while a later one is left, so positions still line up.
        while items and items[-1] == {} and original[len(items) - 1] != {}:
            items.pop()
        return items
    return value


def split(value: Mapping[str, Any], leaves: Sequence[Leaf]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``value`` as ``(fields, rest)``: each leaf's value when it has the leaf's shape, and what is left."""
    rest: dict[str, Any] = copy.deepcopy(dict(value))
    fields: dict[str, Any] = {}
    for leaf in leaves:
        found, item = _get(rest, leaf.path)
        _parent_found, parent = _get(rest, leaf.path[:-1])
        if found and accepts(leaf.kind, item) and isinstance(parent, dict):
            fields[leaf.field] = parent.pop(leaf.path[-1])
    pruned: dict[str, Any] = _prune(rest, dict(value))
    return fields, pruned


def merge(base: Any, overlay: Any) -> Any:
    """``overlay`` laid over ``base``: mappings merged by key, lists by position, ``overlay``'s other values win."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = copy.deepcopy(base)
        for key, item in overlay.items():
            out[key] = merge(base[key], item) if key in base else copy.deepcopy(item)
        return out
    if isinstance(base, list) and isinstance(overlay, list):
        out_list = []
        for i in range(max(len(base), len(overlay))):
            if i < len(base) and i < len(overlay):
                out_list.append(merge(base[i], overlay[i]))
            else:
                out_list.append(copy.deepcopy(overlay[i] if i < len(overlay) else base[i]))
        return out_list
    return copy.deepcopy(overlay)


def _put(target: dict[str, Any], path: Path, item: Any) -> None:
    """Set ``item`` at ``path`` in ``target``, making the mappings and lists on the way."""
    node: Any = target
    for step, following in itertools.pairwise(path):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            if not node[step]:
                node[step] = empty
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append({})
    node[last] = item


def join(fields: Mapping[str, Any], leaves: Sequence[Leaf], rest: Mapping[str, Any]) -> dict[str, Any]:
    """The value a form's ``fields`` (blank ones write nothing) and its ``rest`` make together."""
    built: dict[str, Any] = {}
    for leaf in leaves:
        item = fields.get(leaf.field)
        if not is_empty(item):
            _put(built, leaf.path, item)
    joined: dict[str, Any] = merge(dict(rest), built)
    return joined


_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[([^\]]*)\]")


def parse_path(path: str) -> Path:
    """``spec.http[0].route[1].weight`` as ``("spec", "http", 0, "route", 1, "weight")``."""
    steps: list[str | int] = []
    for name, index, key in _PATH_STEP.findall(path):
        steps.append(int(index) if index else (name or key))
    return tuple(steps)


def leaf_of(path: Path, leaves: Sequence[Leaf]) -> str | None:
    """The field of the leaf ``path`` (relative to the leaves' part) falls in or above; None when it names none.

    An error on a leaf's value or below it belongs to the leaf; an error on a place that holds leaves (a missing
    ``destination``) to its first leaf."""
    for leaf in leaves:
        if path[: len(leaf.path)] == leaf.path:
            return leaf.field
    for leaf in leaves:
        if path and leaf.path[: len(path)] == path:
            return leaf.field
    return None


# ---- text forms of the structured values (what the form's text areas hold) ----


def string_list_text(values: Sequence[str]) -> str:
    return "\n".join(values)


def parse_string_list(text: str) -> list[str]:
    """One value per line (or separated by commas); blank lines are ignored."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


def string_map_text(values: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in values.items())


def parse_string_map(text: str) -> dict[str, str]:
    """``key=value`` per line; raises ValueError naming the line that is not one."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"line {number}: write key=value")
        found[key.strip()] = value.strip()
    return found


def string_match_text(match: Mapping[str, str]) -> str:
    kind, value = next(iter(match.items()))
    return f"{kind} {value}"


def parse_string_match(text: str) -> dict[str, str]:
    """``prefix /reviews`` (``exact``, ``prefix`` or ``regex``, then the value) as ``{"prefix": "/reviews"}``."""
    kind, _, value = text.strip().partition(" ")
    if kind not in MATCH_TYPES or not value.strip():
        raise ValueError(f"write one of {', '.join(MATCH_TYPES)} and the value, e.g. 'prefix /reviews'")
    return {kind: value.strip()}


def match_map_text(matches: Mapping[str, Mapping[str, str]]) -> str:
    return "\n".join(f"{name} {string_match_text(match)}" for name, match in matches.items())


def parse_match_map(text: str) -> dict[str, dict[str, str]]:
    """``name exact value`` per line (a header or query parameter and how it matches); raises ValueError."""
    found: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _, match = line.strip().partition(" ")
        try:
            found[name] = parse_string_match(match)
        except ValueError as exc:
            raise ValueError(f"line {number}: write the name, then {exc}") from exc
    return found


# ---- the kinds the admin edits with structured forms ----

#: The destinations an HTTP route form offers at least (Bookinfo's reviews has three versions).
MIN_DESTINATIONS = 3


def http_route_leaves(destinations: int) -> list[Leaf]:
    """The fields of one VirtualService HTTP route: its name, its first match's URI, headers and query parameters,
    ``destinations`` destinations (host, subset, port, weight), fault delay and abort, timeout and retries."""
    leaves = [
        Leaf("name", ("name",)),
        Leaf("uri", ("match", 0, "uri"), STRING_MATCH),
        Leaf("headers", ("match", 0, "headers"), MATCH_MAP),
        Leaf("query_params", ("match", 0, "queryParams"), MATCH_MAP),
    ]
    for i in range(destinations):
        leaves += [
            Leaf(f"dest{i}_host", ("route", i, "destination", "host")),
            Leaf(f"dest{i}_subset", ("route", i, "destination", "subset")),
            Leaf(f"dest{i}_port", ("route", i, "destination", "port", "number"), INT),
            Leaf(f"dest{i}_weight", ("route", i, "weight"), INT),
        ]
    return [
        *leaves,
        Leaf("delay_percent", ("fault", "delay", "percentage", "value"), NUMBER),
        Leaf("delay_fixed", ("fault", "delay", "fixedDelay")),
        Leaf("abort_percent", ("fault", "abort", "percentage", "value"), NUMBER),
        Leaf("abort_status", ("fault", "abort", "httpStatus"), INT),
        Leaf("timeout", ("timeout",)),
        Leaf("retry_attempts", ("retries", "attempts"), INT),
        Leaf("retry_per_try_timeout", ("retries", "perTryTimeout")),
        Leaf("retry_on", ("retries", "retryOn")),
    ]


VIRTUAL_SERVICE_LEAVES = [Leaf("hosts", ("hosts",), STRING_LIST), Leaf("gateways", ("gateways",), STRING_LIST)]

TRAFFIC_POLICY = ("trafficPolicy",)
DESTINATION_RULE_LEAVES = [
    Leaf("host", ("host",)),
    Leaf("load_balancer", (*TRAFFIC_POLICY, "loadBalancer", "simple")),
    Leaf("max_connections", (*TRAFFIC_POLICY, "connectionPool", "tcp", "maxConnections"), INT),
    Leaf("connect_timeout", (*TRAFFIC_POLICY, "connectionPool", "tcp", "connectTimeout")),
    Leaf("http1_max_pending_requests", (*TRAFFIC_POLICY, "connectionPool", "http", "http1MaxPendingRequests"), INT),
    Leaf("http2_max_requests", (*TRAFFIC_POLICY, "connectionPool", "http", "http2MaxRequests"), INT),
    Leaf("max_requests_per_connection", (*TRAFFIC_POLICY, "connectionPool", "http", "maxRequestsPerConnection"), INT),
    Leaf("consecutive_5xx_errors", (*TRAFFIC_POLICY, "outlierDetection", "consecutive5xxErrors"), INT),
    Leaf("interval", (*TRAFFIC_POLICY, "outlierDetection", "interval")),
    Leaf("base_ejection_time", (*TRAFFIC_POLICY, "outlierDetection", "baseEjectionTime")),
    Leaf("max_ejection_percent", (*TRAFFIC_POLICY, "outlierDetection", "maxEjectionPercent"), INT),
    Leaf("tls_mode", (*TRAFFIC_POLICY, "tls", "mode")),
]
SUBSET_LEAVES = [Leaf("name", ("name",)), Leaf("labels", ("labels",), STRING_MAP)]


@dataclass(frozen=True)
class Parts:
    """A spec split for a form: the top fields, one ``(fields, rest)`` per list item (HTTP routes, subsets), and
    the rest of the spec."""

    fields: dict[str, Any]
    items: list[tuple[dict[str, Any], dict[str, Any]]]
    rest: dict[str, Any]


def split_spec(spec: Mapping[str, Any], leaves: Sequence[Leaf], items_key: str, item_leaves: Sequence[Leaf]) -> Parts:
    """``spec`` split for a form whose items are the mappings of ``spec[items_key]`` (when it is a list of them)."""
    fields, rest = split(spec, leaves)
    items: list[tuple[dict[str, Any], dict[str, Any]]] = []
    listed = rest.get(items_key)
    if isinstance(listed, list) and listed and all(isinstance(item, dict) for item in listed):
        items = [split(item, item_leaves) for item in rest.pop(items_key)]
    return Parts(fields, items, rest)


def join_spec(
    fields: Mapping[str, Any],
    leaves: Sequence[Leaf],
    items_key: str,
    items: Sequence[Mapping[str, Any]],
    rest: Mapping[str, Any],
) -> dict[str, Any]:
    """The spec of a form: its fields over its rest, and its items (already joined) as ``items_key``."""
    spec = join(fields, leaves, rest)
    if items:
        spec[items_key] = [dict(item) for item in items]
    return spec


def destination_slots(items: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> int:
    """How many destinations each HTTP route form offers: one more than the longest route has, at least
    :data:`MIN_DESTINATIONS`."""
    longest = 0
    for fields, _rest in items:
        used = [int(name[4:].partition("_")[0]) + 1 for name in fields if name.startswith("dest")]
        longest = max([longest, *used])
    return max(MIN_DESTINATIONS, longest + 1)


@dataclass(frozen=True)
class ErrorPlace:
    """Where a form shows an error: an item form (None: the main form) and a field (None: the form as a whole)."""

    item: int | None
    field: str | None


#: The form field that holds what the structured fields do not (the main form's and each item form's).
OTHER = "other"


def locate_error(path: str, leaves: Sequence[Leaf], items_key: str, item_leaves: Sequence[Leaf]) -> ErrorPlace:
    """The form field an error at ``path`` (``spec.http[0].route[1].weight``) belongs on."""
    steps = parse_path(path)
    if not steps:
        return ErrorPlace(None, None)
    if steps[0] == "metadata":
        named = steps[1] if len(steps) > 1 and steps[1] in ("name", "namespace") else OTHER
        return ErrorPlace(None, str(named))
    if steps[0] != "spec":
        return ErrorPlace(None, None)
    inner = steps[1:]
    if len(inner) >= 2 and inner[0] == items_key and isinstance(inner[1], int):
        below = inner[2:]
        return ErrorPlace(inner[1], (leaf_of(below, item_leaves) or OTHER) if below else None)
    if not inner:
        return ErrorPlace(None, None)
    return ErrorPlace(None, leaf_of(inner, leaves) or OTHER)
