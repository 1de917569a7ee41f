"""The YAML editor in Chromium, on the live Bookinfo simulator with Istio's all-v1 routes and their rules.

The editor is the bundled CodeMirror module (``frontend/editor/``, built by ``make install``); validation as you type
calls the real ``/api/v1/validate``. Saving, creating, deleting and conflicts go through the write API
(``/api/v1/istio-objects``) to the simulator through the real ``kubernetes`` client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import open_page, session_cookie
from tests.istio_config.test_validation_live import apply_sample

pytestmark = pytest.mark.browser

REVIEWS_PAGE = "/namespaces/bookinfo/istio/VirtualService/reviews/"
MARKERS = "document.querySelector('[data-editor-live]').dataset.markers"
VALIDATIONS = "Number(document.querySelector('[data-editor-live]').dataset.validations || 0)"
LINE_NUMBER = (
    "(text) => [...document.querySelectorAll('.cm-content .cm-line')].findIndex(l => l.textContent.includes(text)) + 1"
)
#: A save has answered: saved, refused (outcome panel) or in conflict.
SAVE_ANSWERED = """() => document.querySelector('[data-yaml-editor]').dataset.saved
  || !document.querySelector('[data-editor-outcome]').hidden
  || !document.querySelector('[data-editor-conflict]').hidden"""


@pytest.fixture
def routed(bookinfo: Any) -> Any:
    """Bookinfo with ``virtual-service-all-v1.yaml`` and ``destination-rule-all.yaml``: synced, checked, clean."""
    from inventory.sync import sync_cluster
    from istio_config.validation import validate_cluster

    api = k8s_config.new_client_from_config(config_file=bookinfo.cluster.kubeconfig_path)
    apply_sample(api, "virtual-service-all-v1.yaml")
    apply_sample(api, "destination-rule-all.yaml")
    sync_cluster(bookinfo.cluster.pk)
    validate_cluster(bookinfo.cluster)
    bookinfo.custom = k8s.CustomObjectsApi(api)
    return bookinfo


@pytest.fixture
def editor_user(django_user_model: Any) -> Any:
    """Edith: editor of every namespace (not a superuser)."""
    from accounts.models import RoleGrant

    user = django_user_model.objects.create_user("edith", "edith@example.com", "x")
    RoleGrant.objects.create(user=user, role="editor")
    return user


@pytest.fixture
def editor_page(browser: Any, request: pytest.FixtureRequest, live_server: Any, editor_user: Any) -> Iterator[Any]:
    with open_page(browser, request, [session_cookie(editor_user, live_server)]) as logged_in:
        yield logged_in


@pytest.fixture
def second_editor_page(
    browser: Any, request: pytest.FixtureRequest, live_server: Any, editor_user: Any
) -> Iterator[Any]:
    """A second tab (its own browser context) of the same editor."""
    with open_page(browser, request, [session_cookie(editor_user, live_server)]) as logged_in:
        yield logged_in


def open_editor(page: Any, url: str) -> None:
    """Open the object page, press Edit and wait for the first check of the untouched text."""
    page.goto(url)
    wait_for_js(page, "document.body.dataset.editorReady === 'true'")
    page.get_by_role("button", name="Edit", exact=True).click()
    wait_for_js(page, f"{VALIDATIONS} >= 1")


def edit_line(page: Any, contains: str, old: str, new: str) -> int:
    """Type over ``old`` with ``new`` at the end of the first editor line holding ``contains``; its 1-based number."""
    line = page.locator(".cm-content .cm-line", has_text=contains).first
    line.click()
    page.keyboard.press("End")
    for _ in old:
        page.keyboard.press("Backspace")
    page.keyboard.type(new)
    number: int = page.evaluate(LINE_NUMBER, contains.replace(old, new) if old in contains else contains)
    assert number > 0
    return number


def save_and_wait(page: Any, button: str = "[data-editor-save]") -> str:
    """Press the save button; the resourceVersion saved, or fail with what the page says instead."""
    page.locator(button).click()
    wait_for_js(page, SAVE_ANSWERED)
    saved: str | None = page.evaluate("document.querySelector('[data-yaml-editor]').dataset.saved")
    assert saved, page.locator("[data-editor-status]").inner_text()
    return saved


def expect_refused_requests(page: Any, *statuses: int) -> None:
    """Chromium logs each 4xx answer of a fetch as a console error: take exactly the ones the test expects."""
    logged = [next((s for s in statuses if f"status of {s}" in e), None) for e in page.console_errors]
    assert sorted(filter(None, logged)) == sorted(statuses) and None not in logged, page.console_errors
    page.console_errors.clear()


def cluster_spec(sim: Any, kind_plural: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = sim.custom.get_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", kind_plural, name
    )
    return found


def test_typing_a_missing_subset_marks_its_line_as_you_type(routed, live_server, editor_page):
    page = editor_page
    open_editor(page, live_server.url + REVIEWS_PAGE)
    assert page.evaluate(MARKERS) == "", "the stored object is clean"
    assert page.locator("[data-readonly-yaml]").is_hidden()
    checks = page.evaluate(VALIDATIONS)

    number = edit_line(page, "subset: v1", "1", "9")
    markers = wait_for_js(page, f"{VALIDATIONS} > {checks} && {MARKERS}")
    assert f"{number}:warning:KIA1107" in markers.split()
    # The marker is drawn on that line of the editor, and in the list under it.
    line = page.locator(".cm-content .cm-line").nth(number - 1)
    assert line.inner_text().strip() == "subset: v9"
    assert line.locator(".cm-lintRange-warning").count() == 1
    assert page.locator(".cm-gutter-lint .cm-lint-marker-warning").count() == 1
    listed = page.locator('[data-editor-live] li[data-code="KIA1107"]')
    assert listed.get_attribute("data-line") == str(number)
    assert "v9" in listed.inner_text()

    # Putting it back clears the marker.
    checks = page.evaluate(VALIDATIONS)
    edit_line(page, "subset: v9", "9", "1")
    wait_for_js(page, f"{VALIDATIONS} > {checks}")
    assert page.evaluate(MARKERS) == ""
    assert page.locator(".cm-lintRange-warning").count() == 0


def test_a_schema_error_is_marked_as_an_error_on_its_line(routed, live_server, editor_page):
    page = editor_page
    open_editor(page, live_server.url + REVIEWS_PAGE)
    checks = page.evaluate(VALIDATIONS)
    page.locator(".cm-content .cm-line", has_text="host: reviews").first.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("port: {number: seventy}")
    number = page.evaluate(LINE_NUMBER, "seventy")
    markers = wait_for_js(page, f"{VALIDATIONS} > {checks} && {MARKERS}")
    assert f"{number}:error:schema" in markers.split()
    assert page.locator(".cm-content .cm-line").nth(number - 1).locator(".cm-lintRange-error").count() == 1


def test_the_review_shows_the_diff_against_the_clusters_version(routed, live_server, editor_page):
    page = editor_page
    open_editor(page, live_server.url + REVIEWS_PAGE)
    edit_line(page, "subset: v1", "1", "2")
    page.get_by_role("button", name="Review changes").click()
    review = page.locator("[data-editor-review]")
    review.wait_for(state="visible")
    assert "still holds the version you started from" in review.inner_text()
    assert review.locator('tr[data-diff="del"] td.src').all_inner_texts() == ["        subset: v1"]
    assert review.locator('tr[data-diff="add"] td.src').all_inner_texts() == ["        subset: v2"]
    assert "+1" in review.locator(".diff-head").inner_text()


def test_viewers_get_no_editor(routed, live_server, page):
    page.goto(live_server.url + REVIEWS_PAGE)
    assert page.locator("[data-readonly-yaml]").is_visible()
    assert page.get_by_role("button", name="Edit", exact=True).count() == 0
    assert page.locator("[data-yaml-editor], .cm-editor").count() == 0
    assert page.evaluate("document.body.dataset.editorReady") is None
    page.goto(live_server.url + "/istio/")
    assert page.locator('[data-action="create-istio"]').count() == 0


def test_the_create_page_prefills_the_chosen_kind_and_checks_it(routed, live_server, editor_page):
    page = editor_page
    page.goto(live_server.url + "/istio/?namespace=bookinfo")
    page.locator('[data-action="create-istio"]').click()
    page.wait_for_url("**/istio/new/**")
    wait_for_js(page, f"{VALIDATIONS} >= 1")
    page.locator("[data-starter-kind]").select_option("PeerAuthentication")
    page.wait_for_url("**kind=PeerAuthentication**")
    wait_for_js(page, f"{VALIDATIONS} >= 1")
    text = page.locator(".cm-content").inner_text()
    assert "kind: PeerAuthentication" in text and "namespace: bookinfo" in text
    assert page.evaluate(MARKERS) == ""


# Through the write API (istio_config/api_writes.py) to the simulator.


def test_saving_writes_the_change_to_the_cluster(routed, live_server, editor_page):
    page = editor_page
    open_editor(page, live_server.url + REVIEWS_PAGE)
    edit_line(page, "subset: v1", "1", "2")
    page.get_by_role("button", name="Review changes").click()
    saved = save_and_wait(page)
    spec = cluster_spec(routed, "virtualservices", "reviews")["spec"]
    assert spec["http"][0]["route"][0]["destination"]["subset"] == "v2"
    assert saved == cluster_spec(routed, "virtualservices", "reviews")["metadata"]["resourceVersion"]
    assert "Saved" in page.locator("[data-editor-status]").inner_text()


def test_a_warning_is_applied_only_after_apply_anyway(routed, live_server, editor_page):
    page = editor_page
    open_editor(page, live_server.url + REVIEWS_PAGE)
    edit_line(page, "subset: v1", "1", "9")
    page.get_by_role("button", name="Review changes").click()
    page.locator("[data-editor-save]").click()
    wait_for_js(page, SAVE_ANSWERED)
    outcome = page.locator("[data-editor-outcome]")
    assert outcome.is_visible()
    assert outcome.get_attribute("data-code") == "warnings-not-accepted"
    expect_refused_requests(page, 422)
    assert outcome.locator('li[data-code="KIA1107"]').count() == 1
    assert (
        cluster_spec(routed, "virtualservices", "reviews")["spec"]["http"][0]["route"][0]["destination"]["subset"]
        == "v1"
    )
    save_and_wait(page, "[data-editor-apply-anyway]")
    spec = cluster_spec(routed, "virtualservices", "reviews")["spec"]
    assert spec["http"][0]["route"][0]["destination"]["subset"] == "v9"


def test_two_tabs_saving_the_same_object_conflict_and_the_second_rebases(
    routed, live_server, editor_page, second_editor_page
):
    first, second = editor_page, second_editor_page
    open_editor(first, live_server.url + REVIEWS_PAGE)
    open_editor(second, live_server.url + REVIEWS_PAGE)

    edit_line(first, "subset: v1", "1", "2")
    first.get_by_role("button", name="Review changes").click()
    save_and_wait(first)

    edit_line(second, "subset: v1", "1", "3")
    second.get_by_role("button", name="Review changes").click()
    review = second.locator("[data-editor-review]")
    review.wait_for(state="visible")
    assert review.get_attribute("data-stale") == "true"
    second.locator("[data-editor-save]").click()
    wait_for_js(second, SAVE_ANSWERED)
    conflict = second.locator("[data-editor-conflict]")
    assert conflict.is_visible(), second.locator("[data-editor-status]").inner_text()
    expect_refused_requests(second, 409)
    assert "subset: v1" in conflict.locator('[data-conflict-text="base"]').inner_text()
    assert "subset: v2" in conflict.locator('[data-conflict-text="theirs"]').inner_text()
    assert "subset: v3" in conflict.locator('[data-conflict-text="mine"]').inner_text()
    their_diff = conflict.locator('[data-conflict-diff="theirsToMine"]')
    assert their_diff.locator('tr[data-diff="del"] td.src').all_inner_texts() == ["        subset: v2"]
    assert their_diff.locator('tr[data-diff="add"] td.src').all_inner_texts() == ["        subset: v3"]
    assert (
        cluster_spec(routed, "virtualservices", "reviews")["spec"]["http"][0]["route"][0]["destination"]["subset"]
        == "v2"
    )

    second.get_by_role("button", name="Rebase onto the cluster's version").click()
    wait_for_js(second, "document.querySelector('[data-yaml-editor]').dataset.rebased")
    assert "subset: v3" in second.locator(".cm-content").inner_text()
    second.get_by_role("button", name="Review changes").click()
    review.wait_for(state="visible")
    assert review.get_attribute("data-stale") == "false"
    save_and_wait(second)
    spec = cluster_spec(routed, "virtualservices", "reviews")["spec"]
    assert spec["http"][0]["route"][0]["destination"]["subset"] == "v3"


def test_creating_an_object_from_a_starter_opens_its_page(routed, live_server, editor_page):
    page = editor_page
    page.goto(live_server.url + "/istio/new/?kind=PeerAuthentication&namespace=bookinfo")
    wait_for_js(page, f"{VALIDATIONS} >= 1")
    edit_line(page, "name: default", "default", "strict-bookinfo")
    wait_for_js(page, f"{MARKERS} === ''")
    page.get_by_role("button", name="Review changes").click()
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url("**/namespaces/bookinfo/istio/PeerAuthentication/strict-bookinfo/", timeout=10000)
    created = routed.custom.get_namespaced_custom_object(
        "security.istio.io", "v1", "bookinfo", "peerauthentications", "strict-bookinfo"
    )
    assert created["spec"] == {"mtls": {"mode": "STRICT"}}
    assert page.get_by_role("button", name="Edit", exact=True).is_visible()


def test_deleting_asks_with_the_dependents_then_deletes(routed, live_server, editor_page):
    page = editor_page
    page.goto(live_server.url + "/namespaces/bookinfo/istio/DestinationRule/reviews/")
    wait_for_js(page, "document.body.dataset.editorReady === 'true'")
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.locator("[data-delete-dialog]")
    dialog.wait_for(state="visible")
    dialog.locator('[data-dependent="bookinfo/VirtualService/reviews"]').wait_for(timeout=5000)
    dialog.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url("**/istio/")
    with pytest.raises(k8s.ApiException) as gone:
        cluster_spec(routed, "destinationrules", "reviews")
    assert gone.value.status == 404
