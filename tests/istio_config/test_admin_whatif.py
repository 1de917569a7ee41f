"""The admin's "Preview on graph": posting a VirtualService or DestinationRule form with its ``_whatif`` button builds
the document a save would write — structured fields and the YAML of what the form does not model — and writes
nothing (the cluster, the stored mirror and the history stay as they were); the page comes back with the form as
posted and the what-if contract as a JSON script element for ``static/istio_config/admin-whatif.js``."""

from __future__ import annotations

import copy
import json

from django.urls import reverse

from istio_config.models import ConfigChange
from tests.istio_config.admin_support import DR_ADMIN, VS_ADMIN, YAML_ADMIN, change_url, open_form, save, stored
from tests.istio_config.test_admin_forms_live import RICH_ROUTE, start
from tests.istio_config.writes_support import REVIEWS_RULE, cluster_copy, create, editor, synced, user_with_role

__all__ = ["editor", "synced"]  # fixtures


def handed_over(answer) -> dict:
    """The what-if contract the re-rendered page carries."""
    assert answer.status_code == 200, f"expected the form again, got {answer.status_code}"
    html = answer.content.decode()
    assert 'src="/static/istio_config/admin-whatif.js"' in html
    return json.loads(html.split('id="admin-whatif" type="application/json">')[1].split("</script>")[0])


def test_preview_of_a_weight_change_hands_the_whole_document_over_and_writes_nothing(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    form, data = open_form(editor, url)
    assert 'name="_whatif"' in editor.get(url).content.decode()
    before = cluster_copy(simulator, "virtualservices", "reviews")
    changes = ConfigChange.objects.count()
    data.update({"route-0-dest0_weight": 0, "route-0-dest1_weight": 100, "_whatif": "Preview on graph"})

    answer = save(editor, url, data)

    contract = handed_over(answer)
    assert (contract["cluster"], contract["namespace"], contract["source"]) == ("sim", "bookinfo", "admin")
    [document] = contract["objects"]
    expected = copy.deepcopy(RICH_ROUTE)
    expected["spec"]["http"][0]["route"][0]["weight"] = 0
    expected["spec"]["http"][0]["route"][1]["weight"] = 100
    assert document == expected  # the unmodelled parts (corsPolicy, tcp, exportTo, labels) are all there
    assert cluster_copy(simulator, "virtualservices", "reviews") == before
    assert stored("VirtualService", "reviews").resource_version == before["metadata"]["resourceVersion"]
    assert ConfigChange.objects.count() == changes
    form = answer.context["adminform"].form
    assert form.errors == {} and answer.context["errors"] == []  # no "Please correct the errors below"
    assert str(form.items.forms[0]["dest1_weight"].value()) == "100"  # the form comes back as posted

    del data["_whatif"]
    assert save(editor, url, data).status_code == 302  # the same values saved for real
    assert [r["weight"] for r in cluster_copy(simulator, "virtualservices", "reviews")["spec"]["http"][0]["route"]] == [
        0,
        100,
    ]


def test_preview_of_a_destination_rule_from_the_add_form(synced, editor, simulator):
    url = reverse(f"admin:{DR_ADMIN}_add")
    _form, data = open_form(editor, url)
    data.update(
        {
            "target_cluster": synced.pk,
            "target_namespace": "bookinfo",
            "target_name": "reviews",
            "host": "reviews",
            "subset-0-name": "v1",
            "subset-0-labels": "version=v1",
            "other": "spec:\n  exportTo:\n  - .\n",
            "_whatif": "Preview on graph",
        }
    )
    [document] = handed_over(save(editor, url, data))["objects"]
    assert document == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}], "exportTo": ["."]},
    }
    assert cluster_copy(simulator, "destinationrules", "reviews") is None
    assert not ConfigChange.objects.exists()


def test_a_preview_with_bad_input_shows_the_error_and_hands_nothing_over(synced, editor, simulator):
    row = start(editor)
    url = change_url(VS_ADMIN, row)
    _form, data = open_form(editor, url)
    data.update({"other": "status: {}\n", "_whatif": "Preview on graph"})
    answer = save(editor, url, data)
    assert answer.status_code == 200
    assert "Only metadata and spec belong here" in str(answer.context["adminform"].form.errors)
    assert 'id="admin-whatif"' not in answer.content.decode()


def test_a_preview_in_a_namespace_the_user_may_not_change_is_refused(synced, editor, simulator, django_user_model):
    other = user_with_role(django_user_model, "olga", "editor", "default")
    url = reverse(f"admin:{DR_ADMIN}_add")
    _form, data = open_form(other, url)
    data.update(
        {
            "target_cluster": synced.pk,
            "target_namespace": "bookinfo",
            "target_name": "reviews",
            "host": "reviews",
            "_whatif": "Preview on graph",
        }
    )
    answer = save(other, url, data)
    assert answer.status_code == 200
    assert 'id="admin-whatif"' not in answer.content.decode()
    assert "may not change" in str(answer.context["adminform"].form.errors)


def test_other_kinds_have_no_preview_button(synced, editor, simulator):
    assert create(editor, REVIEWS_RULE).status_code == 201
    page = editor.get(change_url(YAML_ADMIN, stored("DestinationRule", "reviews"))).content.decode()
    assert 'name="_whatif"' not in page
