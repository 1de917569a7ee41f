"""Fuzzing the API from its own OpenAPI schema with schemathesis, against a live server with real data.

The server holds the simulator's Bookinfo inventory (a real sync) and a graph snapshot read from its counters. Every
operation of the served schema gets schema-valid and schema-invalid requests, authenticated with an API token; no
answer may be a 5xx, and every answer must be documented (status code, content type, body schema). The run is
bounded and deterministic: Hypothesis derandomized, :data:`EXAMPLES` requests per operation and mode, the runs
split into :data:`SHARDS` tests.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from accounts.models import ApiToken
from tests.browser.conftest import bookinfo  # noqa: F401 - the fixture: Bookinfo synced, one snapshot stored

EXAMPLES = int(os.environ.get("MESH_UI_FUZZ_EXAMPLES", "20"))
#: The (operation, mode) runs are dealt round-robin to this many tests, so parallel workers share the fuzzing; every
#: shard reads the whole schema, and together they make every run.
SHARDS = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def fuzz_operation(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> list[str]:
    """Failures of ``EXAMPLES`` requests to one operation, as one line each (empty when all passed)."""
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:  # keep going: report every failing operation at once
            query = response.request.url.partition("?")[2]
            failures.append(f"{case.method} {case.path} -> {response.status_code}: {exc}\n    query: {query[:300]}")

    run()
    return failures


@pytest.mark.timeout(600)
@pytest.mark.usefixtures("bookinfo")
@pytest.mark.parametrize("shard", range(SHARDS))
def test_the_api_answers_fuzzed_requests_as_its_schema_says(live_server, alice, shard):
    _, token = ApiToken.issue(alice, "fuzzing")
    headers = {"Authorization": f"Bearer {token}"}
    served = requests.get(f"{live_server.url}/api/v1/schema", params={"format": "json"}, headers=headers, timeout=30)
    assert served.status_code == 200, served.text
    schema = schemathesis.openapi.from_dict(served.json())

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    runs = [
        (operation, mode) for operation in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    failures: list[str] = []
    for operation, mode in runs[shard::SHARDS]:
        failures.extend(fuzz_operation(operation, mode, live_server.url, headers))
    assert not failures, "\n".join(failures[:20])
