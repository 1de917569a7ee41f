"""Settings from the environment: bad values stop start-up with a message naming the variable."""

import ast
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mesh_ui.env import (
    DEBUG_SECRET_KEY,
    env_bool,
    env_float,
    env_int,
    parse_clusters,
    parse_database_url,
    parse_proxy_ssl_header,
)

ROOT = Path(__file__).resolve().parents[1]


def test_sqlite_url_runs_in_wal_mode_on_a_file_under_the_base_dir():
    relative = parse_database_url("DATABASE_URL", "sqlite:///var/x.sqlite3", Path("/srv"))
    assert relative["ENGINE"] == "mesh_ui.private_sqlite" and relative["NAME"] == "/srv/var/x.sqlite3"
    assert "journal_mode=WAL" in relative["OPTIONS"]["init_command"]
    assert relative["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert relative["TEST"]["NAME"] == f"/srv/var/x-test-{os.getpid()}.sqlite3"
    absolute = parse_database_url("DATABASE_URL", "sqlite:////data/mesh.sqlite3?timeout=5", Path("/srv"))
    assert absolute["NAME"] == "/data/mesh.sqlite3" and absolute["OPTIONS"]["timeout"] == 5


def test_postgres_url_keeps_connections_and_passes_query_options():
    pg = parse_database_url("DATABASE_URL", "postgres://u:p%40ss@db:5433/mesh?sslmode=require", Path("/srv"))
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "mesh",
        "u",
        "p@ss",
        "db",
        "5433",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    assert (pg["CONN_MAX_AGE"], pg["CONN_HEALTH_CHECKS"]) == (60, True)
    assert parse_database_url("DATABASE_URL", "postgresql://db/mesh", Path("/srv"))["PORT"] == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x/y", "unsupported database URL scheme 'mysql'"),
        ("nonsense", "unsupported database URL scheme"),
        ("postgres://host", "needs a database name"),
        ("postgres://host:port/db", "not a valid url"),
        ("sqlite://", "needs a file path"),
        ("sqlite://:memory:", "needs a file path"),
    ],
)
def test_bad_database_url_names_the_variable(url, message):
    with pytest.raises(ImproperlyConfigured, match=f"DATABASE_URL: .*{message}"):
        parse_database_url("DATABASE_URL", url, Path("/srv"))


def _settings_in_subprocess(env: dict[str, str], expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "mesh_ui.settings", "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_default_database_is_sqlite_under_the_var_dir(tmp_path):
    name = _settings_in_subprocess({"MESH_UI_VAR_DIR": str(tmp_path)}, "settings.DATABASES['default']['NAME']")
    assert name == str(tmp_path / "mesh-ui.sqlite3")


def test_clusters_setting():
    clusters = parse_clusters("MESH_UI_CLUSTERS", "prod=/k/config#admin, local=in-cluster")
    assert [(c.name, c.kubeconfig, c.context, c.in_cluster) for c in clusters] == [
        ("prod", "/k/config", "admin", False),
        ("local", "", "", True),
    ]
    for bad in ("prod", "a=/x,a=/y", "=x"):
        with pytest.raises(ImproperlyConfigured, match="MESH_UI_CLUSTERS"):
            parse_clusters("MESH_UI_CLUSTERS", bad)


def test_number_and_boolean_readers(monkeypatch):
    monkeypatch.setenv("X_FLOAT", "2.5")
    monkeypatch.setenv("X_INT", "-1")
    monkeypatch.setenv("X_BOOL", "maybe")
    assert env_float("X_FLOAT", 1.0) == 2.5
    with pytest.raises(ImproperlyConfigured, match="X_INT: must be at least 0"):
        env_int("X_INT", 1)
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL")


def test_start_up_stops_on_a_bad_value():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "k" * 50, "MESH_UI_GRAPH_WINDOWS": "1m,5x"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "MESH_UI_GRAPH_WINDOWS" in result.stderr


def _manage_check(env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", *options],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
    )


def test_start_up_refuses_without_a_secret_key(tmp_path):
    result = _manage_check({"MESH_UI_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY: not set (DEBUG is off); set SECRET_KEY (or SECRET_KEY_FILE)" in result.stderr
    assert _manage_check({"MESH_UI_VAR_DIR": str(tmp_path), "DEBUG": "1"}).returncode == 0


def test_require_secret_key_is_honoured_even_with_debug(tmp_path):
    result = _manage_check({"MESH_UI_VAR_DIR": str(tmp_path), "DEBUG": "1", "MESH_UI_REQUIRE_SECRET_KEY": "1"})
    assert result.returncode != 0
    assert "SECRET_KEY: not set (MESH_UI_REQUIRE_SECRET_KEY is on)" in result.stderr


def test_the_public_debug_key_is_refused_outside_debug(tmp_path):
    result = _manage_check({"MESH_UI_VAR_DIR": str(tmp_path), "SECRET_KEY": DEBUG_SECRET_KEY})
    assert result.returncode != 0
    assert "SECRET_KEY: the public DEBUG key" in result.stderr


def _production_env(tmp_path: Path) -> dict[str, str]:
    """What a deployment behind a TLS-ending proxy sets (README, "Pointing it at a real cluster")."""
    return {
        "MESH_UI_VAR_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "mesh-ui.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://mesh-ui.example.com",
        "SESSION_COOKIE_SECURE": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https",
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage_check(_production_env(tmp_path), "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_the_builtin_debug_key(tmp_path):
    env = {k: v for k, v in _production_env(tmp_path).items() if k != "SECRET_KEY"}
    result = _manage_check({**env, "DEBUG": "1"}, "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the key, besides W018 for DEBUG itself
    assert "security.W018" in result.stderr


def test_check_deploy_fails_without_secure_cookies_and_hsts(tmp_path):
    env = {k: v for k, v in _production_env(tmp_path).items() if not k.startswith(("SECURE_", "SESSION_"))}
    result = _manage_check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):  # HSTS, SSL redirect, session and CSRF cookies
        assert f"security.{warning}" in result.stderr


def test_proxy_ssl_header_setting():
    assert parse_proxy_ssl_header("V", "X-Forwarded-Proto=https") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert parse_proxy_ssl_header("V", "HTTP_X_FORWARDED_SSL = on") == ("HTTP_X_FORWARDED_SSL", "on")
    assert parse_proxy_ssl_header("V", "") is None
    for bad in ("X-Forwarded-Proto", "=https", "X-Forwarded-Proto="):
        with pytest.raises(ImproperlyConfigured, match="V: expected Header-Name=value"):
            parse_proxy_ssl_header("V", bad)


def test_the_secret_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file-" + "x" * 40 + "\n")
    key = _settings_in_subprocess(
        {"MESH_UI_VAR_DIR": str(tmp_path), "SECRET_KEY_FILE": str(key_file)}, "settings.SECRET_KEY"
    )
    assert key == "from-a-file-" + "x" * 40


_ENV_READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list"}


def _variables_read_by_settings() -> set[str]:
    tree = ast.parse((ROOT / "mesh_ui" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _ENV_READERS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def _variables_in_env_example() -> set[str]:
    """Each variable is shown commented out as ``# NAME=value`` (a ``NAME_FILE`` alternative as ``or NAME_FILE=``)."""
    return set(re.findall(r"(?:^# ?|\bor )([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


def _variables_in_readme_table() -> set[str]:
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_env_example_documents_every_variable_settings_reads():
    read = _variables_read_by_settings()
    assert {"DATABASE_URL", "SECRET_KEY", "MESH_UI_VAR_DIR"} <= read  # the reader finds the settings
    assert read - _variables_in_env_example() == set()


def test_readme_configuration_table_lists_what_env_example_documents():
    assert _variables_in_readme_table() == _variables_in_env_example()
