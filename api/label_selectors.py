"""Kubernetes label selectors (``app=reviews,version!=v1``, ``env in (a,b)``, ``!canary``), parsed into requirements.

Pure: no Django. The grammar is Kubernetes' (``k8s.io/apimachinery/pkg/labels``): requirements joined by commas,
all of which must hold; ``key`` (exists), ``!key`` (does not exist), ``key=value`` / ``key==value``,
``key!=value`` (also true when the key is absent), ``key in (v1,v2)``, ``key notin (v1,v2)`` (also true when
absent). Keys and values are checked as Kubernetes checks them. ``>`` and ``<`` are refused: mesh-ui's lists do
not compare label values as numbers. No maintained Python library parses this syntax (the ``kubernetes`` client
passes selectors to the API server as text), hence this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Operator = Literal["exists", "!exists", "=", "!=", "in", "notin"]

MAX_SELECTOR_LENGTH = 4096
MAX_REQUIREMENTS = 50

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KEY_CHARS = r"[^\s=!<>(),]+"
_SET = re.compile(rf"(?P<key>{_KEY_CHARS})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)")
_EQUALITY = re.compile(rf"(?P<key>{_KEY_CHARS})\s*(?P<op>==|!=|=)\s*(?P<value>[^\s=!<>(),]*)")
_EXISTS = re.compile(rf"(?P<not>!?)\s*(?P<key>{_KEY_CHARS})")


class LabelSelectorError(ValueError):
    """A selector that Kubernetes would refuse; the message says which part and why."""


@dataclass(frozen=True)
class Requirement:
    """One condition on one label."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether ``labels`` satisfy the requirement (Kubernetes' semantics; the database filters the same way)."""
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values


def parse_label_selector(text: str) -> tuple[Requirement, ...]:
    """The requirements of ``text``; an empty or blank selector has none (it selects everything).

    Raises :class:`LabelSelectorError` naming the first part that is not valid.
    """
    if len(text) > MAX_SELECTOR_LENGTH:
        raise LabelSelectorError(f"a selector is at most {MAX_SELECTOR_LENGTH} characters")
    if not text.strip():
        return ()
    parts = split_requirements(text)
    if len(parts) > MAX_REQUIREMENTS:
        raise LabelSelectorError(f"a selector has at most {MAX_REQUIREMENTS} requirements")
    return tuple(parse_requirement(part) for part in parts)


def split_requirements(text: str) -> list[str]:
    """``text`` split at the commas that are not inside a value set's parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
            if depth > 1:
                raise LabelSelectorError("nested parentheses")
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise LabelSelectorError("')' without '('")
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if depth:
        raise LabelSelectorError("'(' without ')'")
    parts.append(text[start:])
    return parts


def parse_requirement(part: str) -> Requirement:
    text = part.strip()
    if not text:
        raise LabelSelectorError("empty requirement (two commas, or one at an end)")
    if match := _SET.fullmatch(text):
        values = tuple(v.strip() for v in match["values"].split(","))
        if values == ("",):
            raise LabelSelectorError(f"{text!r}: the set of values is empty")
        operator: Operator = "in" if match["op"] == "in" else "notin"
        return Requirement(check_key(match["key"]), operator, tuple(check_value(v) for v in values))
    if match := _EQUALITY.fullmatch(text):
        operator = "!=" if match["op"] == "!=" else "="
        return Requirement(check_key(match["key"]), operator, (check_value(match["value"]),))
    if match := _EXISTS.fullmatch(text):
        return Requirement(check_key(match["key"]), "!exists" if match["not"] else "exists")
    if "<" in text or ">" in text:
        raise LabelSelectorError(f"{text!r}: the operators > and < are not supported")
    raise LabelSelectorError(f"{text!r} is not key, !key, key=value, key!=value, key in (...) or key notin (...)")


def check_key(key: str) -> str:
    """``key`` when it is a valid label key (``[prefix/]name``), else :class:`LabelSelectorError`."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise LabelSelectorError(f"label key {key!r}: the prefix must be a DNS subdomain")
    if not name or len(name) > 63 or not _NAME.fullmatch(name):
        raise LabelSelectorError(
            f"label key {key!r}: the name must be 1-63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return key


def check_value(value: str) -> str:
    """``value`` when it is a valid label value (empty, or a name of at most 63 characters)."""
    if value and (len(value) > 63 or not _NAME.fullmatch(value)):
        raise LabelSelectorError(
            f"label value {value!r}: at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value
