"""The embedded SQLite database and its WAL and shared-memory files are private to their owner (mode 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from mesh_ui.env import parse_database_url


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker: Any) -> Iterator[None]:
    """These tests open databases of their own, not the suite's."""
    with django_db_blocker.unblock():
        yield


@contextmanager
def _connection(path: Path) -> Iterator[Any]:
    """A connection of mesh-ui's SQLite backend (as DATABASE_URL=sqlite:///path configures it) to ``path``."""
    handler = ConnectionHandler({"default": parse_database_url("DATABASE_URL", f"sqlite:///{path}", path.parent)})
    db = handler["default"]
    try:
        yield db
    finally:
        db.close()


def _write_something(db: Any) -> None:
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")


def test_a_new_database_and_its_wal_and_shm_files_are_0600(tmp_path):
    path = tmp_path / "mesh-ui.sqlite3"
    with _umask(0o022), _connection(path) as db:  # the usual umask would make them 0644
        _write_something(db)
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(file.exists() for file in files)  # WAL mode, connection open: both side files are there
        assert {file.name: _mode(file) for file in files} == {file.name: 0o600 for file in files}


def test_an_existing_world_readable_database_is_made_private(tmp_path, caplog):
    path = tmp_path / "old.sqlite3"
    with _umask(0o022), _connection(path) as db:
        _write_something(db)
    path.chmod(0o644)
    with _umask(0o022), _connection(path) as db:
        _write_something(db)
        assert _mode(path) == 0o600
        assert _mode(path.with_name(path.name + "-wal")) == 0o600
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone() == (2,)  # the data survived
    assert "was readable by others (mode 644)" in caplog.text


def test_a_missing_folder_is_reported_by_sqlite(tmp_path):
    with _connection(tmp_path / "missing" / "db.sqlite3") as db, pytest.raises(Exception, match="unable to open"):
        db.ensure_connection()


@pytest.mark.django_db
def test_the_suite_database_is_private_too():
    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on PostgreSQL: no database file here")
    assert _mode(Path(connection.settings_dict["NAME"])) == 0o600
