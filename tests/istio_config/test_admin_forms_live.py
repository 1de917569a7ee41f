"""The admin's VirtualService and DestinationRule forms, through the real kubernetes client against the simulator:
a save keeps every field the form does not model, the write service's refusals land on the fields they concern,
warnings are saved only once accepted, a conflict shows the three diffs and can be rebased, delete goes to the cluster
with the dependents shown first, and only editors of a namespace may change its objects."""

from __future__ import annotations

import copy

import yaml

from inventory.models import IstioObject
from istio_config.models import ConfigChange
from tests.istio_config.admin_support import (
    DR_ADMIN,
    VS_ADMIN,
    YAML_ADMIN,
    change_url,
    open_form,
    page_form,
    save,
    stored,
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

RICH_ROUTE = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"team": "books"}},
    "spec": {
        "hosts": ["reviews"],
        "exportTo": ["."],
        "http": [
            {
                "name": "jason",
                "match": [
                    {"headers": {"end-user": {"exact": "jason"}}, "method": {"exact": "GET"}},
                    {"uri": {"prefix": "/v2"}},
                ],
                "route": [
                    {
                        "destination": {"host": "reviews", "subset": "v2", "port": {"number": 9080}},
                        "weight": 50,
                        "headers": {"request": {"set": {"x-team": "books"}}},
                    },
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                ],
                "corsPolicy": {"allowOrigins": [{"exact": "https://example.com"}], "maxAge": "24h"},
                "fault": {"delay": {"percentage": {"value": 10}, "fixedDelay": "5s"}},
                "retries": {"attempts": 3, "perTryTimeout": "2s", "retryRemoteLocalities": True},
                "timeout": "10s",
            },
            {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
        ],
        "tcp": [{"match": [{"port": 9090}], "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}],
    },
}


def start(editor, route: dict | None = None, rule: str = REVIEWS_RULE) -> IstioObject:
    """The reviews rule and a route (default: the rich one) created through the API; the stored route."""
    assert create(editor, rule).status_code == 201
    answer = create(editor, yaml.safe_dump(route or RICH_ROUTE))
    assert answer.status_code == 201, answer.json()
    return stored("VirtualService", "reviews")


def test_saving_the_form_unchanged_keeps_every_field_it_does_not_model(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    assert data["hosts"] == "reviews"
    assert data["route-0-headers"] == "end-user exact jason"
    assert data["route-0-dest1_subset"] == "v1" and data["route-0-dest0_port"] == 9080
    assert "corsPolicy" in data["route-0-other"] and "tcp" in data["other"]

    answer = save(editor, url, data)

    assert answer.status_code == 302, page_form(answer).errors
    assert cluster_copy(simulator, "virtualservices", "reviews")["spec"] == RICH_ROUTE["spec"]
    assert cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["labels"] == {"team": "books"}
    last = ConfigChange.objects.filter(kind="VirtualService", name="reviews").first()
    assert (last.action, last.result, last.actor_name) == ("update", "applied", "erin")


def test_a_weight_change_is_written_and_the_mirror_follows_the_cluster(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    data.update({"route-0-dest0_weight": 0, "route-0-dest1_weight": 100, "route-0-timeout": "3s"})

    assert save(editor, url, data).status_code == 302

    written = cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]
    assert [r["weight"] for r in written["route"]] == [0, 100]
    assert written["timeout"] == "3s" and written["corsPolicy"] == RICH_ROUTE["spec"]["http"][0]["corsPolicy"]
    mirror = stored("VirtualService", "reviews")
    assert (
        mirror.resource_version == cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["resourceVersion"]
    )
    assert mirror.spec["http"][0]["route"][1]["weight"] == 100


def test_adding_and_deleting_routes_and_emptying_a_destination(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    data["route-1-DELETE"] = "on"
    # Destination 1 emptied: destination 2 moves up, its extra fields (in the YAML) stay with position 1.
    data.update(
        {"route-0-dest0_host": "", "route-0-dest0_subset": "", "route-0-dest0_port": "", "route-0-dest0_weight": ""}
    )
    data["route-0-dest1_weight"] = 100
    data.update({"route-2-uri": "prefix /new", "route-2-dest0_host": "reviews", "route-2-dest0_subset": "v1"})

    answer = save(editor, url, data)

    assert answer.status_code == 302, page_form(answer).errors
    http = cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"]
    assert [r.get("name") for r in http] == ["jason", None]
    assert http[0]["route"][0]["destination"] == {"host": "reviews", "subset": "v1"}
    assert http[1] == {
        "match": [{"uri": {"prefix": "/new"}}],
        "route": [{"destination": {"host": "reviews", "subset": "v1"}}],
    }


def test_a_schema_error_is_shown_on_the_route_field_it_concerns(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    data["route-0-timeout"] = "ten seconds"

    form = page_form(save(editor, url, data))

    route = form.items.forms[0]
    assert any("spec.http[0].timeout" in e for e in route.errors["timeout"]), route.errors
    assert any("Nothing was written" in e for e in form.non_field_errors())
    assert cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["timeout"] == "10s"
    assert ConfigChange.objects.filter(result="refused-validation").count() == 1


def test_a_warning_lands_on_its_destination_and_is_saved_once_accepted(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    data["route-0-dest1_subset"] = "v9"

    form = page_form(save(editor, url, data))

    messages = " ".join(
        form.items.forms[0].errors.get("dest1_subset", []) + form.items.forms[0].errors.get("dest1_host", [])
    )
    assert "spec.http[0].route[1]" in messages and "warning" in messages, form.items.forms[0].errors
    assert (
        cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"][1]["destination"]["subset"]
        == "v1"
    )

    data["accept_warnings"] = "on"
    assert save(editor, url, data).status_code == 302
    assert (
        cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"][1]["destination"]["subset"]
        == "v9"
    )


def test_a_conflict_shows_three_diffs_writes_nothing_and_can_be_rebased(synced, editor, simulator):
    row = start(editor, yaml.safe_load(reviews_route("v1")))
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    # Someone else changes the object with kubectl meanwhile.
    custom_api(simulator).patch_namespaced_custom_object(
        "networking.istio.io",
        "v1",
        "bookinfo",
        "virtualservices",
        "reviews",
        {"metadata": {"labels": {"by": "kubectl"}}},
    )
    data["route-0-dest0_subset"] = "v2"

    answer = save(editor, url, data)

    form = page_form(answer)
    assert form.outcome.code == "conflict"
    titles = [title for title, _lines in answer.context["conflict_diffs"]]
    assert len(titles) == 3 and "base → theirs" in titles[0]
    body = answer.content.decode()
    assert "+    by: kubectl" in body and "data-conflict" in body
    theirs = cluster_copy(simulator, "virtualservices", "reviews")
    assert theirs["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v1"
    assert form.data["rebase_onto"] == theirs["metadata"]["resourceVersion"]

    rebase = {**data, "rebase_onto": form.data["rebase_onto"], "rebase": "on"}
    assert save(editor, url, rebase).status_code == 302
    assert (
        cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"][0]["destination"]["subset"]
        == "v2"
    )


def test_creating_a_virtual_service_from_the_add_form(synced, editor, simulator):
    from django.urls import reverse

    assert create(editor, REVIEWS_RULE).status_code == 201
    url = reverse(f"admin:{VS_ADMIN}_add")
    _form, data = open_form(editor, url)
    data.update(
        {
            "target_cluster": synced.pk,
            "target_namespace": "bookinfo",
            "target_name": "reviews-split",
            "hosts": "reviews",
            "route-0-dest0_host": "reviews",
            "route-0-dest0_subset": "v1",
            "route-0-dest0_weight": 80,
            "route-0-dest1_host": "reviews",
            "route-0-dest1_subset": "v2",
            "route-0-dest1_weight": 20,
            "other": "metadata:\n  labels:\n    app: reviews\n",
        }
    )

    answer = save(editor, url, data)

    assert answer.status_code == 302, page_form(answer).errors
    created = cluster_copy(simulator, "virtualservices", "reviews-split")
    assert created["metadata"]["labels"] == {"app": "reviews"}
    assert [(r["destination"]["subset"], r["weight"]) for r in created["spec"]["http"][0]["route"]] == [
        ("v1", 80),
        ("v2", 20),
    ]
    assert answer["Location"] == reverse(f"admin:{VS_ADMIN}_changelist")
    data["_continue"] = "Save and continue editing"
    data["target_name"] = "reviews-other"
    refused = page_form(save(editor, url, data))
    assert refused.errors["hosts"] == ["warning: More than one Virtual Service for same host: reviews"]
    data["accept_warnings"] = "on"
    answer = save(editor, url, data)
    assert answer.status_code == 302, page_form(answer).errors
    assert answer["Location"] == change_url(VS_ADMIN, stored("VirtualService", "reviews-other"))


def test_destination_rule_form_keeps_subset_policies_and_writes_the_traffic_policy(synced, editor, simulator):
    rule = yaml.safe_load(REVIEWS_RULE)
    rule["spec"]["subsets"][0]["trafficPolicy"] = {"loadBalancer": {"simple": "RANDOM"}}
    rule["spec"]["trafficPolicy"] = {"tls": {"mode": "ISTIO_MUTUAL", "sni": "reviews"}, "portLevelSettings": []}
    assert create(editor, yaml.safe_dump(rule)).status_code == 201
    url = change_url(DR_ADMIN, stored("DestinationRule", "reviews"))
    _form, data = open_form(editor, url)
    assert data["tls_mode"] == "ISTIO_MUTUAL" and data["subset-0-labels"] == "version=v1"
    assert save(editor, url, data).status_code == 302
    assert cluster_copy(simulator, "destinationrules", "reviews")["spec"] == rule["spec"]

    data.update({"max_connections": 100, "consecutive_5xx_errors": 5, "subset-1-labels": "version=v2\ntrack=canary"})
    assert save(editor, url, data).status_code == 302
    spec = cluster_copy(simulator, "destinationrules", "reviews")["spec"]
    expected = copy.deepcopy(rule["spec"])
    expected["trafficPolicy"]["connectionPool"] = {"tcp": {"maxConnections": 100}}
    expected["trafficPolicy"]["outlierDetection"] = {"consecutive5xxErrors": 5}
    expected["subsets"][1]["labels"] = {"version": "v2", "track": "canary"}
    assert spec == expected


def test_other_kinds_are_edited_as_yaml_through_the_write_service(synced, editor, simulator):
    assert create(editor, REVIEWS_RULE).status_code == 201
    url = change_url(YAML_ADMIN, stored("DestinationRule", "reviews"))
    _form, data = open_form(editor, url)
    data["yaml"] = data["yaml"].replace("version: v2", "version: v3")
    assert save(editor, url, data).status_code == 302
    assert cluster_copy(simulator, "destinationrules", "reviews")["spec"]["subsets"][1]["labels"] == {"version": "v3"}

    data["yaml"] = "spec: [unclosed"
    form = page_form(save(editor, url, data))
    assert any("line 1" in e or "YAML" in e for e in form.non_field_errors()), form.errors


def test_delete_shows_the_dependents_and_goes_through_the_write_service(synced, editor, simulator):
    start(editor, yaml.safe_load(reviews_route("v1")))
    rule = stored("DestinationRule", "reviews")
    url = change_url(DR_ADMIN, rule).replace("/change/", "/delete/")

    page = editor.get(url)

    assert page.status_code == 200
    assert 'data-dependent="bookinfo/VirtualService/reviews"' in page.content.decode()
    answer = editor.post(url, {"resource_version": rule.resource_version})
    assert answer.status_code == 302
    assert cluster_copy(simulator, "destinationrules", "reviews") is None
    assert not IstioObject.objects.filter(kind="DestinationRule", name="reviews").exists()
    deleted = ConfigChange.objects.get(kind="DestinationRule", action="delete")
    assert (deleted.result, deleted.source) == ("applied", "mesh-ui")


def test_a_stale_delete_is_refused_with_what_changed(synced, editor, simulator):
    assert create(editor, REVIEWS_RULE).status_code == 201
    rule = stored("DestinationRule", "reviews")
    custom_api(simulator).patch_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "destinationrules", "reviews", {"metadata": {"labels": {"x": "y"}}}
    )
    url = change_url(DR_ADMIN, rule).replace("/change/", "/delete/")

    answer = editor.post(url, {"resource_version": rule.resource_version})

    assert answer.status_code == 200 and 'data-write-error="conflict"' in answer.content.decode()
    theirs = cluster_copy(simulator, "destinationrules", "reviews")
    assert theirs is not None and "+    x: y" in answer.content.decode()
    # Confirming again, having seen what changed, deletes the cluster's version.
    assert answer.context["resource_version"] == theirs["metadata"]["resourceVersion"]
    again = editor.post(url, {"resource_version": answer.context["resource_version"]})
    assert again.status_code == 302 and cluster_copy(simulator, "destinationrules", "reviews") is None


def test_viewers_see_the_object_read_only_and_cannot_post(synced, editor, simulator, django_user_model):
    row = start(editor, yaml.safe_load(reviews_route("v1")))
    viewer = user_with_role(django_user_model, "vera", "viewer", "bookinfo")
    url = change_url(VS_ADMIN, row)

    page = viewer.get(url)

    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="istio-yaml"' in body and "subset: v1" in body
    assert 'name="route-0-dest0_subset"' not in body and 'name="_save"' not in body
    assert viewer.post(url, {"hosts": "x"}).status_code == 403
    assert viewer.get(url.replace("/change/", "/delete/")).status_code == 403
    assert viewer.get(change_url(VS_ADMIN, row).replace(f"{row.pk}/change/", "add/")).status_code == 403


def test_an_editor_of_another_namespace_may_not_change_or_create_here(synced, editor, simulator, django_user_model):
    from django.urls import reverse

    row = start(editor, yaml.safe_load(reviews_route("v1")))
    other = user_with_role(django_user_model, "olga", "editor", "istio-system")
    assert other.get(change_url(VS_ADMIN, row)).status_code == 302  # not found for her: back to the list

    add = reverse(f"admin:{VS_ADMIN}_add")
    _form, data = open_form(other, add)
    data.update(
        {"target_cluster": synced.pk, "target_namespace": "bookinfo", "target_name": "sneaky", "hosts": "reviews"}
    )
    form = page_form(save(other, add, data))
    assert form.outcome.code == "forbidden"
    assert cluster_copy(simulator, "virtualservices", "sneaky") is None


def test_an_error_follows_its_destination_when_an_earlier_one_was_emptied(synced, editor, simulator):
    three = yaml.safe_load(reviews_route("v1"))
    three["spec"]["http"][0]["route"] = [
        {"destination": {"host": "reviews", "subset": subset}, "weight": weight}
        for subset, weight in (("v1", 50), ("v2", 25), ("v3", 25))
    ]
    row = start(editor, three, REVIEWS_RULE + "  - name: v3\n    labels:\n      version: v3\n")
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    for part in ("host", "subset", "port", "weight"):
        data.pop(f"route-0-dest0_{part}", None)
    data.update({"route-0-dest1_weight": 75, "route-0-dest2_subset": "v9"})

    route = page_form(save(editor, url, data)).items.forms[0]

    # The cluster would see v9 as its second destination (route[1]); the form shows it where it was typed.
    flagged = [name for name, errors in route.errors.items() if any("route[1]" in e for e in errors)]
    assert flagged and all(name.startswith("dest2_") for name in flagged), route.errors


def test_any_istio_kind_is_created_from_yaml_and_the_change_page_links_its_history(synced, editor, simulator):
    from django.urls import reverse

    url = reverse(f"admin:{YAML_ADMIN}_add")
    _form, data = open_form(editor, url)
    data.update({"target_cluster": synced.pk, "yaml": REVIEWS_RULE})

    answer = save(editor, url, data)

    assert answer.status_code == 302, page_form(answer).errors
    assert cluster_copy(simulator, "destinationrules", "reviews") is not None
    page = editor.get(change_url(DR_ADMIN, stored("DestinationRule", "reviews"))).content.decode()
    assert 'href="/namespaces/bookinfo/istio/DestinationRule/reviews/history/?cluster=sim" data-history-link' in page


def test_the_list_shows_hosts_routes_and_validation_and_filters_by_it(synced, editor, simulator):
    from django.urls import reverse

    from istio_config.validation import validate_cluster

    assert create(editor, REVIEWS_RULE).status_code == 201
    assert create(editor, reviews_route("v9"), accept_warnings=True).status_code == 201
    validate_cluster(synced, force=True)
    changelist = reverse(f"admin:{VS_ADMIN}_changelist")

    def names(query: str) -> list[str]:
        answer = editor.get(f"{changelist}?{query}")
        assert answer.status_code == 200
        return sorted(row.name for row in answer.context["cl"].result_list)

    listed = editor.get(changelist).context["cl"]
    reviews = next(row for row in listed.result_list if row.name == "reviews")
    admin_of = listed.model_admin
    assert (admin_of.hosts(reviews), admin_of.route_count(reviews), admin_of.validation(reviews)) == (
        "reviews",
        1,
        "warning",
    )
    assert "reviews" in names("validation=warning")
    assert "reviews" not in names("validation=valid")
    assert names("q=reviews") == ["reviews"]


def test_a_cluster_failing_mid_write_or_unreachable_is_said_on_the_form_and_nothing_is_written(
    synced, editor, simulator
):
    row = start(editor, yaml.safe_load(reviews_route("v1")))
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    data["route-0-dest0_subset"] = "v2"

    simulator.faults.fail_writes("virtualservices")
    failed = page_form(save(editor, url, data))
    simulator.faults.clear()
    assert failed.outcome.code == "api-error"
    assert any("Nothing was written" in e and "etcdserver" in e for e in failed.non_field_errors())
    assert cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"][0]["destination"] == {
        "host": "reviews",
        "subset": "v1",
    }

    simulator.stop()
    unreachable = page_form(save(editor, url, data))
    assert unreachable.outcome.code == "cluster-unreachable"
    assert stored("VirtualService", "reviews").spec["http"][0]["route"][0]["destination"]["subset"] == "v1"
