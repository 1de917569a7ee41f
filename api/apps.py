"""The supported REST API v1: inventory lists and details, sync status, the browsable root and the schema pages."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # drf-spectacular's extensions register themselves when imported: the token scheme must be known before
        # the first schema is generated.
        import mesh_ui.api_schema  # noqa: F401
