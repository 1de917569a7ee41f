"""The routing wizards' pages through the real kubernetes client against the simulator: preview (YAML, diff,
findings), apply through the write service, hand-written routing that is refused or replaced only when confirmed,
conflicts, input edited after the preview, "Remove routing" deleting only what wizards wrote, and readers refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import RoleGrant, UserPreference
from inventory.models import IstioObject
from istio_config.models import ConfigChange
from istio_config.wizards.generate import build_wizard_objects
from istio_config.wizards.inputs import (
    WIZARD_LABEL,
    FaultInjection,
    Match,
    Mirroring,
    RequestRouting,
    RouteRule,
    TimeoutsRetries,
    TrafficShifting,
)
from tests.istio_config.writes_support import (
    REVIEWS_RULE,
    cluster_copy,
    create,
    custom_api,
    editor,
    reviews_route,
    synced,
    user_with_role,
)

__all__ = ["editor", "synced"]  # fixtures

JASON_FORM = {
    "rule0_field": "header",
    "rule0_name": "end-user",
    "rule0_kind": "exact",
    "rule0_value": "jason",
    "rule0_subset": "v2",
    "default_subset": "v1",
}


def wizard_url(wizard: str, service: str = "reviews") -> str:
    return f"/namespaces/bookinfo/services/{service}/wizards/{wizard}/?cluster=sim"


REMOVE_URL = "/namespaces/bookinfo/services/reviews/routing/remove/?cluster=sim"


def preview(client: Any, wizard: str, form: dict[str, str], service: str = "reviews") -> Any:
    response = client.post(wizard_url(wizard, service), {**form, "step": "preview"})
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def apply(
    client: Any, wizard: str, form: dict[str, str], previewed: Any, service: str = "reviews", **extra: str
) -> Any:
    plan = previewed.context["plan"]
    body = {**form, "step": "apply", "digest": plan.digest, "versions": json.dumps(plan.versions), **extra}
    return client.post(wizard_url(wizard, service), body)


def labels_of(simulator: Any, plural: str, name: str = "reviews") -> dict[str, str]:
    found = cluster_copy(simulator, plural, name)
    assert found is not None, f"{plural}/{name} is not in the cluster"
    return found["metadata"].get("labels") or {}


def test_request_routing_preview_shows_yaml_diff_and_no_finding_then_applies(synced, editor, simulator):
    previewed = preview(editor, "request-routing", JASON_FORM)
    html = previewed.content.decode()
    plan = previewed.context["plan"]
    assert [(w.ref.kind, w.ref.name, w.action) for w in plan.writes] == [
        ("DestinationRule", "reviews", "create"),
        ("VirtualService", "reviews", "create"),
    ]
    assert all(w.findings == [] for w in plan.writes)
    assert html.count("data-write-clean") == 2
    assert '<span class="diff-add">+          exact: jason</span>' in html
    assert f"{WIZARD_LABEL}: request-routing" in html
    whatif = json.loads(html.split('id="wizard-whatif" type="application/json">')[1].split("</script>")[0])
    assert whatif == {"cluster": "sim", "namespace": "bookinfo", "objects": plan.documents, "source": "wizard"}
    assert cluster_copy(simulator, "virtualservices", "reviews") is None, "a preview writes nothing"

    applied = apply(editor, "request-routing", JASON_FORM, previewed)
    assert applied.status_code == 302
    assert applied["Location"] == "/namespaces/bookinfo/services/reviews/?cluster=sim"
    route = cluster_copy(simulator, "virtualservices", "reviews")
    assert route["spec"]["http"] == [
        {
            "match": [{"headers": {"end-user": {"exact": "jason"}}}],
            "route": [{"destination": {"host": "reviews", "subset": "v2"}}],
        },
        {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
    ]
    assert labels_of(simulator, "destinationrules") == {WIZARD_LABEL: "request-routing"}
    rule = cluster_copy(simulator, "destinationrules", "reviews")
    assert [s["name"] for s in rule["spec"]["subsets"]] == ["v1", "v2", "v3"]
    history = ConfigChange.objects.filter(result="applied").order_by("pk")
    assert [(c.kind, c.action, c.actor_name) for c in history] == [
        ("DestinationRule", "create", "erin"),
        ("VirtualService", "create", "erin"),
    ]
    page = editor.get(applied["Location"]).content.decode()
    assert "Request routing applied to reviews" in page
    assert 'data-istio="VirtualService/reviews"' in page and 'data-istio="DestinationRule/reviews"' in page
    assert IstioObject.objects.get(kind="VirtualService", name="reviews").labels == {WIZARD_LABEL: "request-routing"}


def test_a_second_wizard_replaces_the_first_ones_objects_and_shows_the_diff(synced, editor, simulator):
    assert (
        apply(editor, "request-routing", JASON_FORM, preview(editor, "request-routing", JASON_FORM)).status_code == 302
    )
    shift = {"weight_v1": "50", "weight_v2": "0", "weight_v3": "50", "protocol": "http"}
    previewed = preview(editor, "traffic-shifting", shift)
    plan = previewed.context["plan"]
    assert [w.action for w in plan.writes] == ["update", "update"]
    html = previewed.content.decode()
    assert f'<span class="diff-del">-    {WIZARD_LABEL}: request-routing</span>' in html
    assert "replaces the hand-written" not in html  # an earlier wizard's objects need no confirmation
    assert apply(editor, "traffic-shifting", shift, previewed).status_code == 302
    route = cluster_copy(simulator, "virtualservices", "reviews")
    assert route["spec"]["http"] == [
        {
            "route": [
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                {"destination": {"host": "reviews", "subset": "v3"}, "weight": 50},
            ]
        }
    ]
    assert labels_of(simulator, "virtualservices") == {WIZARD_LABEL: "traffic-shifting"}


def test_weights_that_do_not_sum_to_100_are_refused_with_nothing_written(synced, editor, simulator):
    response = editor.post(
        wizard_url("traffic-shifting"), {"weight_v1": "50", "weight_v2": "40", "weight_v3": "0", "step": "apply"}
    )
    assert response.status_code == 200
    assert "the weights sum to 90, not 100" in response.content.decode()
    assert response.context["plan"] is None
    assert cluster_copy(simulator, "destinationrules", "reviews") is None
    assert not ConfigChange.objects.exists()


def test_hand_written_routing_is_shown_and_replaced_only_when_confirmed(synced, editor, simulator):
    assert create(editor, REVIEWS_RULE).status_code == 201
    assert create(editor, reviews_route("v1")).status_code == 201
    hand_version = cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["resourceVersion"]

    page = editor.get(wizard_url("request-routing")).content.decode()
    assert 'data-routing="VirtualService/reviews" data-written-by=""' in page
    assert "data-replaces-hand-written" in page

    previewed = preview(editor, "request-routing", JASON_FORM)
    assert "data-confirm-replace" in previewed.content.decode()
    refused = apply(editor, "request-routing", JASON_FORM, previewed)
    assert refused.status_code == 409
    assert "was written by hand" in refused.content.decode()
    assert cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["resourceVersion"] == hand_version

    replaced = apply(editor, "request-routing", JASON_FORM, previewed, confirm_replace="on")
    assert replaced.status_code == 302
    assert labels_of(simulator, "virtualservices") == {WIZARD_LABEL: "request-routing"}
    # The hand-written rule's subsets (v1, v2) are kept, and the missing version added.
    subsets = cluster_copy(simulator, "destinationrules", "reviews")["spec"]["subsets"]
    assert [s["name"] for s in subsets] == ["v1", "v2", "v3"]


def test_two_hand_written_routes_make_the_wizard_refuse(synced, editor, simulator):
    assert create(editor, REVIEWS_RULE).status_code == 201
    assert create(editor, reviews_route("v1")).status_code == 201
    assert create(editor, reviews_route("v2", name="reviews-canary"), accept_warnings=True).status_code == 201
    previewed = preview(editor, "request-routing", JASON_FORM)
    html = previewed.content.decode()
    assert "2 hand-written VirtualServices route reviews (reviews, reviews-canary)" in html
    assert "data-wizard-apply disabled" in html
    refused = apply(editor, "request-routing", JASON_FORM, previewed, confirm_replace="on")
    assert refused.status_code == 409
    assert labels_of(simulator, "virtualservices") == {}


def test_a_change_in_the_cluster_after_the_preview_is_a_conflict_with_its_diff(synced, editor, simulator):
    assert (
        apply(editor, "request-routing", JASON_FORM, preview(editor, "request-routing", JASON_FORM)).status_code == 302
    )
    shift = {"weight_v1": "0", "weight_v2": "0", "weight_v3": "100", "protocol": "http"}
    previewed = preview(editor, "traffic-shifting", shift)
    custom_api(simulator).patch_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "destinationrules", "reviews", {"metadata": {"labels": {"x": "y"}}}
    )
    answer = apply(editor, "traffic-shifting", shift, previewed)
    assert answer.status_code == 409
    html = answer.content.decode()
    assert 'data-write-error="conflict"' in html and "data-conflict-diff" in html
    assert labels_of(simulator, "destinationrules") == {WIZARD_LABEL: "request-routing", "x": "y"}
    assert labels_of(simulator, "virtualservices") == {WIZARD_LABEL: "request-routing"}  # stopped at the first


def test_input_edited_after_the_preview_is_not_applied(synced, editor, simulator):
    previewed = preview(editor, "request-routing", JASON_FORM)
    edited = {**JASON_FORM, "rule0_subset": "v3"}
    answer = apply(editor, "request-routing", edited, previewed)
    assert answer.status_code == 409
    assert "the input changed since the preview" in answer.content.decode()
    assert cluster_copy(simulator, "virtualservices", "reviews") is None


def test_remove_routing_deletes_only_what_wizards_wrote(synced, editor, simulator):
    assert create(editor, REVIEWS_RULE).status_code == 201
    assert create(editor, reviews_route("v1")).status_code == 201
    breaker = {"max_connections": "1", "consecutive_5xx_errors": "1", "interval": "1s"}
    previewed = preview(editor, "circuit-breaking", breaker)
    assert [w.ref.kind for w in previewed.context["plan"].writes] == ["DestinationRule"]
    assert apply(editor, "circuit-breaking", breaker, previewed, confirm_replace="on").status_code == 302
    assert labels_of(simulator, "destinationrules") == {WIZARD_LABEL: "circuit-breaking"}

    page = editor.get(REMOVE_URL)
    assert [w["write"].key for w in page.context["writes"]] == ["DestinationRule/reviews"]
    # The hand-written route names subset v1, which only the wizard's rule defines: the page says so before.
    assert [(f.code, f.kind, f.path) for f in page.context["after_removal"]] == [
        ("KIA1107", "VirtualService", "spec.http[0].route[0].destination.subset")
    ]
    assert "data-after-removal" in page.content.decode()
    removed = editor.post(REMOVE_URL, {"versions": page.context["versions"]})
    assert removed.status_code == 302
    assert cluster_copy(simulator, "destinationrules", "reviews") is None
    assert cluster_copy(simulator, "virtualservices", "reviews") is not None, "the hand-written route stays"
    assert "nothing to remove" in editor.get(REMOVE_URL).content.decode()


def test_remove_routing_with_a_stale_page_deletes_nothing(synced, editor, simulator):
    assert (
        apply(editor, "request-routing", JASON_FORM, preview(editor, "request-routing", JASON_FORM)).status_code == 302
    )
    answer = editor.post(REMOVE_URL, {"versions": json.dumps({"VirtualService/reviews": "1"})})
    assert answer.status_code == 409
    assert cluster_copy(simulator, "virtualservices", "reviews") is not None


def test_readers_cannot_open_or_submit_a_wizard(synced, django_user_model, simulator):
    reader = user_with_role(django_user_model, "rita", "viewer", "bookinfo")
    assert reader.get(wizard_url("request-routing")).status_code == 403
    assert reader.post(wizard_url("request-routing"), {**JASON_FORM, "step": "apply"}).status_code == 403
    assert reader.post(REMOVE_URL, {"versions": "{}"}).status_code == 403
    assert "/wizards/" not in reader.get("/namespaces/bookinfo/services/reviews/?cluster=sim").content.decode()
    assert cluster_copy(simulator, "virtualservices", "reviews") is None


def test_unknown_wizard_is_not_found(synced, editor):
    assert editor.get(wizard_url("teleport")).status_code == 404
    assert editor.get(wizard_url("mirroring", service="nope")).status_code == 404


def test_a_service_without_versions_says_why_it_has_no_subsets(synced, editor, simulator):
    from inventory.models import Workload

    Workload.objects.filter(namespace="bookinfo", app="details").update(version="")
    page = editor.get(wizard_url("traffic-shifting", service="details")).content.decode()
    assert "data-no-subsets" in page
    answer = editor.post(wizard_url("request-routing", service="details"), {"default_subset": "", "step": "preview"})
    assert "This field is required." in answer.content.decode() and answer.context["plan"] is None


@pytest.mark.parametrize(
    ("wizard", "form", "expected"),
    [
        (
            "timeouts-retries",
            {"timeout": "10s", "attempts": "3", "per_try_timeout": "2s", "retry_on": "5xx,reset", "route_subset": ""},
            TimeoutsRetries(timeout="10s", attempts=3, per_try_timeout="2s", retry_on="5xx,reset"),
        ),
        (
            "mirroring",
            {"route_subset": "v1", "mirror_subset": "v3", "percent": "12.5"},
            Mirroring(mirror_subset="v3", percent=12.5, route_subset="v1"),
        ),
        (
            "traffic-shifting",
            {"weight_v1": "20", "weight_v2": "80", "weight_v3": "0", "protocol": "tcp"},
            TrafficShifting((("v1", 20), ("v2", 80), ("v3", 0)), protocol="tcp"),
        ),
        (
            "fault-injection",
            {
                "abort_percent": "50",
                "abort_status": "503",
                "match_field": "uri",
                "match_kind": "prefix",
                "match_value": "/r",
            },
            FaultInjection(abort_percent=50, abort_status=503, match=Match("uri", "prefix", "/r")),
        ),
        (
            "request-routing",
            {
                **JASON_FORM,
                "rule1_field": "query",
                "rule1_name": "beta",
                "rule1_value": "1",
                "rule1_and_field": "uri",
                "rule1_and_kind": "prefix",
                "rule1_and_value": "/reviews",
                "rule1_subset": "v3",
            },
            RequestRouting(
                (
                    RouteRule((Match("header", "exact", "jason", "end-user"),), "v2"),
                    RouteRule((Match("query", "exact", "1", "beta"), Match("uri", "prefix", "/reviews")), "v3"),
                ),
                "v1",
            ),
        ),
    ],
)
def test_each_form_previews_what_the_generator_makes_of_its_input(synced, editor, wizard, form, expected):
    plan = preview(editor, wizard, form).context["plan"]
    target = plan.prepared.target
    assert plan.documents == build_wizard_objects(expected, target)
    assert not plan.has_errors and not plan.has_warnings


def test_a_chinese_reader_gets_the_wizard_labels_and_input_checks_in_chinese(synced, editor, simulator):
    page = editor.get(wizard_url("request-routing"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "请求路由" in page and "规则 1" in page and "其余请求发往" in page and "Everything else to" not in page
    answer = editor.post(
        wizard_url("traffic-shifting"),
        {"weight_v1": "50", "weight_v2": "40", "weight_v3": "0", "step": "preview"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    ).content.decode()
    assert "v1 的权重" in answer and "权重总和为 90" in answer and answer.count("the weights sum") == 0
    assert cluster_copy(simulator, "destinationrules", "reviews") is None


def test_a_user_who_chose_chinese_gets_the_input_checks_in_chinese_with_their_values(synced, django_user_model):
    wen = django_user_model.objects.create_user("wen", "wen@example.com", "pw")
    UserPreference.objects.create(user=wen, language="zh-hans")
    RoleGrant.objects.create(user=wen, role="editor", namespace="bookinfo")
    client = Client()
    client.force_login(wen)  # the stored choice is copied into the session at login; no Accept-Language is sent
    twice = {**JASON_FORM, "rule0_and_field": "header", "rule0_and_name": "end-user", "rule0_and_value": "bob"}
    answer = client.post(wizard_url("request-routing"), {**twice, "step": "preview"})
    assert answer.context["plan"] is None
    [error] = answer.context["form"].non_field_errors()
    assert error.startswith("规则 1") and error.endswith("header end-user 在同一条规则中被比较了两次"), error

    faulty = {"delay_percent": "10", "delay": "soon", "abort_percent": "5", "abort_status": "500", "step": "preview"}
    answer = client.post(wizard_url("fault-injection"), faulty)
    [error] = answer.context["form"].errors["delay"]
    assert error.startswith("soon 不是有效的时长") and error.endswith("7s、0.5s 或 100ms"), error
    assert "soon 不是有效的时长" in answer.content.decode() and "is not a duration" not in answer.content.decode()
