"""Unit tests of the pure parts behind kubectl support: the OpenAPI documents, their protobuf encoding, strategic
merge patches, field ownership and server-side apply, and the Table printers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.discovery import aggregated_discovery, aggregated_version
from simulator.errors import Conflict
from simulator.field_ownership import field_set, from_fields_v1, record_update, server_side_apply, to_fields_v1
from simulator.openapi import to_v2_schema, v2_document, v3_document, v3_index
from simulator.openapi_models import SchemaCursor, unknown_fields
from simulator.openapi_proto import encode_schema
from simulator.patches import strategic_merge_patch
from simulator.resources import RESOURCE_TYPES, ResourceType, resource_type
from simulator.tables import human_duration, table


def _served(group: str, plural: str) -> ResourceType:
    rt = resource_type(group, plural)
    assert rt is not None
    return rt


DEPLOYMENT = _served("apps", "deployments")
VIRTUAL_SERVICE = _served("networking.istio.io", "virtualservices")


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_every_served_group_version_has_a_v3_document_whose_refs_resolve() -> None:
    index = v3_index()["paths"]
    for rt in RESOURCE_TYPES:
        for version in rt.versions:
            key = f"apis/{rt.group}/{version}" if rt.group else f"api/{version}"
            assert index[key]["serverRelativeURL"].startswith(f"/openapi/v3/{key}?hash=")
            document = json.loads(v3_document(key))
            schemas = document["components"]["schemas"]
            assert {ref.rpartition("/")[2] for ref in _refs(document)} <= set(schemas)
            patches = [p["patch"] for p in document["paths"].values() if "patch" in p]
            mine = [p for p in patches if p["x-kubernetes-group-version-kind"]["kind"] == rt.kind]
            assert len(mine) == 1
            assert "fieldValidation" in {param["name"] for param in mine[0]["parameters"]}
            strategic = "application/strategic-merge-patch+json" in mine[0]["requestBody"]["content"]
            assert strategic == (rt.group in ("", "apps"))
    assert "apis/gateway.networking.k8s.io/v1" not in v3_index(frozenset({"gateway.networking.k8s.io"}))["paths"]


def test_the_v2_document_is_swagger_2_with_every_ref_defined() -> None:
    document = v2_document()
    assert {ref.rpartition("/")[2] for ref in _refs(document)} <= set(document["definitions"])
    vs = document["definitions"]["io.istio.networking.v1.VirtualService"]
    assert vs["x-kubernetes-group-version-kind"] == [
        {"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"}
    ]
    assert "oneOf" not in json.dumps(document) and "anyOf" not in json.dumps(document)
    assert to_v2_schema(
        {"type": "object", "nullable": True, "properties": {"a": {"oneOf": [{}], "type": "string"}}}
    ) == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
    }


def test_the_protobuf_schema_encoding_uses_gnostics_field_numbers() -> None:
    # Schema.type (22, key 178 as a two-byte varint) is a TypeItem whose value (1) is "string"; Schema.maxLength
    # (11) a varint.
    assert encode_schema({"type": "string"}) == bytes([0xB2, 0x01, 8, 1 << 3 | 2, 6]) + b"string"
    assert encode_schema({"maxLength": 300}) == bytes([11 << 3, 0xAC, 0x02])
    # Schema.$ref (1); vendor extensions (31) as NamedAny {name (1), Any {yaml (2)}}.
    assert encode_schema({"$ref": "#/x"}) == bytes([1 << 3 | 2, 3]) + b"#/x"
    encoded = encode_schema({"x-kubernetes-int-or-string": True})
    assert encoded.startswith(bytes([31 << 3 | 2])) and b"x-kubernetes-int-or-string" in encoded and b"true" in encoded


def test_strategic_merge_patch_merges_containers_by_name_and_follows_directives() -> None:
    schema = SchemaCursor.for_kind(DEPLOYMENT, "v1")
    current = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "image": "a:1",
                            "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
                        },
                        {"name": "b", "image": "b:1"},
                    ]
                }
            }
        }
    }
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                    "containers": [
                        {
                            "name": "a",
                            "image": "a:2",
                            "$setElementOrder/env": [{"name": "X"}],
                            "env": [{"name": "Y", "$patch": "delete"}],
                        }
                    ],
                }
            }
        }
    }
    merged = strategic_merge_patch(current, patch, schema)
    assert merged["spec"]["template"]["spec"]["containers"] == [
        {"name": "b", "image": "b:1"},
        {"name": "a", "image": "a:2", "env": [{"name": "X", "value": "1"}]},
    ]
    # A list without a merge key (args) is replaced; $patch: replace replaces a map; null deletes a key.
    replaced = strategic_merge_patch(
        {"spec": {"selector": {"matchLabels": {"a": "1"}}, "replicas": 2, "paused": True}},
        {"spec": {"selector": {"$patch": "replace", "matchLabels": {"b": "2"}}, "paused": None}},
        schema,
    )
    assert replaced == {"spec": {"selector": {"matchLabels": {"b": "2"}}, "replicas": 2}}
    assert strategic_merge_patch({"metadata": {"finalizers": ["a", "b"]}},
                                 {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, schema) == {
        "metadata": {"finalizers": ["b"]}
    }  # fmt: skip


def test_fields_v1_round_trip_and_map_list_keys() -> None:
    schema = SchemaCursor.for_kind(DEPLOYMENT, "v1")
    obj = {
        "apiVersion": "apps/v1",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
        "status": {"replicas": 1},
    }
    fields = field_set(obj, schema)
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}', "f:image") in fields
    assert ("f:metadata", "f:labels", "f:app") in fields
    assert not any(path[0] in ("f:status", "f:apiVersion") or path[:2] == ("f:metadata", "f:name") for path in fields)
    assert from_fields_v1(to_fields_v1(fields)) == fields
    assert to_fields_v1({("f:a",), ("f:a", "f:b")}) == {"f:a": {".": {}, "f:b": {}}}


def _vs(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "r"}, "spec": spec}


def test_server_side_apply_conflicts_forces_and_removes_what_the_applier_dropped() -> None:
    schema = SchemaCursor.for_kind(VIRTUAL_SERVICE, "v1")
    created = server_side_apply({}, _vs(hosts=["r"], gateways=["g"]), "ci", False, schema)
    [entry] = created["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("ci", "Apply")
    assert entry["fieldsV1"] == {"f:spec": {"f:gateways": {}, "f:hosts": {}}}

    edited = json.loads(json.dumps(created))
    edited["spec"]["hosts"] = ["other"]
    record_update(created, edited, "kubectl-edit", schema)
    assert {e["manager"] for e in edited["metadata"]["managedFields"]} == {"ci", "kubectl-edit"}

    # Same value: shared, no conflict. A different value: a conflict naming the other manager and the field.
    server_side_apply(edited, _vs(hosts=["other"], gateways=["g"]), "ci", False, schema)
    with pytest.raises(Conflict) as caught:
        server_side_apply(edited, _vs(hosts=["r"], gateways=["g"]), "ci", False, schema)
    assert caught.value.message == 'Apply failed with 1 conflict: conflict with "kubectl-edit": .spec.hosts'
    assert caught.value.code == 409

    forced = server_side_apply(edited, _vs(hosts=["r"]), "ci", True, schema)
    assert forced["spec"] == {"hosts": ["r"]}  # gateways: dropped by its only owner
    assert [e["manager"] for e in forced["metadata"]["managedFields"]] == ["ci"]


def test_unknown_fields_are_found_against_the_schema() -> None:
    schema = SchemaCursor.for_kind(VIRTUAL_SERVICE, "v1")
    vs = _vs(hosts=["r"], htpp=[], http=[{"route": [{"destination": {"host": "r", "subsett": "v1"}}]}])
    vs["metadata"]["labelz"] = {}
    assert unknown_fields(vs, schema) == ["metadata.labelz", "spec.htpp", "spec.http[0].route[0].destination.subsett"]
    pod = _served("", "pods")
    assert unknown_fields({"spec": {"containers": [{"name": "a", "imag": "x"}]}}, SchemaCursor.for_kind(pod, "v1")) == [
        "spec.containers[0].imag"
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (119, "119s"), (183, "3m3s"), (600, "10m"), (3 * 3600 + 720, "3h12m"), (9 * 3600, "9h"),
     (2 * 86400 + 5 * 3600, "2d5h"), (40 * 86400, "40d"), (3 * 365 * 86400, "3y")],
)  # fmt: skip
def test_ages_print_like_kubernetes(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_tables_print_crd_columns_and_pod_readiness() -> None:
    created = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    vs = _vs(hosts=["*"], gateways=["bookinfo-gateway"])
    vs["metadata"]["creationTimestamp"] = created
    answer = table(VIRTUAL_SERVICE, "v1", [vs], {"resourceVersion": "7"})
    assert [c["name"] for c in answer["columnDefinitions"]] == ["Name", "Gateways", "Hosts", "Age"]
    assert answer["rows"][0]["cells"][:3] == ["r", '["bookinfo-gateway"]', '["*"]']
    assert answer["rows"][0]["cells"][3] in ("5m", "5m1s")
    assert answer["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    pod_type = _served("", "pods")
    pod = {
        "metadata": {"name": "p", "creationTimestamp": created},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"ready": True, "restartCount": 2},
                {"ready": False, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            ],
        },
    }
    row = table(pod_type, "v1", [pod], {}, include_object="None")["rows"][0]
    assert "object" not in row
    assert row["cells"][:4] == ["p", "1/2", "CrashLoopBackOff", 3]
    assert row["cells"][4] in ("5m", "5m1s")
    assert row["cells"][5:] == ["<none>"] * 4


def test_a_write_that_changes_nothing_leaves_managed_fields_as_they_were() -> None:
    schema = SchemaCursor.for_kind(VIRTUAL_SERVICE, "v1")
    applied = server_side_apply({}, _vs(hosts=["r"]), "ci", False, schema)
    applied["metadata"]["managedFields"][0]["time"] = "2020-01-01T00:00:00Z"
    again = server_side_apply(json.loads(json.dumps(applied)), _vs(hosts=["r"]), "ci", False, schema)
    assert again == applied
    replaced = json.loads(json.dumps(applied))
    del replaced["metadata"]["managedFields"]  # kubectl get -o yaml hides them: a replace sends none
    record_update(applied, replaced, "ci", schema)
    assert replaced["metadata"]["managedFields"][0]["time"] == "2020-01-01T00:00:00Z"
    replaced["spec"]["hosts"] = ["x"]
    record_update(applied, replaced, "kubectl-edit", schema)
    assert {e["manager"]: e["time"] != "2020-01-01T00:00:00Z" for e in replaced["metadata"]["managedFields"]} == {
        "kubectl-edit": True
    }


def test_aggregated_discovery_lists_every_group_in_one_answer() -> None:
    kubectl_accept = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
    )
    assert aggregated_version(kubectl_accept) == "v2"
    assert aggregated_version("application/json, */*") is None
    assert aggregated_version("") is None
    document = aggregated_discovery("/apis", "v2")
    assert document["apiVersion"] == "apidiscovery.k8s.io/v2"
    groups = {item["metadata"]["name"]: item for item in document["items"]}
    assert "" not in groups
    assert [v["version"] for v in groups["networking.istio.io"]["versions"]] == ["v1", "v1beta1", "v1alpha3"]
    [apps] = groups["apps"]["versions"]
    deployments = next(r for r in apps["resources"] if r["resource"] == "deployments")
    assert deployments["categories"] == ["all"] and deployments["shortNames"] == ["deploy"]
    assert {s["subresource"]: s["responseKind"]["kind"] for s in deployments["subresources"]} == {
        "status": "Deployment",
        "scale": "Scale",
    }
    [core] = aggregated_discovery("/api", "v2")["items"]
    assert core["metadata"]["name"] == "" and core["versions"][0]["version"] == "v1"
    hidden = aggregated_discovery("/apis", "v2", frozenset({"gateway.networking.k8s.io"}))
    assert "gateway.networking.k8s.io" not in {item["metadata"]["name"] for item in hidden["items"]}


def test_a_write_that_sets_managed_fields_keeps_them() -> None:
    schema = SchemaCursor.for_kind(VIRTUAL_SERVICE, "v1")
    stored = server_side_apply({}, _vs(hosts=["r"]), "kubectl-client-side-apply", False, schema)
    migrated = json.loads(json.dumps(stored))
    migrated["metadata"]["managedFields"][0]["manager"] = "kubectl"
    record_update(stored, migrated, "kubectl", schema)
    assert [e["manager"] for e in migrated["metadata"]["managedFields"]] == ["kubectl"]
    unaware = json.loads(json.dumps(stored))
    unaware["metadata"]["managedFields"] = []  # ignored: ownership is kept and recorded as usual
    record_update(stored, unaware, "kubectl-edit", schema)
    assert [e["manager"] for e in unaware["metadata"]["managedFields"]] == ["kubectl-client-side-apply"]
    cleared = json.loads(json.dumps(stored))
    cleared["metadata"]["managedFields"] = [{}]
    record_update(stored, cleared, "kubectl-edit", schema)
    assert "managedFields" not in cleared["metadata"]
