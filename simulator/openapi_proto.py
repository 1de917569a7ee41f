"""Protobuf encoding of the OpenAPI v2 document, the form ``kubectl`` asks ``/openapi/v2`` for.

``kubectl`` (client-go's discovery) requests ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and
decodes the answer as gnostic's ``openapi.v2.Document`` (github.com/google/gnostic, ``openapiv2/OpenAPIv2.proto``).
This module writes that message with a few lines of protobuf wire format instead of a generated library: only the
messages a Kubernetes document uses (document, info, paths and operations with query parameters, definitions and
schemas); vendor extensions (``x-kubernetes-*``) and literal values (``enum``, ``default``) go, as in gnostic, as
``Any`` messages holding YAML text. The field numbers below are those of ``OpenAPIv2.proto``.
"""

from __future__ import annotations

import struct
from typing import Any

import yaml

from simulator.resources import Obj

# Schema's scalar fields: JSON keyword -> (field number, kind).
_SCHEMA_SCALARS: dict[str, tuple[int, str]] = {
    "$ref": (1, "string"),
    "format": (2, "string"),
    "title": (3, "string"),
    "description": (4, "string"),
    "multipleOf": (6, "double"),
    "maximum": (7, "double"),
    "exclusiveMaximum": (8, "bool"),
    "minimum": (9, "double"),
    "exclusiveMinimum": (10, "bool"),
    "maxLength": (11, "int"),
    "minLength": (12, "int"),
    "pattern": (13, "string"),
    "maxItems": (14, "int"),
    "minItems": (15, "int"),
    "uniqueItems": (16, "bool"),
    "maxProperties": (17, "int"),
    "minProperties": (18, "int"),
    "discriminator": (26, "string"),
    "readOnly": (27, "bool"),
}


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s are ten bytes of two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _bytes(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _string(field: int, value: str) -> bytes:
    return _bytes(field, value.encode())


def _scalar(field: int, kind: str, value: Any) -> bytes:
    if kind == "string":
        return _string(field, str(value))
    if kind == "double":
        return _key(field, 1) + struct.pack("<d", float(value))
    if kind == "bool":
        return _key(field, 0) + _varint(1 if value else 0)
    return _key(field, 0) + _varint(int(value))


def _any(value: Any) -> bytes:
    """gnostic's ``Any``: the value as YAML text (field 2)."""
    return _string(2, yaml.safe_dump(value, default_flow_style=False, sort_keys=True))


def _named_any(field: int, name: str, value: Any) -> bytes:
    return _bytes(field, _string(1, name) + _bytes(2, _any(value)))


def _extensions(field: int, obj: Obj) -> bytes:
    return b"".join(_named_any(field, k, v) for k, v in obj.items() if k.startswith("x-"))


def encode_schema(schema: Obj) -> bytes:
    """One ``Schema`` message."""
    out = bytearray()
    for keyword, value in schema.items():
        if keyword in _SCHEMA_SCALARS:
            field, kind = _SCHEMA_SCALARS[keyword]
            out += _scalar(field, kind, value)
        elif keyword == "default":
            out += _bytes(5, _any(value))
        elif keyword == "required":
            out += b"".join(_string(19, str(name)) for name in value)
        elif keyword == "enum":
            out += b"".join(_bytes(20, _any(item)) for item in value)
        elif keyword == "additionalProperties":
            inner = _bytes(1, encode_schema(value)) if isinstance(value, dict) else _scalar(2, "bool", value)
            out += _bytes(21, inner)
        elif keyword == "type":
            types = value if isinstance(value, list) else [value]
            out += _bytes(22, b"".join(_string(1, str(t)) for t in types))
        elif keyword == "items":
            items = value if isinstance(value, list) else [value]
            out += _bytes(23, b"".join(_bytes(1, encode_schema(item)) for item in items))
        elif keyword == "allOf":
            out += b"".join(_bytes(24, encode_schema(item)) for item in value)
        elif keyword == "properties":
            named = (_bytes(1, _string(1, name) + _bytes(2, encode_schema(sub))) for name, sub in value.items())
            out += _bytes(25, b"".join(named))
        elif keyword == "example":
            out += _bytes(30, _any(value))
    out += _extensions(31, schema)
    return bytes(out)


def _parameter(parameter: Obj) -> bytes:
    """A query ``ParametersItem``: Parameter(2: NonBodyParameter(3: QueryParameterSubSchema))."""
    query = _string(2, "query") + _string(4, str(parameter["name"])) + _string(6, str(parameter.get("type", "string")))
    return _bytes(1, _bytes(2, _bytes(3, query)))


def _operation(operation: Obj) -> bytes:
    out = bytearray()
    if operation.get("operationId"):
        out += _string(5, operation["operationId"])
    out += b"".join(_string(7, media) for media in operation.get("consumes", ()))
    out += b"".join(_bytes(8, _parameter(p)) for p in operation.get("parameters", ()))
    responses = bytearray()
    for code, response in (operation.get("responses") or {}).items():
        body = _string(1, str(response.get("description", "")))
        if "schema" in response:
            body += _bytes(2, _bytes(1, encode_schema(response["schema"])))  # SchemaItem.schema
        responses += _bytes(1, _string(1, code) + _bytes(2, _bytes(1, body)))  # ResponseValue.response
    out += _bytes(9, bytes(responses))
    out += _extensions(13, operation)
    return bytes(out)


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def encode_document(document: Obj) -> bytes:
    """The ``openapi.v2.Document`` message of a Swagger 2.0 document (as :func:`simulator.openapi.v2_document`)."""
    out = bytearray(_string(1, document.get("swagger", "2.0")))
    info = document.get("info") or {}
    out += _bytes(2, _string(1, str(info.get("title", ""))) + _string(2, str(info.get("version", ""))))
    paths = bytearray()
    for path, item in document.get("paths", {}).items():
        body = b"".join(_bytes(_METHODS[m], _operation(op)) for m, op in item.items() if m in _METHODS)
        paths += _bytes(2, _string(1, path) + _bytes(2, body))
    out += _bytes(8, bytes(paths))
    definitions = (
        _bytes(1, _string(1, name) + _bytes(2, encode_schema(schema)))
        for name, schema in document.get("definitions", {}).items()
    )
    out += _bytes(9, b"".join(definitions))
    return bytes(out)
