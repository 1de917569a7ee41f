"""``manage.py ensure_admin`` (run by ``make demo``): a superuser, its password printed once and kept privately."""

from __future__ import annotations

import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def _ensure_admin(*args: str) -> str:
    out = StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue().strip()


def test_it_creates_a_superuser_prints_the_password_once_and_keeps_it_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MESH_UI_ADMIN_PASSWORD", raising=False)
    kept = tmp_path / "var" / "admin-password"
    first = _ensure_admin("--password-file", str(kept))
    password = kept.read_text().strip()
    assert first == f"created superuser 'admin' with password: {password} (kept in {kept}, readable by you only)"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    admin = authenticate(RequestFactory().post("/login/"), username="admin", password=password)
    assert admin is not None and admin.is_superuser and admin.is_staff
    again = _ensure_admin("--password-file", str(kept))
    assert password not in again
    assert again == f"superuser 'admin' exists; its password is in {kept} (set MESH_UI_ADMIN_PASSWORD to reset it)"
    assert kept.read_text().strip() == password


def test_a_given_password_is_used_and_not_written_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESH_UI_ADMIN_PASSWORD", "chosen-Password-1")
    kept = tmp_path / "admin-password"
    assert _ensure_admin("--password-file", str(kept)).endswith("password: chosen-Password-1")
    assert not kept.exists()
    assert authenticate(RequestFactory().post("/login/"), username="admin", password="chosen-Password-1") is not None


def test_an_existing_admin_is_made_superuser_again(monkeypatch: pytest.MonkeyPatch, django_user_model: Any) -> None:
    monkeypatch.delenv("MESH_UI_ADMIN_PASSWORD", raising=False)
    django_user_model.objects.create_user("admin", "admin@localhost", "old-password")
    said = _ensure_admin()
    assert said.startswith("superuser 'admin' exists; made superuser again; its password was printed when it was made")
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("old-password")
