"""The OpenAPI schema: valid, complete (every API route), with real response schemas and the error answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from mesh_ui import api_urls

#: Routes that are HTML pages about the API rather than endpoints of it.
DOCUMENTATION_PAGES = {"swagger-ui", "redoc"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> dict[str, Any]:
    """The schema as ``manage.py spectacular --validate --fail-on-warn`` writes it (any warning fails here)."""
    path: Path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def openapi_path(route: str) -> str:
    return "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_api_route_is_in_the_schema(schema):
    routes = {p.name: openapi_path(str(p.pattern)) for p in api_urls.urlpatterns if p.name not in DOCUMENTATION_PAGES}
    missing = {name: path for name, path in routes.items() if path not in schema["paths"]}
    assert not missing
    assert len(schema["paths"]) == len(routes)


def walk(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema object under ``node`` with where it is."""
    found = []
    if isinstance(node, dict):
        found.append((where, node))
        for key, value in node.items():
            found.extend(walk(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(walk(value, f"{where}/{index}"))
    return found


def test_no_response_is_a_bare_object(schema):
    bare = [
        where
        for where, node in walk({"paths": schema["paths"], "components": schema["components"]})
        if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node
    ]
    assert not bare


ERROR_SCHEMAS = ({"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/WriteError"})


def test_every_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                assert "400" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            for code in codes - {"200", "201", "202"}:
                content = operation["responses"][code]["content"]["application/json"]
                # Writes of Istio objects answer the same code/message/details with their details per field or
                # finding (a list with lines) and, on a conflict, the three versions: WriteError.
                assert content["schema"] in ERROR_SCHEMAS, (method, path, code)
    write_error = schema["components"]["schemas"]["WriteError"]
    assert {"code", "message", "details"} <= set(write_error["required"])


def test_query_parameters_carry_their_bounds(schema):
    services = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/services"]["get"]["parameters"]}
    assert services["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    metrics = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/metrics"]["get"]["parameters"]}
    assert metrics["points"]["maximum"] == 1000 and metrics["namespace"]["maxLength"] == 63


def test_tokens_are_documented_as_bearer_auth(schema):
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert {"bearerToken": []} in schema["paths"]["/api/v1/services"]["get"]["security"]
