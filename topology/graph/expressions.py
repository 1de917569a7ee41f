"""The graph page's find / hide expressions, evaluated on the server over stored Kiali-shaped element data.

Same grammar, semantics and error messages as ``static/dashboard/graph-expr.js``::

    term := "rt" OP n | "%error" OP n | "rps" OP n | "label:" KEY ("=" | "!=") GLOB | "name" ("=" | "!=") GLOB
          | "node" ("=" | "!=") TYPE | "healthy" | "!healthy" | "mtls" | "!mtls" | "idle" | "!idle"
    expr := term { AND term } { OR term { AND term } }      (AND binds tighter; "&&" and "||" work too)

The server evaluates exactly the terms that read stored fields: ``label:``, ``name``, ``node``, ``healthy``,
``!healthy``, ``idle`` and ``!idle``. The metric terms (rt, %error, rps) and mTLS are parsed, so their errors
read as on the page, but rejected by :func:`parse_hide_expression`: the page computes them from rates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

LABEL_KEYS = ("app", "version", "workload", "service", "namespace", "cluster")
NODE_TYPES = ("app", "workload", "service", "unknown", "box")
UNHEALTHY = frozenset({"Degraded", "Failure", "Not Ready"})

_OR = re.compile(r"\s+OR\s+|\s*\|\|\s*", re.IGNORECASE)
_AND = re.compile(r"\s+AND\s+|\s*&&\s*", re.IGNORECASE)
_METRIC = re.compile(r"(rt|%error|rps)\s*(>=|<=|!=|>|<|=)\s*(-?[0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)
_LABEL = re.compile(r"label:([a-z]+)\s*(!?=)\s*(\S+)", re.IGNORECASE)
_NAME = re.compile(r"name\s*(!?=)\s*(\S+)", re.IGNORECASE)
_NODE = re.compile(r"node\s*(!?=)\s*(\S+)", re.IGNORECASE)

Data = Mapping[str, Any]
_Test = Callable[[Data, bool], bool]


class NodePredicate(Protocol):
    """True when an element matches; ``is_node`` False for edges (most terms only match nodes)."""

    def __call__(self, data: Data, is_node: bool = True) -> bool: ...


class ExpressionError(ValueError):
    """The expression cannot be read; the message is meant for the user (same wording as the page)."""


class UnsupportedTermError(ExpressionError):
    """The expression is valid but has a term only the page can evaluate."""


@dataclass(frozen=True)
class Term:
    """One parsed term: its text, whether the server evaluates it, and its test."""

    text: str
    server: bool
    test: _Test


def glob_pattern(glob: str) -> re.Pattern[str]:
    """``*`` matches anything, everything else literally; whole value, case-insensitive."""
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")), re.IGNORECASE)


def display_name(data: Data) -> str:
    """The name the page shows for a node (``displayName`` in graph-data.js); ``name=`` matches it."""
    node_type = data.get("nodeType")
    if node_type == "box":
        box = data.get("isBox")
        value = data.get(box if box in ("app", "namespace") else "cluster")
    elif node_type == "service":
        value = data.get("service") or "service"
    elif node_type == "unknown":
        value = "unknown"
    elif node_type == "app":
        value = data.get("app") or data.get("workload") or ""
    else:
        value = data.get("workload") or data.get("app") or ""
    return str(value) if value else ""


def _label_value(data: Data, key: str) -> str:
    # A service node stands for its app: "label:app=ratings" matches the ratings service too.
    value = data.get(key) or (data.get("service") if key == "app" and data.get("nodeType") == "service" else "")
    return str(value) if value else ""


def _glob_test(glob: str, negate: bool, value: Callable[[Data], str]) -> _Test:
    pattern = glob_pattern(glob)
    return lambda d, is_node: is_node and (pattern.fullmatch(value(d)) is not None) != negate


def _metric(field: str, op: str, limit: float) -> _Test:
    compare: dict[str, Callable[[float, float], bool]] = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    check = compare[op]

    def test(data: Data, is_node: bool) -> bool:
        value = data.get(field)
        # Elements without the measure (e.g. tcp edges for rt) never match.
        return isinstance(value, int | float) and not isinstance(value, bool) and check(value, limit)

    return test


def _is_mtls(data: Data) -> bool:
    try:
        return float(data.get("isMTLS") or 0) > 0
    except (TypeError, ValueError):
        return False


def parse_term(text: str) -> Term:
    """One term, or :class:`ExpressionError` with the page's message."""
    term = text.strip()
    lower = term.lower()
    if not term:
        raise ExpressionError("empty term (check AND / OR)")
    keywords: dict[str, tuple[bool, _Test]] = {
        "healthy": (True, lambda d, is_node: d.get("healthStatus") == "Healthy"),
        "!healthy": (True, lambda d, is_node: d.get("healthStatus") in UNHEALTHY),
        "mtls": (False, lambda d, is_node: not is_node and _is_mtls(d)),
        "!mtls": (False, lambda d, is_node: not is_node and not _is_mtls(d)),
        "idle": (True, lambda d, is_node: is_node and bool(d.get("isIdle"))),
        "!idle": (True, lambda d, is_node: is_node and not d.get("isIdle")),
    }
    if lower in keywords:
        server, test = keywords[lower]
        return Term(term, server, test)

    metric = _METRIC.fullmatch(term)
    if metric:
        field = {"rt": "_rt", "%error": "_err", "rps": "_rps"}[metric[1].lower()]
        return Term(term, False, _metric(field, metric[2], float(metric[3])))

    label = _LABEL.fullmatch(term)
    if label:
        key = label[1].lower()
        if key not in LABEL_KEYS:
            raise ExpressionError(f'unknown label "{label[1]}": use {", ".join(LABEL_KEYS)}')
        return Term(term, True, _glob_test(label[3], label[2] == "!=", lambda d: _label_value(d, key)))

    name = _NAME.fullmatch(term)
    if name:
        return Term(term, True, _glob_test(name[2], name[1] == "!=", display_name))

    node = _NODE.fullmatch(term)
    if node:
        node_type = node[2].lower()
        if node_type not in NODE_TYPES:
            raise ExpressionError(f'unknown node type "{node[2]}": use {", ".join(NODE_TYPES)}')
        negate = node[1] == "!="
        return Term(term, True, lambda d, is_node: is_node and (d.get("nodeType") == node_type) != negate)

    raise ExpressionError(
        f'cannot read "{term}": try rt > 500, %error > 5, rps > 1, label:app=reviews, name=reviews*, healthy, !healthy'
    )


def parse_terms(text: str) -> list[list[Term]]:
    """The alternatives (OR) of conjunctions (AND) of an expression; an empty expression has none."""
    if not text or not text.strip():
        return []
    return [[parse_term(part) for part in _AND.split(alternative)] for alternative in _OR.split(text)]


def unsupported_terms(text: str) -> list[str]:
    """The terms of a valid expression the server cannot evaluate (raises :class:`ExpressionError` if invalid)."""
    return [term.text for alternative in parse_terms(text) for term in alternative if not term.server]


def is_server_evaluable(text: str) -> bool:
    """True for a non-empty, valid expression whose every term the server evaluates exactly."""
    try:
        return bool(text.strip()) and not unsupported_terms(text)
    except ExpressionError:
        return False


def parse_hide_expression(text: str) -> NodePredicate:
    """A predicate for a fully server-evaluable expression; :class:`ExpressionError` otherwise."""
    alternatives = parse_terms(text)
    if not alternatives:
        raise ExpressionError("empty expression")
    unsupported = [term.text for alternative in alternatives for term in alternative if not term.server]
    if unsupported:
        raise UnsupportedTermError(
            f'cannot evaluate "{unsupported[0]}" on the server: only label:, name=, node=, healthy, !healthy, idle '
            "and !idle terms are accepted here (rt, %error, rps and mtls are applied by the page)"
        )

    def predicate(data: Data, is_node: bool = True) -> bool:
        return any(all(term.test(data, is_node) for term in alternative) for alternative in alternatives)

    return predicate
