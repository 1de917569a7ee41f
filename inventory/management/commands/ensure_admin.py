"""``manage.py ensure_admin``: make sure the ``admin`` superuser exists, and say how to log in as it.

A new ``admin`` gets ``MESH_UI_ADMIN_PASSWORD`` or a random password, printed once. With ``--password-file`` (the
demo passes ``var/admin-password``) a random password is also kept in that file, readable by its owner only, so a
restart can say where it is instead of printing it again. An existing ``admin`` is made superuser again if it
was not, and gets ``MESH_UI_ADMIN_PASSWORD`` when that is set. ``--migrate`` migrates the database first, in the
same process (the demo launcher: one Django start fewer before the demo is up).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

USERNAME = "admin"


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` created mode 0600 (replacing a file left from an earlier database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


class Command(BaseCommand):
    help = "Create the admin superuser (password from MESH_UI_ADMIN_PASSWORD, or generated and printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password-file", default="", help="keep a generated password in this file (0600)")
        parser.add_argument("--migrate", action="store_true", help="migrate the database first (quietly)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        password_file = Path(options["password_file"]) if options["password_file"] else None
        given = os.environ.get("MESH_UI_ADMIN_PASSWORD", "")
        user_model = get_user_model()
        user = user_model.objects.filter(username=USERNAME).first()
        if user is None:
            password = given or secrets.token_urlsafe(12)
            user_model.objects.create_superuser(USERNAME, "admin@localhost", password)
            kept = ""
            if password_file is not None and not given:
                write_private_file(password_file, password)
                kept = f" (kept in {password_file}, readable by you only)"
            self.stdout.write(f"created superuser 'admin' with password: {password}{kept}")
            return
        notes = []
        if not (user.is_superuser and user.is_staff and user.is_active):
            user.is_superuser = user.is_staff = user.is_active = True
            notes.append("made superuser again")
        if given:
            user.set_password(given)
            notes.append("password set from MESH_UI_ADMIN_PASSWORD")
        user.save()
        if not given:
            where = (
                f"its password is in {password_file}"
                if password_file is not None and password_file.exists()
                else "its password was printed when it was made"
            )
            notes.append(f"{where} (set MESH_UI_ADMIN_PASSWORD to reset it)")
        self.stdout.write(f"superuser 'admin' exists; {'; '.join(notes)}")
