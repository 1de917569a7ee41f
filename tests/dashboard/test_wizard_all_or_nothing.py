"""A wizard never leaves half its change applied, through its page, the real kubernetes client and the simulator:

- a VirtualService the checks refuse: nothing is written (the DestinationRule is read back unchanged);
- a VirtualService write that fails at the API server after the DestinationRule was written (the simulator's
  failing writes, or another client's VirtualService created in between through its ``after_write`` hook): the
  DestinationRule is restored exactly (or deleted, when the wizard created it), and its history shows both steps;
- the DestinationRule changed by someone else in between: it is left applied, their change is kept, and the page
  says so with a link to its history;
- "Remove routing" whose DestinationRule fails to delete: the VirtualService deleted before it is re-created.

Each failing case has its near-identical passing twin.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from istio_config.models import ConfigChange
from istio_config.wizards.inputs import WIZARD_LABEL
from tests.dashboard.test_wizard_views import JASON_FORM, REMOVE_URL, apply, preview, wizard_url
from tests.istio_config.writes_support import cluster_copy, custom_api, editor, reviews_route, sync_once, synced

__all__ = ["editor", "synced"]  # fixtures

SHIFT = {"weight_v1": "0", "weight_v2": "0", "weight_v3": "100", "protocol": "http"}
GROUP, VERSION = "networking.istio.io", "v1"


def configuration(obj: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """What must come back exactly after a rollback: the spec and the labels."""
    assert obj is not None
    return obj["spec"], obj["metadata"].get("labels") or {}


def rule(simulator: Any) -> dict[str, Any] | None:
    return cluster_copy(simulator, "destinationrules", "reviews")


def route(simulator: Any) -> dict[str, Any] | None:
    return cluster_copy(simulator, "virtualservices", "reviews")


def outcome(answer: Any, status: int, result: str, rule_was: tuple[str, str], route_was: tuple[str, str]) -> str:
    """The page's HTML, once its status, overall result and each object's (status, code) are checked."""
    assert answer.status_code == status, answer.content.decode()[:3000]
    assert answer.context["result"] == result
    html: str = answer.content.decode()
    assert f'data-wizard-result="{result}"' in html
    found = {row["write"].key: (row["status"], row["outcome"].code) for row in answer.context["applied"]}
    assert found == {"DestinationRule/reviews": rule_was, "VirtualService/reviews": route_was}
    return html


@pytest.fixture
def routed(synced, editor, simulator):
    """reviews routed by the request-routing wizard (both objects written), as the starting point."""
    answer = apply(editor, "request-routing", JASON_FORM, preview(editor, "request-routing", JASON_FORM))
    assert answer.status_code == 302
    return synced


def other_route_for_reviews(simulator: Any, cluster: Any, capture: Any) -> None:
    """Someone else's VirtualService for reviews in another namespace, synced into mesh-ui: the checks then warn that
    two VirtualServices route the same host (the wizard's own objects are unchanged, so its preview still holds)."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VirtualService",
        "metadata": {"name": "reviews-elsewhere", "namespace": "default"},
        "spec": {
            "hosts": ["reviews.bookinfo.svc.cluster.local"],
            "http": [{"route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v1"}}]}],
        },
    }
    custom_api(simulator).create_namespaced_custom_object(GROUP, VERSION, "default", "virtualservices", body)
    sync_once(cluster, capture)


def test_a_route_the_checks_refuse_writes_nothing(routed, editor, simulator, django_capture_on_commit_callbacks):
    rule_before, route_before = rule(simulator), route(simulator)
    previewed = preview(editor, "traffic-shifting", SHIFT)
    other_route_for_reviews(simulator, routed, django_capture_on_commit_callbacks)

    answer = apply(editor, "traffic-shifting", SHIFT, previewed)

    html = outcome(answer, 422, "nothing-written", ("not-written", ""), ("refused", "warnings-not-accepted"))
    assert "Nothing was written: the cluster is as it was" in html
    assert rule(simulator) == rule_before, "the DestinationRule is untouched, resourceVersion included"
    assert route(simulator) == route_before
    refused = ConfigChange.objects.filter(kind="VirtualService").latest("pk")
    assert refused.result == "refused-validation"
    assert ConfigChange.objects.filter(result="applied", source="mesh-ui").count() == 2, (
        "only the first wizard's two writes"
    )


def test_the_same_route_with_its_warnings_accepted_writes_both(
    routed, editor, simulator, django_capture_on_commit_callbacks
):
    previewed = preview(editor, "traffic-shifting", SHIFT)
    other_route_for_reviews(simulator, routed, django_capture_on_commit_callbacks)

    answer = apply(editor, "traffic-shifting", SHIFT, previewed, accept_warnings="on")

    assert answer.status_code == 302
    assert configuration(rule(simulator))[1] == {WIZARD_LABEL: "traffic-shifting"}
    assert configuration(route(simulator))[1] == {WIZARD_LABEL: "traffic-shifting"}


def test_a_route_failing_at_the_api_after_the_rule_was_written_rolls_the_rule_back(routed, editor, simulator):
    rule_before = rule(simulator)
    previewed = preview(editor, "traffic-shifting", SHIFT)
    simulator.faults.fail_writes("virtualservices")  # dry runs pass, the write answers 500

    answer = apply(editor, "traffic-shifting", SHIFT, previewed)

    html = outcome(answer, 502, "rolled-back", ("rolled-back", ""), ("refused", "api-error"))
    assert "Nothing is left applied" in html and "written, then restored to what it was before" in html
    assert "/namespaces/bookinfo/istio/DestinationRule/reviews/history/?cluster=sim" in html
    assert configuration(rule(simulator)) == configuration(rule_before)
    assert configuration(route(simulator))[1] == {WIZARD_LABEL: "request-routing"}
    history = list(ConfigChange.objects.filter(kind="DestinationRule").order_by("pk"))
    assert [(c.action, c.result) for c in history] == [
        ("create", "applied"),  # the first wizard
        ("update", "applied"),  # traffic shifting's rule
        ("rollback", "applied"),  # undone
    ]
    assert history[2].rollback_of == history[1]
    assert history[2].yaml_after == history[1].yaml_before
    assert ConfigChange.objects.filter(kind="VirtualService").latest("pk").result == "api-error"


def test_the_same_wizard_without_the_failing_route_writes_both(routed, editor, simulator):
    previewed = preview(editor, "traffic-shifting", SHIFT)
    simulator.faults.fail_writes("services")  # a fault on something the wizard does not write

    answer = apply(editor, "traffic-shifting", SHIFT, previewed)

    assert answer.status_code == 302
    assert configuration(rule(simulator))[1] == {WIZARD_LABEL: "traffic-shifting"}
    assert route(simulator)["spec"]["http"] == [
        {"route": [{"destination": {"host": "reviews", "subset": "v3"}, "weight": 100}]}
    ]
    assert not ConfigChange.objects.filter(action="rollback").exists()


def test_a_route_created_by_someone_else_between_the_writes_deletes_the_created_rule(synced, editor, simulator):
    previewed = preview(editor, "request-routing", JASON_FORM)
    theirs = yaml.safe_load(reviews_route("v1"))
    simulator.faults.after_write(
        "destinationrules",
        lambda _: custom_api(simulator).create_namespaced_custom_object(
            GROUP, VERSION, "bookinfo", "virtualservices", theirs
        ),
    )

    answer = apply(editor, "request-routing", JASON_FORM, previewed)

    assert answer.status_code == 409
    assert answer.context["result"] == "rolled-back"
    assert rule(simulator) is None, "the rule the wizard created is deleted again"
    assert configuration(route(simulator)) == (theirs["spec"], {}), "their route stays as they wrote it"
    history = list(ConfigChange.objects.filter(kind="DestinationRule").order_by("pk"))
    assert [(c.action, c.result) for c in history] == [("create", "applied"), ("delete", "applied")]
    assert history[1].rollback_of == history[0]
    assert ConfigChange.objects.filter(kind="VirtualService").latest("pk").result == "api-error"


def test_the_same_wizard_with_nobody_else_writing_creates_both(synced, editor, simulator):
    previewed = preview(editor, "request-routing", JASON_FORM)
    simulator.faults.after_write("services", lambda _: None)  # a hook on something the wizard does not write

    answer = apply(editor, "request-routing", JASON_FORM, previewed)

    assert answer.status_code == 302
    assert configuration(rule(simulator))[1] == {WIZARD_LABEL: "request-routing"}
    assert configuration(route(simulator))[1] == {WIZARD_LABEL: "request-routing"}


def test_a_rule_changed_by_someone_else_before_the_rollback_is_left_applied_and_said(routed, editor, simulator):
    previewed = preview(editor, "traffic-shifting", SHIFT)
    simulator.faults.fail_writes("virtualservices")
    label = {"metadata": {"labels": {"owner": "someone-else"}}}
    simulator.faults.after_write(
        "destinationrules",
        lambda _: custom_api(simulator).patch_namespaced_custom_object(
            GROUP, VERSION, "bookinfo", "destinationrules", "reviews", label
        ),
    )

    answer = apply(editor, "traffic-shifting", SHIFT, previewed)

    html = outcome(answer, 502, "left-applied", ("left-applied", ""), ("refused", "api-error"))
    assert "Part of the change is left applied" in html
    assert "DestinationRule reviews was not restored to what it was before" in html
    assert (
        "data-undo-diff" in html and "/namespaces/bookinfo/istio/DestinationRule/reviews/history/?cluster=sim" in html
    )
    # Their label is kept: the wizard's rule with it is what the cluster has.
    assert configuration(rule(simulator))[1] == {WIZARD_LABEL: "traffic-shifting", "owner": "someone-else"}
    undo = ConfigChange.objects.filter(kind="DestinationRule").latest("pk")
    assert (undo.action, undo.result) == ("rollback", "conflict")


def test_a_chinese_reader_is_told_in_chinese_that_the_rule_was_rolled_back(routed, editor, simulator):
    previewed = preview(editor, "traffic-shifting", SHIFT)
    plan = previewed.context["plan"]
    simulator.faults.fail_writes("virtualservices")
    body = {**SHIFT, "step": "apply", "digest": plan.digest, "versions": plan.versions_json}
    html = editor.post(wizard_url("traffic-shifting"), body, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "没有遗留任何已应用的更改" in html and "随后已恢复为原来的样子" in html
    assert "Nothing is left applied" not in html


def removal_versions(editor: Any) -> str:
    page = editor.get(REMOVE_URL)
    assert [w["write"].key for w in page.context["writes"]] == ["VirtualService/reviews", "DestinationRule/reviews"]
    return str(page.context["versions"])


def test_remove_routing_whose_rule_fails_to_delete_re_creates_the_route(routed, editor, simulator):
    route_before, rule_before = route(simulator), rule(simulator)
    versions = removal_versions(editor)
    simulator.faults.fail_writes("destinationrules")

    answer = editor.post(REMOVE_URL, {"versions": versions})

    assert answer.status_code == 502
    assert answer.context["result"] == "rolled-back"
    assert configuration(route(simulator)) == configuration(route_before), "the deleted route is back as it was"
    assert rule(simulator) == rule_before
    history = list(ConfigChange.objects.filter(kind="VirtualService").order_by("pk"))
    assert [(c.action, c.result) for c in history] == [
        ("create", "applied"),
        ("delete", "applied"),
        ("rollback", "applied"),
    ]
    assert history[2].rollback_of == history[1]


def test_the_same_removal_without_the_failing_rule_deletes_both(routed, editor, simulator):
    versions = removal_versions(editor)
    simulator.faults.fail_writes("services")

    assert editor.post(REMOVE_URL, {"versions": versions}).status_code == 302
    assert route(simulator) is None and rule(simulator) is None


def test_a_rule_deleted_by_someone_else_before_the_rollback_is_not_re_created(routed, editor, simulator):
    previewed = preview(editor, "traffic-shifting", SHIFT)
    simulator.faults.fail_writes("virtualservices")
    simulator.faults.after_write(
        "destinationrules",
        lambda _: custom_api(simulator).delete_namespaced_custom_object(
            GROUP, VERSION, "bookinfo", "destinationrules", "reviews"
        ),
    )

    answer = apply(editor, "traffic-shifting", SHIFT, previewed)

    html = outcome(answer, 502, "left-applied", ("left-applied", ""), ("refused", "api-error"))
    assert "DestinationRule reviews was not restored to what it was before" in html
    assert rule(simulator) is None, "their delete is kept: the rollback does not re-create the rule"
    undo = ConfigChange.objects.filter(kind="DestinationRule").latest("pk")
    assert (undo.action, undo.result) == ("rollback", "api-error")
