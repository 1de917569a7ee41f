"""App configuration for the inventory."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Cluster inventory"
    default_auto_field = "django.db.models.BigAutoField"
