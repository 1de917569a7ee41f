"""The race between the sync and the write service over the history, through the real kubernetes client against the
simulator: the sync may record the cluster's echo of a mesh-ui write before or after the write service records its
own change. Either way the history holds the change once, as mesh-ui's, and an external change made in between is
never lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clients.kubernetes_writes import KubernetesWriteClient
from istio_config.models import ConfigChange
from tests.istio_config.writes_support import (
    REVIEWS_RULE,
    cluster_copy,
    create,
    custom_api,
    editor,
    object_url,
    reviews_route,
    sync_once,
    synced,
    update,
    with_subset,
)

__all__ = ["editor", "synced"]  # fixtures


@pytest.fixture
def sync_right_after_writes(
    monkeypatch: pytest.MonkeyPatch, synced: Any, django_capture_on_commit_callbacks: Any
) -> Callable[[Callable[[], None] | None], None]:
    """Make the sync list the cluster right after each real (not dry-run) write reaches it, before the write
    service records its change: the order the race can take. ``between`` runs first (a kubectl change meanwhile)."""
    steps: dict[str, Callable[[], None] | None] = {"between": None}

    def wrap(name: str) -> None:
        real = getattr(KubernetesWriteClient, name)

        def write_then_sync(self: KubernetesWriteClient, *args: Any, **kwargs: Any) -> Any:
            answer = real(self, *args, **kwargs)
            if not kwargs.get("dry_run"):
                if steps["between"] is not None:
                    steps["between"]()
                sync_once(synced, django_capture_on_commit_callbacks)
            return answer

        monkeypatch.setattr(KubernetesWriteClient, name, write_then_sync)

    def arm(between: Callable[[], None] | None = None) -> None:
        steps["between"] = between
        for name in ("create_object", "replace_object", "delete_object"):
            wrap(name)

    return arm


def history(name: str = "reviews") -> list[tuple[str, str, str]]:
    rows = ConfigChange.objects.filter(kind="VirtualService", name=name, result="applied").order_by("created", "id")
    return [(c.source, c.action, c.resource_version_after) for c in rows]


def test_an_echo_recorded_by_the_sync_first_is_not_a_second_change(synced, editor, simulator, sync_right_after_writes):
    assert create(editor, REVIEWS_RULE).status_code == 201
    sync_right_after_writes()

    created = create(editor, reviews_route("v1"))
    version = created.json()["object"]["metadata"]["resourceVersion"]
    updated = update(editor, "VirtualService", "reviews", with_subset(reviews_route("v1"), "v2"), version)
    after = updated.json()["object"]["metadata"]["resourceVersion"]
    deleted = editor.delete(object_url("VirtualService", "reviews") + f"?resourceVersion={after}")

    assert deleted.status_code in (200, 204)
    assert history() == [("mesh-ui", "create", version), ("mesh-ui", "update", after), ("mesh-ui", "delete", "")]
    assert not ConfigChange.objects.filter(source="external").exists()


def test_an_echo_seen_after_the_write_recorded_it_is_not_a_second_change(
    synced, editor, simulator, django_capture_on_commit_callbacks
):
    assert create(editor, REVIEWS_RULE).status_code == 201
    created = create(editor, reviews_route("v1"))
    version = created.json()["object"]["metadata"]["resourceVersion"]
    sync_once(synced, django_capture_on_commit_callbacks)
    deleted = editor.delete(object_url("VirtualService", "reviews") + f"?resourceVersion={version}")
    assert deleted.status_code in (200, 204)
    sync_once(synced, django_capture_on_commit_callbacks)

    assert history() == [("mesh-ui", "create", version), ("mesh-ui", "delete", "")]
    assert not ConfigChange.objects.filter(source="external").exists()


def test_an_external_change_made_in_between_is_kept(synced, editor, simulator, sync_right_after_writes):
    assert create(editor, REVIEWS_RULE).status_code == 201
    created = create(editor, reviews_route("v1"))
    version = created.json()["object"]["metadata"]["resourceVersion"]

    def kubectl_patch() -> None:
        custom_api(simulator).patch_namespaced_custom_object(
            "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews", {"metadata": {"labels": {"by": "x"}}}
        )

    sync_right_after_writes(kubectl_patch)
    updated = update(editor, "VirtualService", "reviews", with_subset(reviews_route("v1"), "v2"), version)

    ours = updated.json()["object"]["metadata"]["resourceVersion"]
    theirs = cluster_copy(simulator, "virtualservices", "reviews")["metadata"]["resourceVersion"]
    assert ours != theirs
    external = ConfigChange.objects.get(source="external")
    assert (external.action, external.resource_version_after) == ("update", theirs)
    assert "+    by: x" in external.diff
    assert ("mesh-ui", "update", ours) in history()
