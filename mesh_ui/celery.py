"""The Celery application. Tasks live in each app's ``tasks.py``; schedules are declared in settings.

A worker replaces the root logger's handlers with its own (``worker_hijack_root_logger``), which drops the filters
``LOGGING`` puts on Django's: :func:`redact_worker_logs` puts the credential redaction back on Celery's handlers.
"""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from clients.redaction import RedactingFilter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")

app = Celery("mesh_ui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def redact_worker_logs(logger: logging.Logger, **_: Any) -> None:
    """Redact credentials (:mod:`clients.redaction`) in every line the worker's handlers write."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
