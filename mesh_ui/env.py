"""Typed readers for environment variables.

Every setting of mesh-ui comes from the environment through these helpers. A bad value raises
``ImproperlyConfigured`` naming the variable, so start-up stops with a clear message instead of running with a
surprise. A secret may also be given as ``NAME_FILE`` pointing at a file that holds it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

N = TypeVar("N", int, float)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable, or the content of the file named by ``NAME_FILE``, or ``default``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (1/0, true/false, yes/no), got {raw!r}")


def _env_number(name: str, default: N, minimum: N, parse: Callable[[str], N], kind: str) -> N:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: expected {kind}, got {raw!r}") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {raw!r}")
    return value


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    return _env_number(name, default, minimum, float, "a number")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    return _env_number(name, default, minimum, int, "a whole number")


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks are dropped."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


#: The key a DEBUG run falls back to without SECRET_KEY. Public, so never for a deployment: Django's
#: ``check --deploy`` flags keys that start with ``django-insecure-`` (security.W009).
DEBUG_SECRET_KEY = "django-insecure-mesh-ui-debug-key-never-deploy-this"


def parse_proxy_ssl_header(name: str, raw: str) -> tuple[str, str] | None:
    """Parse ``Header-Name=value`` (e.g. ``X-Forwarded-Proto=https``) into Django's ``SECURE_PROXY_SSL_HEADER``.

    The header may also be given as Django spells it in ``request.META`` (``HTTP_X_FORWARDED_PROTO``). Empty
    means no proxy header is trusted.
    """
    if not raw.strip():
        return None
    header, sep, value = (part.strip() for part in raw.partition("="))
    if not sep or not header or not value:
        raise ImproperlyConfigured(f"{name}: expected Header-Name=value, e.g. X-Forwarded-Proto=https, got {raw!r}")
    meta_name = header.upper().replace("-", "_")
    if not meta_name.startswith("HTTP_"):
        meta_name = f"HTTP_{meta_name}"
    return meta_name, value


#: The engines mesh-ui runs on (it relies on SQLite's WAL and PostgreSQL's COPY); other schemes stop start-up.
SQLITE_ENGINE = "django.db.backends.sqlite3"
POSTGRESQL_ENGINE = "django.db.backends.postgresql"
#: Django's SQLite backend with the database file created 0600 (it holds password hashes and sessions).
PRIVATE_SQLITE_ENGINE = "mesh_ui.private_sqlite"


def parse_database_url(name: str, url: str, base_dir: Path) -> dict[str, Any]:
    """Turn ``sqlite:///path`` or ``postgres://user:pass@host:port/db`` into a Django DATABASES entry.

    dj-database-url parses the URL (query parameters become ``OPTIONS``); this adds what mesh-ui needs on top: a
    relative SQLite path is taken from ``base_dir``, SQLite runs in WAL mode with a per-process test file and its
    files private to their owner (:mod:`mesh_ui.private_sqlite`), and
    PostgreSQL connections are kept for a minute and health-checked.
    """
    try:
        # Kept for a minute and health-checked: used for PostgreSQL; the SQLite entry is built below without them.
        parsed: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    except dj_database_url.UnknownSchemeError as exc:
        raise _unsupported_scheme(name, exc.scheme) from exc
    except ValueError as exc:  # dj_database_url.ParseError: a malformed URL
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    engine = parsed["ENGINE"]
    if engine == SQLITE_ENGINE:
        raw_path = parsed["NAME"]
        # An in-memory database would be a different, empty one in every worker process.
        if raw_path in {"", ":memory:"}:
            raise ImproperlyConfigured(f"{name}: sqlite URL needs a file path, got {url!r}")
        path = Path(raw_path)
        if not path.is_absolute():
            path = base_dir / path
        return {
            "ENGINE": PRIVATE_SQLITE_ENGINE,
            "NAME": str(path),
            # WAL lets the web server read while a Celery worker writes.
            "OPTIONS": {
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                **parsed.get("OPTIONS", {}),
            },
            # A file (not memory) so Celery worker processes started by tests see the test database; per
            # process so concurrent test runs do not share it.
            "TEST": {"NAME": str(path.with_name(f"{path.stem}-test-{os.getpid()}.sqlite3"))},
        }
    if engine == POSTGRESQL_ENGINE:
        if not parsed["NAME"]:
            raise ImproperlyConfigured(f"{name}: PostgreSQL URL needs a database name, got {url!r}")
        return {**parsed, "PORT": str(parsed["PORT"])}  # Django documents PORT as a string
    raise _unsupported_scheme(name, url.partition(":")[0])


def _unsupported_scheme(name: str, scheme: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}: unsupported database URL scheme {scheme!r} (use sqlite or postgres)")


@dataclass(frozen=True)
class ClusterSetting:
    """One entry of ``MESH_UI_CLUSTERS``: how to reach a cluster's API server."""

    name: str
    kubeconfig: str = ""
    context: str = ""
    in_cluster: bool = False


def parse_clusters(name: str, raw: str) -> list[ClusterSetting]:
    """Parse ``name=/path/to/kubeconfig#context,other=in-cluster`` into cluster settings."""
    clusters: list[ClusterSetting] = []
    seen: set[str] = set()
    for entry in (item.strip() for item in raw.split(",")):
        if not entry:
            continue
        cluster_name, sep, source = entry.partition("=")
        cluster_name, source = cluster_name.strip(), source.strip()
        if not sep or not cluster_name or not source:
            raise ImproperlyConfigured(
                f"{name}: entry {entry!r} must look like NAME=/path/to/kubeconfig[#context] or NAME=in-cluster"
            )
        if cluster_name in seen:
            raise ImproperlyConfigured(f"{name}: cluster {cluster_name!r} is listed twice")
        seen.add(cluster_name)
        if source == "in-cluster":
            clusters.append(ClusterSetting(name=cluster_name, in_cluster=True))
        else:
            path, _, context = source.partition("#")
            clusters.append(ClusterSetting(name=cluster_name, kubeconfig=path, context=context))
    return clusters


#: The table of the default cache (``manage.py createcachetable``; the accounts app's migration makes it).
CACHE_TABLE = "mesh_ui_cache"
#: Entries a database cache holds before it culls: above the addresses a password-spraying client might use, so
#: culling (which drops entries at random) does not forget their failure counts.
CACHE_MAX_ENTRIES = 50_000


def parse_cache_url(name: str, url: str) -> dict[str, Any]:
    """Turn ``MESH_UI_CACHE_URL`` into Django's ``CACHES["default"]``.

    ``redis://``, ``rediss://`` and ``unix://`` URLs give Redis (``RedisCache``, its counters atomic); empty or
    ``db://`` gives the database cache, shared by every process and machine that uses the database;
    ``locmem://`` gives a cache of each process alone (counts per process: one-process development only).
    """
    scheme = url.partition("://")[0].lower() if "://" in url else url.lower()
    if scheme in {"redis", "rediss", "unix"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme in {"", "db"}:
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            "OPTIONS": {"MAX_ENTRIES": CACHE_MAX_ENTRIES},
        }
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    raise ImproperlyConfigured(
        f"{name}: unsupported cache URL scheme {scheme!r} (use redis, rediss, unix, db or locmem)"
    )
