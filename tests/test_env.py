"""Settings from the environment: bad values stop start-up with a message naming the variable."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mesh_ui.env import env_bool, env_float, env_int, parse_clusters, parse_database_url

ROOT = Path(__file__).resolve().parents[1]


def test_database_urls_for_sqlite_and_postgres():
    sqlite = parse_database_url("DATABASE_URL", "sqlite:///var/x.sqlite3", Path("/srv"))
    assert sqlite["ENGINE"].endswith("sqlite3") and sqlite["NAME"] == "/srv/var/x.sqlite3"
    pg = parse_database_url("DATABASE_URL", "postgres://u:p%40ss@db:5433/mesh?sslmode=require", Path("/srv"))
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == ("mesh", "u", "p@ss", "db", "5433")
    assert pg["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host", "sqlite://"])
def test_bad_database_url_names_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url("DATABASE_URL", url, Path("/srv"))


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
        env={"PATH": "/usr/bin:/bin", "MESH_UI_GRAPH_WINDOWS": "1m,5x"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "MESH_UI_GRAPH_WINDOWS" in result.stderr
