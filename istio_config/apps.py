"""App configuration for Istio config: validation runs follow inventory changes."""

from typing import Any

from django.apps import AppConfig


def _on_inventory_changed(sender: Any, cluster_id: int, **kwargs: Any) -> None:
    from istio_config.tasks import queue_validation

    queue_validation(cluster_id)


class IstioConfigConfig(AppConfig):
    name = "istio_config"
    verbose_name = "Istio config"

    def ready(self) -> None:
        from inventory.signals import inventory_changed

        inventory_changed.connect(_on_inventory_changed, dispatch_uid="istio_config.validation")
