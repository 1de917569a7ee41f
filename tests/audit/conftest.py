"""Audit tests start from an empty log, after the fixtures' own grants (alice's) have been recorded."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def empty_log(alice: Any) -> None:
    from audit.models import AuditEvent

    AuditEvent.objects.all().delete()
