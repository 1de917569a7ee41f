"""``Table`` answers over HTTP, as ``kubectl get`` and ``kubectl get -w`` ask for them."""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client

TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def _call(api: client.ApiClient, path: str, query: list[tuple[str, Any]] | None = None) -> str:
    response = api.call_api(
        path,
        "GET",
        query_params=query or [],
        header_params={"Accept": TABLE},
        auth_settings=["BearerToken"],
        _preload_content=False,
    )[0]
    return str(response.data.decode())


def test_a_paginated_list_is_a_table_with_the_continue_token(api: client.ApiClient) -> None:
    page = json.loads(_call(api, "/api/v1/namespaces/bookinfo/pods", [("limit", 2)]))
    assert (page["kind"], page["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert page["metadata"]["continue"] and len(page["rows"]) == 2
    assert [c["name"] for c in page["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert page["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    whole = json.loads(_call(api, "/api/v1/namespaces/bookinfo/pods", [("includeObject", "Object")]))
    assert whole["rows"][0]["object"]["kind"] == "Pod" and whole["rows"][0]["object"]["spec"]["containers"]
    one = json.loads(_call(api, "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v2"))
    assert one["rows"][0]["cells"][:4] == ["reviews-v2", "1/1", 1, 1]


def test_a_watch_streams_one_row_tables(api: client.ApiClient) -> None:
    stream = _call(api, "/apis/networking.istio.io/v1/virtualservices", [("watch", "true"), ("timeoutSeconds", 1)])
    [event] = [json.loads(line) for line in stream.splitlines() if line]
    assert event["type"] == "ADDED"
    table = event["object"]
    assert table["kind"] == "Table" and [c["name"] for c in table["columnDefinitions"]][1:3] == ["Gateways", "Hosts"]
    assert table["rows"][0]["cells"][:3] == ["bookinfo", '["bookinfo-gateway"]', '["*"]']
    assert table["metadata"]["resourceVersion"]
