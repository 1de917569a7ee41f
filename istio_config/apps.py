"""App configuration for Istio config: validation runs follow inventory changes; changes the sync sees made
outside mesh-ui go into the change history."""

from typing import Any

from django.apps import AppConfig


def _on_inventory_changed(sender: Any, cluster_id: int, **kwargs: Any) -> None:
    from istio_config.tasks import queue_validation

    queue_validation(cluster_id)


def _on_istio_objects_changed(sender: Any, cluster_id: int, changes: list[Any], **kwargs: Any) -> None:
    from istio_config.history import record_external_changes

    record_external_changes(cluster_id, changes)


class IstioConfigConfig(AppConfig):
    name = "istio_config"
    verbose_name = "Istio config"

    def ready(self) -> None:
        from inventory.signals import inventory_changed, istio_objects_changed

        inventory_changed.connect(_on_inventory_changed, dispatch_uid="istio_config.validation")
        istio_objects_changed.connect(_on_istio_objects_changed, dispatch_uid="istio_config.history")
