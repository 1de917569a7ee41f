"""``manage.py ensure_admin``: create the ``admin`` superuser if missing and print its password."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user (password from MESH_UI_ADMIN_PASSWORD, or generated and printed)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            if os.environ.get("MESH_UI_ADMIN_PASSWORD"):
                user = user_model.objects.get(username="admin")
                user.set_password(os.environ["MESH_UI_ADMIN_PASSWORD"])
                user.save(update_fields=["password"])
                self.stdout.write("admin user exists; password set from MESH_UI_ADMIN_PASSWORD")
            else:
                self.stdout.write("admin user exists (set MESH_UI_ADMIN_PASSWORD to reset its password)")
            return
        password = os.environ.get("MESH_UI_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(f"created admin user 'admin' with password: {password}")
