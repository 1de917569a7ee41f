"""The change history's retention: the hourly beat task deletes old changes but never an object's last applied
version — of an object that still exists, or of one that was deleted (re-creating it from its last version needs it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from inventory.models import Cluster
from istio_config.models import ConfigChange
from istio_config.tasks import purge_config_history
from mesh_ui.celery import app

pytestmark = pytest.mark.django_db

APPLIED, REFUSED = ConfigChange.Result.APPLIED, ConfigChange.Result.REFUSED_VALIDATION


@pytest.fixture
def east() -> Cluster:
    return Cluster.objects.create(name="east")


def change(cluster: Cluster, name: str, days: float, action: str = "update", result: str = APPLIED) -> ConfigChange:
    return ConfigChange.objects.create(
        cluster=cluster,
        kind="VirtualService",
        namespace="bookinfo",
        name=name,
        action=action,
        result=result,
        yaml_before=f"before {days}",
        yaml_after="" if action == "delete" else f"after {days}",
        created=timezone.now() - timedelta(days=days),
    )


def test_old_changes_go_but_each_objects_last_applied_version_stays(east: Cluster, settings: Any) -> None:
    settings.MESH_UI_CONFIG_HISTORY_DAYS = 30
    # An object changed long ago and recently: its old changes go.
    change(east, "busy", 400, "create")
    change(east, "busy", 100)
    recent = change(east, "busy", 1)
    # An object last changed long ago: its last applied version stays, an older one and a later refusal go.
    change(east, "quiet", 300, "create")
    quiet_last = change(east, "quiet", 200)
    change(east, "quiet", 100, result=REFUSED)
    # A deleted object: its delete (whose "before" re-creates it) stays.
    change(east, "gone", 300, "create")
    gone_delete = change(east, "gone", 250, "delete")
    # The same name in another cluster is another object.
    west = Cluster.objects.create(name="west")
    west_last = change(west, "busy", 500, "create")

    assert purge_config_history() == 5

    kept = set(ConfigChange.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, quiet_last.pk, gone_delete.pk, west_last.pk}
    assert ConfigChange.objects.get(pk=gone_delete.pk).restorable_yaml == "before 250"
    assert purge_config_history() == 0  # safe to run twice


def test_the_history_sweep_is_scheduled_and_its_task_registered() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["istio-config-purge-history"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert settings.MESH_UI_CONFIG_HISTORY_DAYS == 90  # the documented default
