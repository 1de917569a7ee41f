"""Label and field selectors of the simulated Kubernetes API server.

Compiles ``labelSelector`` strings (equality and set-based requirements) or
matchLabels dicts, and ``fieldSelector`` strings over any dotted path, into
predicates used by lists, watches, deletecollection and the controller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator.errors import BadRequest
from simulator.resources import Obj

_REQUIREMENT = re.compile(
    r"""^\s*(?:
        (?P<notexists>!\s*(?P<nkey>[^\s=!(),]+))
      | (?P<setkey>[^\s=!(),]+)\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\)
      | (?P<key>[^\s=!(),]+)\s*(?P<op>==|!=|=)\s*(?P<value>[^\s=!(),]*)
      | (?P<exists>[^\s=!(),]+)
    )\s*$""",
    re.VERBOSE,
)

LabelMatcher = Callable[[dict[str, str]], bool]
ObjectMatcher = Callable[[Obj], bool]


def _split_requirements(selector: str) -> list[str]:
    """Split a selector on commas that are not inside ``( )``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parse_label_selector(selector: str | dict[str, str] | None) -> LabelMatcher:
    """Compile a label selector string (or a matchLabels dict) into a predicate on labels.

    Supports ``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)`` and ``a notin (x,y)``.
    Raises :class:`BadRequest` for malformed selectors.
    """
    if selector is None or selector == "" or selector == {}:
        return lambda labels: True
    if isinstance(selector, dict):
        wanted = dict(selector)
        return lambda labels: all(labels.get(k) == v for k, v in wanted.items())
    checks: list[LabelMatcher] = []
    for requirement in _split_requirements(selector):
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise BadRequest(f"unable to parse requirement: {requirement.strip()!r}")
        checks.append(_requirement_check(match))
    return lambda labels: all(check(labels) for check in checks)


def _requirement_check(match: re.Match[str]) -> LabelMatcher:
    if match.group("notexists"):
        nkey = match.group("nkey")
        return lambda labels: nkey not in labels
    if match.group("setkey"):
        skey = match.group("setkey")
        values = {v.strip() for v in match.group("values").split(",") if v.strip()}
        if match.group("setop") == "in":
            return lambda labels: labels.get(skey) in values
        return lambda labels: labels.get(skey) not in values
    if match.group("key"):
        key, value = match.group("key"), match.group("value")
        if match.group("op") == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    ekey = match.group("exists")
    return lambda labels: ekey in labels


def _field_value(obj: Obj, path: str) -> str | None:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_field_selector(selector: str | None) -> ObjectMatcher:
    """Compile a field selector (``metadata.name=x,metadata.namespace!=y``, any dotted path)."""
    if not selector:
        return lambda obj: True
    checks: list[ObjectMatcher] = []
    for requirement in selector.split(","):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(\S*)\s*$", requirement)
        if match is None:
            raise BadRequest(f"invalid field selector: {requirement!r}")
        path, op, value = match.groups()
        checks.append(_field_check(path, value, negate=op == "!="))
    return lambda obj: all(check(obj) for check in checks)


def _field_check(path: str, value: str, negate: bool) -> ObjectMatcher:
    def check(obj: Obj) -> bool:
        return (_field_value(obj, path) == value) != negate

    return check


def labels_of(obj: Obj) -> dict[str, str]:
    """``metadata.labels`` of an object (empty dict when absent)."""
    return obj.get("metadata", {}).get("labels") or {}
