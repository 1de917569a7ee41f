"""Compiled OpenAPI v3 structural-schema nodes: type/value validation and pruning.

A :class:`SchemaNode` is built once from a schema dict (see :func:`compile_schema`) and then
validates instances the way the Kubernetes API server's OpenAPI validator does for custom
resources: same keyword semantics (``nullable``, ``x-kubernetes-int-or-string``,
``x-kubernetes-preserve-unknown-fields``, enums, bounds, ``oneOf``/``anyOf``/``allOf``/``not``),
the same error paths and near-identical messages.  CEL rules are only collected here; they are
evaluated by :mod:`istio_config.schema_cel`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any

from istio_config.schema_errors import (
    DUPLICATE,
    INVALID,
    REQUIRED,
    TYPE_INVALID,
    IstioCause,
    Path,
    go_quote,
    go_value,
    make_cause,
    not_supported,
    path_string,
    too_long,
    too_many,
)

_JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean"}


def json_type_name(value: Any) -> str:
    """The OpenAPI type name of a decoded JSON value (``integer`` for integral numbers)."""
    if value is None:
        return "null"
    name = _JSON_TYPE_NAMES.get(type(value))
    if name:
        return name
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    return type(value).__name__


def _type_ok(expected: str, value: Any) -> bool:
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if expected == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if expected == "number":
        return isinstance(value, int | float)
    return True


def _check_datetime(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text.upper() and bool(re.search(r"([+-]\d\d:\d\d|Z)$", text, re.IGNORECASE))


def _check_byte(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _check_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _check_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


_HOSTNAME = re.compile(
    r"^(?=.{1,255}$)[A-Za-z0-9](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$"
)
_DURATION = re.compile(r"^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ns|us|µs|ms|s|m|h|d|w)\s*)+$")

# String formats the API server enforces for custom resources (others are documentation only,
# notably the numeric ones: int32/int64/double/float are not range-checked).
FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "date-time": _check_datetime,
    "datetime": _check_datetime,
    "date": lambda t: bool(re.fullmatch(r"\d{4}-\d\d-\d\d", t)) and _safe_date(t),
    "byte": _check_byte,
    "ipv4": lambda t: _check_ip(t, 4),
    "ipv6": lambda t: _check_ip(t, 6),
    "cidr": _check_cidr,
    "uuid": _check_uuid,
    "hostname": lambda t: bool(_HOSTNAME.match(t)),
    "duration": lambda t: bool(_DURATION.match(t)),
}


def _safe_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


class SchemaNode:
    """One compiled schema node; children are compiled eagerly, CEL programs lazily."""

    __slots__ = (
        "additional",
        "all_of",
        "any_of",
        "enum",
        "exclusive_max",
        "exclusive_min",
        "format",
        "int_or_string",
        "items",
        "list_map_keys",
        "list_type",
        "max_items",
        "max_length",
        "max_properties",
        "maximum",
        "min_items",
        "min_length",
        "min_properties",
        "minimum",
        "multiple_of",
        "not_",
        "nullable",
        "one_of",
        "pattern",
        "pattern_text",
        "preserve_unknown",
        "properties",
        "raw",
        "required",
        "rules",
        "subtree_rules",
        "type",
        "unique_items",
    )

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.type: str | None = raw.get("type")
        self.nullable = bool(raw.get("nullable", False))
        self.int_or_string = bool(raw.get("x-kubernetes-int-or-string", False))
        self.preserve_unknown = bool(raw.get("x-kubernetes-preserve-unknown-fields", False))
        self.format: str | None = raw.get("format")
        self.enum: list[Any] | None = raw.get("enum")
        self.required: tuple[str, ...] = tuple(raw.get("required", ()))
        self.properties: dict[str, SchemaNode] = {k: SchemaNode(v) for k, v in (raw.get("properties") or {}).items()}
        self.items = SchemaNode(raw["items"]) if isinstance(raw.get("items"), dict) else None
        additional = raw.get("additionalProperties")
        self.additional: SchemaNode | bool | None = (
            SchemaNode(additional) if isinstance(additional, dict) else additional
        )
        self.all_of = [SchemaNode(s) for s in raw.get("allOf", ())]
        self.one_of = [SchemaNode(s) for s in raw.get("oneOf", ())]
        self.any_of = [SchemaNode(s) for s in raw.get("anyOf", ())]
        self.not_ = SchemaNode(raw["not"]) if isinstance(raw.get("not"), dict) else None
        self.maximum: float | None = raw.get("maximum")
        self.minimum: float | None = raw.get("minimum")
        self.exclusive_max = bool(raw.get("exclusiveMaximum", False))
        self.exclusive_min = bool(raw.get("exclusiveMinimum", False))
        self.multiple_of: float | None = raw.get("multipleOf")
        self.max_length: int | None = raw.get("maxLength")
        self.min_length: int | None = raw.get("minLength")
        self.pattern_text: str | None = raw.get("pattern")
        self.pattern = _compile_pattern(self.pattern_text)
        self.max_items: int | None = raw.get("maxItems")
        self.min_items: int | None = raw.get("minItems")
        self.unique_items = bool(raw.get("uniqueItems", False))
        self.max_properties: int | None = raw.get("maxProperties")
        self.min_properties: int | None = raw.get("minProperties")
        self.list_type: str | None = raw.get("x-kubernetes-list-type")
        self.list_map_keys: tuple[str, ...] = tuple(raw.get("x-kubernetes-list-map-keys", ()))
        self.rules: list[dict[str, Any]] = list(raw.get("x-kubernetes-validations", ()))
        children = [*self.properties.values(), self.items, self.additional]
        self.subtree_rules: bool = bool(self.rules) or any(
            isinstance(c, SchemaNode) and c.subtree_rules for c in children
        )

    # ------------------------------------------------------------------ validation

    def validate(self, value: Any, path: Path, errors: list[IstioCause]) -> None:
        """Append the schema (non-CEL) errors of ``value`` at ``path`` to ``errors``."""
        if value is None:
            if self.nullable or (self.type is None and not self.int_or_string):
                return
            expected = "integer,string" if self.int_or_string else str(self.type)
            self._type_error(path, expected, value, errors)
            return
        if self.int_or_string:
            if not (isinstance(value, str) or _type_ok("integer", value)):
                self._type_error(path, "integer,string", value, errors)
                return
        elif self.type is not None and not _type_ok(self.type, value):
            self._type_error(path, self.type, value, errors)
            return
        if self.enum is not None and not _in_enum(value, self.enum):
            errors.append(not_supported(path_string(path), value, self.enum))
        if isinstance(value, str):
            self._validate_string(value, path, errors)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self._validate_number(value, path, errors)
        elif isinstance(value, list):
            self._validate_array(value, path, errors)
        elif isinstance(value, dict):
            self._validate_object(value, path, errors)
        for sub in self.all_of:
            sub.validate(value, path, errors)
        if self.one_of:
            valid = sum(1 for sub in self.one_of if sub.is_valid(value))
            if valid != 1:
                extra = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
                detail = f'"{path_string(path)}" must validate one and only one schema (oneOf). {extra}'
                errors.append(make_cause(INVALID, path_string(path), "", detail))
        if self.any_of and not any(sub.is_valid(value) for sub in self.any_of):
            detail = f'"{path_string(path)}" must validate at least one schema (anyOf)'
            errors.append(make_cause(INVALID, path_string(path), "", detail))
        if self.not_ is not None and self.not_.is_valid(value):
            detail = f'"{path_string(path)}" must not validate the schema (not)'
            errors.append(make_cause(INVALID, path_string(path), "", detail))

    def is_valid(self, value: Any) -> bool:
        """True when ``value`` passes this node's schema keywords (used by the junctors)."""
        errors: list[IstioCause] = []
        self.validate(value, (), errors)
        return not errors

    def _type_error(self, path: Path, expected: str, value: Any, errors: list[IstioCause]) -> None:
        field = path_string(path)
        actual = json_type_name(value)
        detail = f'{field} in body must be of type {expected}: "{actual}"'
        errors.append(make_cause(TYPE_INVALID, field, actual, detail))

    def _validate_string(self, value: str, path: Path, errors: list[IstioCause]) -> None:
        if self.max_length is not None and len(value) > self.max_length:
            errors.append(too_long(path_string(path), self.max_length))
        if self.min_length is not None and len(value) < self.min_length:
            field = path_string(path)
            detail = f"{field} in body should be at least {self.min_length} chars long"
            errors.append(make_cause(INVALID, field, value, detail))
        if self.pattern is not None and not self.pattern.search(value):
            field = path_string(path)
            detail = f"{field} in body should match '{self.pattern_text}'"
            errors.append(make_cause(INVALID, field, value, detail))
        check = FORMAT_CHECKS.get(self.format or "")
        if check is not None and not check(value):
            field = path_string(path)
            detail = f"{field} in body must be of type {self.format}: {go_quote(value)}"
            errors.append(make_cause(TYPE_INVALID, field, value, detail))

    def _validate_number(self, value: float, path: Path, errors: list[IstioCause]) -> None:
        if self.maximum is not None and (value > self.maximum or (self.exclusive_max and value == self.maximum)):
            field = path_string(path)
            op = "less than" if self.exclusive_max else "less than or equal to"
            detail = f"{field} in body should be {op} {go_value(self.maximum)}"
            errors.append(make_cause(INVALID, field, value, detail))
        if self.minimum is not None and (value < self.minimum or (self.exclusive_min and value == self.minimum)):
            field = path_string(path)
            op = "greater than" if self.exclusive_min else "greater than or equal to"
            detail = f"{field} in body should be {op} {go_value(self.minimum)}"
            errors.append(make_cause(INVALID, field, value, detail))
        if self.multiple_of and (value / self.multiple_of) % 1 != 0:
            field = path_string(path)
            detail = f"{field} in body should be a multiple of {go_value(self.multiple_of)}"
            errors.append(make_cause(INVALID, field, value, detail))

    def _validate_array(self, value: list[Any], path: Path, errors: list[IstioCause]) -> None:
        field = path_string(path)
        if self.max_items is not None and len(value) > self.max_items:
            errors.append(too_many(field, len(value), self.max_items))
        if self.min_items is not None and len(value) < self.min_items:
            detail = f"{field} in body should have at least {self.min_items} items"
            errors.append(make_cause(INVALID, field, len(value), detail))
        if self.unique_items and len({_freeze(v) for v in value}) != len(value):
            detail = f"{field} in body shouldn't contain duplicates"
            errors.append(make_cause(INVALID, field, value, detail))
        if self.items is not None:
            for i, item in enumerate(value):
                self.items.validate(item, (*path, i), errors)
        if self.list_type in ("set", "map"):
            self._validate_list_keys(value, path, errors)

    def _validate_list_keys(self, value: list[Any], path: Path, errors: list[IstioCause]) -> None:
        seen: set[Any] = set()
        for i, item in enumerate(value):
            if self.list_type == "map":
                if not isinstance(item, dict):
                    continue
                key: Any = tuple(_freeze(item.get(k)) for k in self.list_map_keys)
                shown: Any = {k: item[k] for k in self.list_map_keys if k in item}
            else:
                key, shown = _freeze(item), item
            if key in seen:
                errors.append(make_cause(DUPLICATE, path_string((*path, i)), shown))
            seen.add(key)

    def _validate_object(self, value: dict[str, Any], path: Path, errors: list[IstioCause]) -> None:
        for name in self.required:
            if name not in value:
                errors.append(make_cause(REQUIRED, path_string((*path, name))))
        field = path_string(path)
        if self.max_properties is not None and len(value) > self.max_properties:
            errors.append(too_many(field, len(value), self.max_properties))
        if self.min_properties is not None and len(value) < self.min_properties:
            detail = f"{field} in body should have at least {self.min_properties} properties"
            errors.append(make_cause(INVALID, field, len(value), detail))
        additional = self.additional if isinstance(self.additional, SchemaNode) else None
        for key, sub_value in value.items():
            sub = self.properties.get(key)
            if sub is not None:
                sub.validate(sub_value, (*path, key), errors)
            elif additional is not None:
                additional.validate(sub_value, (*path, key), errors)

    # ------------------------------------------------------------------ pruning

    def prune(self, value: Any, path: Path, unknown: list[str]) -> Any:
        """Return ``value`` without fields unknown to the schema (and without non-nullable nulls).

        Unknown field paths are appended to ``unknown``; ``value`` itself is not modified.
        """
        if isinstance(value, dict):
            if (
                not self.properties
                and not isinstance(self.additional, SchemaNode)
                and (self.preserve_unknown or self.type != "object")
            ):
                return value
            additional = self.additional if isinstance(self.additional, SchemaNode) else None
            out: dict[str, Any] = {}
            for key, sub_value in value.items():
                sub = self.properties.get(key) or additional
                if sub is None:
                    if self.preserve_unknown or self.additional is True:
                        out[key] = sub_value
                    else:
                        unknown.append(path_string((*path, key), map_keys_bracketed=True))
                    continue
                if sub_value is None and not sub.nullable and "default" not in sub.raw:
                    continue
                seg: Any = key if key in self.properties else (key,)
                out[key] = sub.prune(sub_value, (*path, seg), unknown)
            return out
        if isinstance(value, list) and self.items is not None:
            return [self.items.prune(item, (*path, i), unknown) for i, item in enumerate(value)]
        return value


def _compile_pattern(text: str | None) -> re.Pattern[str] | None:
    """Compile an ECMA/RE2-style pattern with Python's ``re``; an uncompilable pattern is ignored."""
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


def _in_enum(value: Any, allowed: list[Any]) -> bool:
    is_bool = isinstance(value, bool)
    return any(c == value and isinstance(c, bool) == is_bool for c in allowed)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def compile_schema(raw: dict[str, Any]) -> SchemaNode:
    """Compile a (description-free) OpenAPI v3 schema dict into a :class:`SchemaNode` tree."""
    return SchemaNode(raw)
