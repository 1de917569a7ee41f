"""Celery tasks of the project itself: housekeeping that belongs to no app. Beat's schedule is in settings."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(name="mesh_ui.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Delete expired sessions, as ``manage.py clearsessions`` does: Django never deletes them by itself."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
