"""The mesh-ui Django project: settings, URLs, the Celery app and the WSGI/ASGI entry points. It holds no models."""

from mesh_ui.celery import app as celery_app

__all__ = ["celery_app"]
