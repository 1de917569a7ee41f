"""The write API through the real kubernetes client against the simulator: create, update, delete, each refusal
with its stable code, and that a refused write leaves the cluster, the stored mirror and the history as they were
(but for the record of the attempt)."""

from __future__ import annotations

import json

from audit.models import AuditEvent
from inventory.models import IstioObject
from istio_config.models import ConfigChange
from tests.istio_config.writes_support import (
    REVIEWS_RULE,
    cluster_copy,
    create,
    editor,
    object_url,
    reviews_route,
    synced,
    update,
    user_with_role,
)

__all__ = ["editor", "synced"]  # fixtures


def stored_spec(name: str, kind: str = "VirtualService") -> dict | None:
    row = IstioObject.objects.filter(kind=kind, namespace="bookinfo", name=name).first()
    return row.spec if row is not None else None


def test_create_update_delete_round_trip(synced, editor, simulator):
    created = create(editor, REVIEWS_RULE)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["object"]["kind"] == "DestinationRule"
    assert body["change"]["action"] == "create" and body["change"]["result"] == "applied"
    assert body["change"]["actor"] == "erin"
    assert "+  host: reviews" in body["change"]["diff"]
    rule_version = body["object"]["metadata"]["resourceVersion"]
    assert cluster_copy(simulator, "destinationrules", "reviews")["metadata"]["resourceVersion"] == rule_version

    route = create(editor, reviews_route("v1")).json()
    version = route["object"]["metadata"]["resourceVersion"]
    updated = update(editor, "VirtualService", "reviews", reviews_route("v2"), version)
    assert updated.status_code == 200, updated.json()
    new_version = updated.json()["object"]["metadata"]["resourceVersion"]
    assert new_version != version
    assert "-        subset: v1\n+        subset: v2" in updated.json()["change"]["diff"]
    # The mirror follows what the cluster answered.
    assert stored_spec("reviews")["http"][0]["route"][0]["destination"]["subset"] == "v2"
    assert cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"][0]["destination"] == {
        "host": "reviews",
        "subset": "v2",
    }

    deleted = editor.delete(object_url("VirtualService", "reviews") + f"?resourceVersion={new_version}")
    assert deleted.status_code == 200, deleted.json()
    assert deleted.json()["change"]["action"] == "delete"
    assert cluster_copy(simulator, "virtualservices", "reviews") is None
    assert stored_spec("reviews") is None
    assert AuditEvent.objects.filter(action="delete", object_name="reviews", result="ok").exists()

    history = editor.get(object_url("VirtualService", "reviews", suffix="/history")).json()
    assert [c["action"] for c in history["changes"]] == ["delete", "update", "create"]


def test_invalid_yaml_names_the_line(synced, editor):
    answer = create(editor, "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: [oops\n")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid-yaml"
    assert body["details"][0]["line"] >= 4
    assert ConfigChange.objects.get(pk=body["changeId"]).result == "invalid-input"


def test_schema_invalid_spec_names_the_field_and_line(synced, editor, simulator):
    text = reviews_route("v1").replace("  hosts:\n  - reviews\n", "  hosts: reviews\n")
    answer = create(editor, text)
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "validation-failed"
    assert {k: body["details"][0][k] for k in ("path", "line")} == {"path": "spec.hosts", "line": 7}
    assert cluster_copy(simulator, "virtualservices", "reviews") is None


def test_semantic_error_blocks_the_write(synced, editor, simulator):
    answer = create(editor, reviews_route("v1").replace("host: reviews", "host: nowhere"))
    assert answer.status_code == 422
    codes = {(f["code"], f["severity"]) for f in answer.json()["details"]}
    assert ("KIA1101", "error") in codes
    assert all(f["line"] for f in answer.json()["details"])
    assert cluster_copy(simulator, "virtualservices", "reviews") is None


def test_warnings_block_until_accepted(synced, editor, simulator):
    refused = create(editor, reviews_route("v9"))
    assert refused.status_code == 422
    assert refused.json()["code"] == "warnings-not-accepted"
    assert {f["code"] for f in refused.json()["details"]} >= {"KIA1107"}
    assert cluster_copy(simulator, "virtualservices", "reviews") is None

    accepted = create(editor, reviews_route("v9"), accept_warnings=True)
    assert accepted.status_code == 201
    assert "KIA1107" in {w["code"] for w in accepted.json()["warnings"]}


def test_wrong_kind_missing_name_and_huge_body_are_invalid_objects(synced, editor):
    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  namespace: bookinfo\n"
    nameless = reviews_route().replace("  name: reviews\n", "")
    huge = reviews_route() + "  # " + "x" * (1024 * 1024) + "\n"
    for text, phrase in ((deployment, "not an Istio"), (nameless, "metadata.name"), (huge, "at most")):
        answer = create(editor, text)
        assert answer.status_code == 400, text[:80]
        assert answer.json()["code"] == "invalid-object"
        assert phrase in answer.json()["message"]
    assert not IstioObject.objects.filter(name="x").exists()


def test_a_name_other_than_the_urls_is_refused(synced, editor):
    create(editor, REVIEWS_RULE)
    version = create(editor, reviews_route()).json()["object"]["metadata"]["resourceVersion"]
    answer = update(editor, "VirtualService", "reviews", reviews_route(name="other"), version)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "metadata.name"


def test_viewers_and_editors_elsewhere_are_forbidden(synced, client, django_user_model, simulator):
    assert create(client, reviews_route()).status_code == 403  # alice views everything
    elsewhere = user_with_role(django_user_model, "otto", "editor", "default")
    answer = create(elsewhere, reviews_route())
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"
    assert cluster_copy(simulator, "virtualservices", "reviews") is None
    assert ConfigChange.objects.filter(result="forbidden").count() == 2


def test_stale_resource_version_is_a_conflict_with_diffs_and_rebase_works(synced, editor, django_user_model):
    create(editor, REVIEWS_RULE)
    start = create(editor, reviews_route("v1")).json()["object"]["metadata"]["resourceVersion"]
    other = user_with_role(django_user_model, "olga", "editor", "bookinfo")
    assert update(other, "VirtualService", "reviews", reviews_route("v2"), start).status_code == 200

    mine = reviews_route("v1").replace("        subset: v1\n", "        subset: v1\n      weight: 100\n")
    conflict = update(editor, "VirtualService", "reviews", mine, start)
    assert conflict.status_code == 409
    body = conflict.json()
    assert body["code"] == "conflict"
    assert "subset: v1" in body["base"] and "subset: v2" in body["theirs"] and "weight: 100" in body["mine"]
    assert "-        subset: v1\n+        subset: v2" in body["diffs"]["baseToTheirs"]
    assert "+      weight: 100" in body["diffs"]["baseToMine"]
    assert "subset: v2" in body["diffs"]["theirsToMine"]
    assert stored_spec("reviews")["http"][0]["route"][0]["destination"]["subset"] == "v2"

    rebased = update(editor, "VirtualService", "reviews", body["mine"], body["theirsResourceVersion"])
    assert rebased.status_code == 200
    assert stored_spec("reviews")["http"][0]["route"][0]["weight"] == 100


def test_delete_shows_dependents_and_needs_the_current_version(synced, editor):
    create(editor, REVIEWS_RULE)
    create(editor, reviews_route("v2"))
    dependents = editor.get(object_url("DestinationRule", "reviews", suffix="/dependents")).json()["dependents"]
    assert [(d["kind"], d["name"], d["path"]) for d in dependents] == [
        ("VirtualService", "reviews", "spec.http[0].route[0].destination.subset")
    ]
    stale = editor.delete(
        object_url("DestinationRule", "reviews"), json.dumps({"resourceVersion": "1"}), content_type="application/json"
    )
    assert stale.status_code == 409
    assert IstioObject.objects.filter(kind="DestinationRule", name="reviews").exists()


def test_openapi_schema_documents_the_write_endpoints_and_their_errors(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    item = schema["paths"]["/api/v1/istio-objects/{cluster}/{namespace}/{kind}/{name}"]
    assert {"get", "put", "delete"} <= set(item)
    assert {"200", "400", "403", "404", "409", "422", "502"} <= set(item["put"]["responses"])
    assert "post" in schema["paths"]["/api/v1/istio-objects"]
    for suffix in ("history", "rollback", "dependents"):
        assert f"/api/v1/istio-objects/{{cluster}}/{{namespace}}/{{kind}}/{{name}}/{suffix}" in schema["paths"]
    assert "theirsResourceVersion" in schema["components"]["schemas"]["WriteError"]["properties"]
