"""The demo's ``admin`` user (``manage.py ensure_admin``, run by ``make demo``) is a superuser: admin everywhere."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from accounts import access
from inventory.models import Cluster

pytestmark = pytest.mark.django_db


def test_the_demo_admin_may_do_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESH_UI_ADMIN_PASSWORD", "demo-pw")
    call_command("ensure_admin", stdout=StringIO())
    admin = get_user_model().objects.get(username="admin")
    cluster = Cluster.objects.create(name="sim")
    assert admin.is_superuser and access.is_mesh_admin(admin) and access.can_write(admin, cluster, "istio-system")
    assert admin.check_password("demo-pw")
    client = Client()
    client.force_login(admin)  # the login form itself: tests/test_ensure_admin.py
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/").status_code == 200
