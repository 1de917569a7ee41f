"""Celery tasks of the audit log: the retention sweep beat runs every hour."""

from __future__ import annotations

from celery import shared_task

from audit import retention


@shared_task(name="audit.tasks.purge_audit_events", ignore_result=True)
def purge_audit_events() -> int:
    """Delete audit events past ``MESH_UI_AUDIT_RETENTION_DAYS``; safe to run twice."""
    return retention.purge_expired_events()
