"""Validation runs over the stored inventory: stored findings and their targets, the run record, skipping an
unchanged inventory, the debounce, the trigger from the inventory store, and checking a posted object."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inventory.models import IstioObject
from inventory.store import apply_full_list
from istio_config import validation
from istio_config.checks import IstioConfig
from istio_config.models import ConfigFinding, FindingTarget, ValidationRun
from mesh_ui.celery import app as celery_app
from tests.dashboard.factories import make_istio
from tests.istio_config.validation_support import RATINGS_RULE, make_broken_mesh

pytestmark = pytest.mark.django_db


def stored_codes(name: str) -> set[tuple[str, str]]:
    return set(ConfigFinding.objects.filter(name=name).values_list("code", "path"))


def test_a_run_stores_the_findings_their_targets_and_the_run_figures() -> None:
    cluster = make_broken_mesh()
    outcome = validation.validate_cluster(cluster)
    assert not outcome.skipped and outcome.error == ""
    assert stored_codes("reviews") == {
        ("KIA1107", "spec.http[0].route[0].destination.subset"),
        ("KIA1101", "spec.http[0].route[1].destination.host"),
    }
    assert ("KIA0302", "spec.selector") in stored_codes("shop-gateway")
    subset = ConfigFinding.objects.get(code="KIA1107")
    assert set(subset.targets.values_list("target_kind", "namespace", "name")) == {
        ("service", "bookinfo", "reviews"),
        ("workload", "bookinfo", "reviews-v1"),
    }
    run = ValidationRun.objects.get(cluster=cluster)
    assert (run.object_count, run.error_count, run.warning_count) == (3, 1, 2)
    assert run.finished_at is not None and run.last_error == "" and not run.queued


def test_an_unchanged_inventory_is_not_checked_again_and_a_change_is() -> None:
    cluster = make_broken_mesh()
    validation.validate_cluster(cluster)
    first_ids = set(ConfigFinding.objects.values_list("pk", flat=True))
    assert validation.validate_cluster(cluster).skipped
    assert set(ConfigFinding.objects.values_list("pk", flat=True)) == first_ids
    make_istio(cluster, "bookinfo", "DestinationRule", "reviews", {**RATINGS_RULE, "host": "reviews"})
    rerun = validation.validate_cluster(cluster)
    assert not rerun.skipped
    assert ("KIA1107", "spec.http[0].route[0].destination.subset") in stored_codes("reviews")  # v9 is still missing
    assert validation.validate_cluster(cluster, force=True).skipped is False


def test_a_deleted_object_loses_its_findings_and_targets() -> None:
    cluster = make_broken_mesh()
    validation.validate_cluster(cluster)
    IstioObject.objects.filter(name="reviews").delete()
    validation.validate_cluster(cluster)
    assert not ConfigFinding.objects.filter(name="reviews").exists()
    assert not FindingTarget.objects.filter(name="reviews").exists()


def test_a_failed_run_keeps_the_previous_findings_and_says_why(monkeypatch: Any) -> None:
    cluster = make_broken_mesh()
    validation.validate_cluster(cluster)
    before = ConfigFinding.objects.count()

    def broken_checks(inventory: Any) -> Any:
        raise RuntimeError("checker crashed")

    monkeypatch.setattr(validation, "check_config", broken_checks)
    IstioObject.objects.filter(name="ratings").delete()
    outcome = validation.validate_cluster(cluster)
    assert outcome.error == "checker crashed"
    assert ConfigFinding.objects.count() == before
    assert "checker crashed" in ValidationRun.objects.get(cluster=cluster).last_error


def test_one_run_is_queued_at_a_time_and_runs_keep_apart() -> None:
    cluster = make_broken_mesh()
    first = validation.claim_queue_slot(cluster.pk)
    assert first == validation.SETTLE_SECONDS
    assert validation.claim_queue_slot(cluster.pk) is None
    validation.validate_cluster(cluster)  # the queued run starts: the flag clears
    countdown = validation.claim_queue_slot(cluster.pk)
    assert countdown is not None and validation.SETTLE_SECONDS <= countdown <= validation.DEBOUNCE_SECONDS
    assert countdown > 1.0  # the previous run started a moment ago


def test_a_run_queued_long_ago_is_taken_as_lost() -> None:
    cluster = make_broken_mesh()
    validation.claim_queue_slot(cluster.pk)
    long_ago = timezone.now() - validation.QUEUE_EXPIRY - timedelta(seconds=1)
    ValidationRun.objects.filter(cluster=cluster).update(queued_at=long_ago)
    assert validation.claim_queue_slot(cluster.pk) is not None


@pytest.fixture
def eager_celery() -> Any:
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False


def test_a_stored_inventory_change_triggers_a_run(eager_celery: Any, django_capture_on_commit_callbacks: Any) -> None:
    cluster = make_broken_mesh()
    rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": "bookinfo", "resourceVersion": "7", "uid": "u1"},
        "spec": {"host": "reviews", "subsets": [{"name": "v9", "labels": {"app": "reviews"}}]},
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apply_full_list(cluster, "destinationrules", [rule])
    assert callbacks, "the store announced the change"
    assert ValidationRun.objects.get(cluster=cluster).finished_at is not None
    assert ("KIA1107", "spec.http[0].route[0].destination.subset") not in stored_codes("reviews")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apply_full_list(cluster, "destinationrules", [rule])  # the same list again: nothing changed
    assert callbacks == []


def test_a_posted_object_is_checked_in_place_of_the_stored_one_and_nothing_is_stored() -> None:
    cluster = make_broken_mesh()
    validation.validate_cluster(cluster)
    before = list(ConfigFinding.objects.values_list("pk", flat=True))
    fixed = IstioConfig(
        "VirtualService",
        "bookinfo",
        "reviews",
        {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]},
    )
    assert validation.check_object(cluster, fixed) == []
    broken = IstioConfig(
        "VirtualService",
        "bookinfo",
        "new-routes",
        {"hosts": ["ratings"], "http": [{"route": [{"destination": {"host": "ratings", "subset": "v2"}}]}]},
    )
    assert [(f.code, f.name) for f in validation.check_object(cluster, broken)] == [("KIA1107", "new-routes")]
    assert list(ConfigFinding.objects.values_list("pk", flat=True)) == before


def test_a_posted_document_needs_a_name_and_a_namespace() -> None:
    with pytest.raises(validation.PostedObjectError, match=r"metadata\.name"):
        validation.istio_config_of({"kind": "VirtualService", "metadata": {}}, "bookinfo")
    with pytest.raises(validation.PostedObjectError, match="namespace"):
        validation.istio_config_of({"kind": "VirtualService", "metadata": {"name": "a"}}, "")
    assert validation.istio_config_of({"kind": "Gateway", "metadata": {"name": "a"}}, "shop").namespace == "shop"


def test_deleting_a_cluster_deletes_its_findings_and_targets() -> None:
    cluster = make_broken_mesh()
    validation.validate_cluster(cluster)
    assert FindingTarget.objects.exists()
    cluster.delete()
    assert not ConfigFinding.objects.exists() and not FindingTarget.objects.exists()
    assert not ValidationRun.objects.exists()
