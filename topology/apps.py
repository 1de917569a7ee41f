"""App configuration for the topology (graph and health)."""

from django.apps import AppConfig


class TopologyConfig(AppConfig):
    name = "topology"
    verbose_name = "Topology and health"
    default_auto_field = "django.db.models.BigAutoField"
