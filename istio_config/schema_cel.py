"""Evaluation of CRD ``x-kubernetes-validations`` CEL rules with cel-python (``celpy``).

Rules are compiled once per rule text and cached.  Each rule is evaluated at the schema node
where it is declared, with ``self`` bound to that node's value converted to CEL types according
to the schema (``integer`` -> int, ``number`` -> double, ...), as the API server does.  The
Kubernetes CEL extension functions used by Istio's CRDs that cel-python lacks (``substring``,
``url``/``isURL``/``getScheme``, Go-syntax ``duration``, a few string helpers) are provided here.
Transition rules (those using ``oldSelf``) are skipped; rules that fail to compile are skipped
and recorded (see :func:`unsupported_rules`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import celpy
from celpy import celtypes

from istio_config.schema_errors import (
    DUPLICATE,
    FORBIDDEN,
    INVALID,
    REQUIRED,
    IstioCause,
    Path,
    make_cause,
    path_string,
)
from istio_config.schema_nodes import SchemaNode

_GO_DURATION = re.compile(r"^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


class CelFunctionError(ValueError):
    """Raised by the extension functions; surfaces as a rule evaluation error."""


def _duration(value: Any) -> Any:
    """``duration(string)`` with Go ``time.ParseDuration`` syntax and error texts (no ``d`` unit)."""
    if isinstance(value, timedelta):
        return celtypes.DurationType(value)
    text = str(value)
    if text in ("0", "+0", "-0"):
        return celtypes.DurationType(timedelta(0))
    if not _GO_DURATION.match(text):
        unit = re.search(r"\d([^\d.]+)", text)
        if unit and re.fullmatch(r"[-+]?(?:[\d.]+[^\d.]+)+", text):
            raise CelFunctionError(f'time: unknown unit "{unit.group(1)}" in duration "{text}"')
        if re.fullmatch(r"[-+]?[\d.]+", text):
            raise CelFunctionError(f'time: missing unit in duration "{text}"')
        raise CelFunctionError(f'time: invalid duration "{text}"')
    seconds = sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _GO_DURATION_PART.findall(text))
    if text.startswith("-"):
        seconds = -seconds
    return celtypes.DurationType(timedelta(seconds=seconds))


def _is_url(value: Any) -> bool:
    text = str(value)
    if not text or any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        return False
    if text.startswith("/"):
        return True
    scheme, sep, _rest = text.partition(":")
    return bool(sep) and bool(_URL_SCHEME.match(scheme))


def _url(value: Any) -> Any:
    if not _is_url(value):
        raise CelFunctionError(f"URL parse error during conversion from string: {value}")
    return celtypes.StringType(str(value))


def _get_scheme(value: Any) -> Any:
    return celtypes.StringType(urlsplit(str(value)).scheme)


def _get_host(value: Any) -> Any:
    return celtypes.StringType(urlsplit(str(value)).netloc)


def _substring(text: Any, start: Any, end: Any = None) -> Any:
    s = str(text)
    lo = int(start)
    hi = len(s) if end is None else int(end)
    if lo < 0 or hi > len(s) or lo > hi:
        raise CelFunctionError(f"index out of range: {lo if lo < 0 or lo > len(s) else hi}")
    return celtypes.StringType(s[lo:hi])


def _index_of(text: Any, sub: Any) -> Any:
    return celtypes.IntType(str(text).find(str(sub)))


def _last_index_of(text: Any, sub: Any) -> Any:
    return celtypes.IntType(str(text).rfind(str(sub)))


def _split(text: Any, sep: Any) -> Any:
    return celtypes.ListType([celtypes.StringType(p) for p in str(text).split(str(sep))])


EXTENSION_FUNCTIONS: dict[str, Any] = {
    "duration": _duration,
    "url": _url,
    "isURL": lambda v: celtypes.BoolType(_is_url(v)),
    "getScheme": _get_scheme,
    "getHost": _get_host,
    "substring": _substring,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda v: celtypes.StringType(str(v).lower()),
    "upperAscii": lambda v: celtypes.StringType(str(v).upper()),
    "trim": lambda v: celtypes.StringType(str(v).strip()),
    "split": _split,
}


@dataclass(frozen=True)
class CompiledRule:
    """A rule compiled to a cel-python program (``program`` is None when it was skipped)."""

    rule: str
    program: Any
    skip_reason: str | None = None


_CACHE: dict[str, CompiledRule] = {}
_UNSUPPORTED: dict[str, str] = {}
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _environment() -> celpy.Environment:
    """The shared CEL environment (built lazily: building the parser takes ~0.1 s)."""
    return celpy.Environment()


def compile_rule(rule: str) -> CompiledRule:
    """Compile (once) and return the program for one CEL expression."""
    cached = _CACHE.get(rule)
    if cached is not None:
        return cached
    with _LOCK:
        if re.search(r"\b(oldSelf|optionalOldSelf)\b", rule):
            compiled = CompiledRule(rule, None, "transition rule (uses oldSelf): skipped")
        else:
            try:
                env = _environment()
                program = env.program(env.compile(rule), functions=EXTENSION_FUNCTIONS)
                compiled = CompiledRule(rule, program)
            except Exception as exc:  # any compiler failure means "unsupported"
                compiled = CompiledRule(rule, None, f"does not compile: {exc}")
        if compiled.skip_reason:
            _UNSUPPORTED[rule] = compiled.skip_reason
        _CACHE[rule] = compiled
    return compiled


def unsupported_rules() -> dict[str, str]:
    """Rules seen so far that are not evaluated, mapped to the reason."""
    return dict(_UNSUPPORTED)


def to_cel(node: SchemaNode | None, value: Any) -> Any:
    """Convert a JSON value to CEL types following its schema."""
    if value is None:
        return None
    if node is None or (node.preserve_unknown and not node.properties):
        return celpy.json_to_cel(value)
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, int | float):
        if node.type == "number":
            return celtypes.DoubleType(float(value))
        if node.type == "integer" or node.int_or_string:
            return celtypes.IntType(int(value))
        return celpy.json_to_cel(value)
    if isinstance(value, list):
        return celtypes.ListType([to_cel(node.items, v) for v in value])
    if isinstance(value, dict):
        additional = node.additional if isinstance(node.additional, SchemaNode) else None
        return celtypes.MapType(
            {celtypes.StringType(k): to_cel(node.properties.get(k) or additional, v) for k, v in value.items()}
        )
    return celpy.json_to_cel(value)


def _rule_error_string(rule: dict[str, Any]) -> str:
    return str(rule.get("message") or rule.get("rule", "")).strip()


def _type_label(node: SchemaNode) -> str:
    return node.type or ""


def _error_text(exc: Exception) -> str:
    """Best human-readable text of a cel-python evaluation error.

    cel-python wraps Python exceptions raised inside functions as ``(label, exc_type, exc_args)``;
    the original message (e.g. from :class:`CelFunctionError`) is the most useful part.
    """
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 3:
        inner = args[2]
        if isinstance(inner, tuple) and inner and isinstance(inner[0], str):
            return inner[0]
    return str(args[0]) if args else str(exc)


def _relative_path(path: Path, field_path: str) -> Path:
    extra = [seg for seg in re.split(r"\.|\['|'\]", field_path) if seg]
    return (*path, *extra)


def _failure_cause(node: SchemaNode, rule: dict[str, Any], path: Path, activation: dict[str, Any]) -> IstioCause:
    message = str(rule.get("message") or "").strip()
    expression = rule.get("messageExpression")
    if expression:
        compiled = compile_rule(str(expression))
        if compiled.program is not None:
            try:
                result = compiled.program.evaluate(activation)
                if isinstance(result, str) and result.strip():
                    message = str(result).strip()
            except Exception:  # fall back to the static message
                pass
    if not message:
        message = f"failed rule: {str(rule.get('rule', '')).strip()}"
    target = _relative_path(path, str(rule["fieldPath"])) if rule.get("fieldPath") else path
    field = path_string(target, map_keys_bracketed=True)
    reason = str(rule.get("reason") or INVALID)
    if reason in (REQUIRED, FORBIDDEN):
        return make_cause(reason, field, detail=message)
    if reason == DUPLICATE:
        return make_cause(DUPLICATE, field, _type_label(node), message)
    return make_cause(INVALID, field, _type_label(node), message)


def evaluate_rules(node: SchemaNode, value: Any, path: Path, errors: list[IstioCause]) -> None:
    """Evaluate every CEL rule under ``node`` against ``value``, appending failures to ``errors``."""
    if value is None or not node.subtree_rules:
        return
    if node.rules:
        activation = {"self": to_cel(node, value)}
        for rule in node.rules:
            compiled = compile_rule(str(rule.get("rule", "")))
            if compiled.program is None:
                continue
            try:
                result = compiled.program.evaluate(activation)
            except Exception as exc:  # runtime errors become causes, never crashes
                detail = f"{_error_text(exc)} evaluating rule: {_rule_error_string(rule)}"
                errors.append(make_cause(INVALID, path_string(path, True), _type_label(node), detail))
                continue
            if isinstance(result, Exception):
                detail = f"{_error_text(result)} evaluating rule: {_rule_error_string(rule)}"
                errors.append(make_cause(INVALID, path_string(path, True), _type_label(node), detail))
            elif result is not True and not (isinstance(result, celtypes.BoolType) and bool(result)):
                errors.append(_failure_cause(node, rule, path, activation))
    if isinstance(value, dict):
        additional = node.additional if isinstance(node.additional, SchemaNode) else None
        for key, sub_value in value.items():
            sub = node.properties.get(key)
            if sub is not None:
                evaluate_rules(sub, sub_value, (*path, key), errors)
            elif additional is not None:
                evaluate_rules(additional, sub_value, (*path, (key,)), errors)
    elif isinstance(value, list) and node.items is not None:
        for i, item in enumerate(value):
            evaluate_rules(node.items, item, (*path, i), errors)
