"""Kubernetes-style validation causes for :mod:`istio_config.schema`.

A cause mirrors one ``metav1.StatusCause`` of a 422 ``Invalid`` response: ``reason`` (the cause
type, e.g. ``FieldValueRequired``), ``field`` (the offending path) and ``message`` (the error
body, i.e. what follows ``"<field>: "`` in the ``kubectl`` output).  The helpers here render
values and messages the way the Kubernetes API server does (Go ``%v`` / ``%q`` formatting).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, TypedDict

PathSegment = str | int | tuple[str]
"""A path element: a property name, a list index, or a 1-tuple holding a map key."""

Path = tuple[PathSegment, ...]


class IstioCause(TypedDict):
    """One validation failure, shaped like a Kubernetes ``StatusCause``."""

    reason: str
    message: str
    field: str


REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
TYPE_INVALID = "FieldValueTypeInvalid"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
DUPLICATE = "FieldValueDuplicate"

# Sentinel: the error body carries no value (like Go's ``omitValue``).
OMIT: Any = object()


def path_string(path: Path, map_keys_bracketed: bool = False) -> str:
    """Render a path as the API server does: ``spec.http[0].route`` (map keys as ``.k`` or ``[k]``)."""
    out: list[str] = []
    for seg in path:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif isinstance(seg, tuple):
            out.append(f"[{seg[0]}]" if map_keys_bracketed else f".{seg[0]}" if out else seg[0])
        else:
            out.append(f".{seg}" if out else seg)
    return "".join(out)


def go_quote(text: str) -> str:
    """Approximate Go's ``%q`` for a string (JSON escaping is identical for printable text)."""
    return json.dumps(text, ensure_ascii=False)


def go_value(value: Any) -> str:
    """Approximate Go's ``%v`` for a JSON scalar (``true``, ``150``, ``-0.1``, ``1e+21``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        text = repr(value)
        if "e" in text:
            mantissa, exp = text.split("e")
            sign = "-" if exp.startswith("-") else "+"
            text = f"{mantissa}e{sign}{exp.lstrip('+-').zfill(2)}"
        return text
    if value is None:
        return "null"
    return str(value)


def render_value(value: Any) -> str:
    """Render a bad value the way ``field.Error.ErrorBody`` does."""
    if value is None:
        return go_quote("null")
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool | int | float):
        return go_value(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


_TYPE_WORDS = {
    REQUIRED: "Required value",
    INVALID: "Invalid value",
    TYPE_INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    DUPLICATE: "Duplicate value",
}


def make_cause(reason: str, field: str, value: Any = OMIT, detail: str = "") -> IstioCause:
    """Build a cause whose message follows ``field.Error.ErrorBody`` formatting."""
    body = _TYPE_WORDS.get(reason, "Invalid value")
    if value is not OMIT and reason not in (REQUIRED, FORBIDDEN, TOO_LONG):
        body = f"{body}: {render_value(value)}"
    if detail:
        body = f"{body}: {detail}"
    return {"reason": reason, "message": body, "field": field}


def not_supported(field: str, value: Any, allowed: Sequence[Any]) -> IstioCause:
    """``Unsupported value: "X": supported values: "A", "B"`` (enum failure)."""
    quoted = [go_quote(a) if isinstance(a, str) else go_quote(json.dumps(a)) for a in allowed]
    return make_cause(NOT_SUPPORTED, field, value, "supported values: " + ", ".join(quoted))


def too_long(field: str, max_length: int) -> IstioCause:
    """``Too long: may not be more than N bytes`` (maxLength failure)."""
    unit = "byte" if max_length == 1 else "bytes"
    return make_cause(TOO_LONG, field, detail=f"may not be more than {max_length} {unit}")


def too_many(field: str, actual: int, maximum: int) -> IstioCause:
    """``Too many: 3: must have at most 2 items`` (maxItems / maxProperties failure)."""
    unit = "item" if maximum == 1 else "items"
    return make_cause(TOO_MANY, field, actual, f"must have at most {maximum} {unit}")


def format_cause(cause: IstioCause) -> str:
    """Render a cause as one line of the API server's message: ``<field>: <message>``."""
    return f"{cause['field']}: {cause['message']}" if cause["field"] else cause["message"]


def format_status_message(kind: str, group: str, name: str, causes: Sequence[IstioCause]) -> str:
    """Render the top-level message of a 422 Status, e.g. ``VirtualService.networking.istio.io "x" is invalid: ...``."""
    lines = [format_cause(c) for c in causes]
    joined = lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    return f'{kind}.{group} "{name}" is invalid: {joined}'
