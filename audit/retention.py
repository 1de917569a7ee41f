"""How long audit events are kept: rows older than ``MESH_UI_AUDIT_RETENTION_DAYS`` are deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent


def purge_expired_events(now: datetime | None = None, days: int | None = None) -> int:
    """Delete events older than ``days`` (default: the setting) before ``now``; returns how many went."""
    keep_days = settings.MESH_UI_AUDIT_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    deleted, _ = AuditEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
