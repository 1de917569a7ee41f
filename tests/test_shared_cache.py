"""The cache (``MESH_UI_CACHE_URL``) is one for every server process: counts of refused tokens add up across them."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from mesh_ui.env import CACHE_TABLE, parse_cache_url
from mesh_ui.throttling import record_failed_token, token_lockout_seconds
from tests.support.celery_worker import worker_env

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = "203.0.113.9"

# Another server process: counts one refused token of ADDRESS and prints the count it then sees.
OTHER_PROCESS = f"""
import django; django.setup()
from django.core.cache import cache
from mesh_ui.throttling import _COUNT_KEY, record_failed_token
record_failed_token({ADDRESS!r})
print(cache.get(_COUNT_KEY.format(address={ADDRESS!r})))
"""


def count_in_another_process(env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


def test_it_reads_the_cache_url() -> None:
    assert parse_cache_url("X", "")["LOCATION"] == CACHE_TABLE
    assert parse_cache_url("X", "db://")["BACKEND"].endswith("DatabaseCache")
    redis = parse_cache_url("X", "redis://cache:6379/2")
    assert redis == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache:6379/2"}
    assert parse_cache_url("X", "locmem://")["BACKEND"].endswith("LocMemCache")
    with pytest.raises(ImproperlyConfigured, match=r"X: unsupported cache URL scheme 'memcached'"):
        parse_cache_url("X", "memcached://cache:11211")


@pytest.mark.django_db(transaction=True)
def test_the_default_database_cache_counts_refused_tokens_of_every_process(tmp_path: Path, settings: Any) -> None:
    settings.CACHES = {"default": parse_cache_url("MESH_UI_CACHE_URL", "")}  # the default (tests use their own)
    settings.MESH_UI_TOKEN_FAILURE_LIMIT = 3
    # The accounts migration that makes the table (the test database was migrated with the tests' own cache).
    make_table = import_module("accounts.migrations.0002_cache_table").create_cache_table
    make_table(None, SimpleNamespace(connection=connection))
    cache.clear()  # the table is not flushed between tests
    try:
        record_failed_token(ADDRESS)
        env = worker_env(tmp_path, MESH_UI_CACHE_URL="")
        assert count_in_another_process(env) == 2
        assert token_lockout_seconds(ADDRESS) is None
        assert count_in_another_process(env) == 3
        # The third refusal happened in the other process; this one now refuses the client too.
        assert token_lockout_seconds(ADDRESS) is not None
    finally:
        cache.clear()


@pytest.mark.redis
def test_a_redis_cache_counts_refused_tokens_of_every_process(tmp_path: Path, settings: Any, redis_url: str) -> None:
    settings.CACHES = {"default": parse_cache_url("MESH_UI_CACHE_URL", redis_url)}
    settings.MESH_UI_TOKEN_FAILURE_LIMIT = 2
    cache.clear()
    try:
        record_failed_token(ADDRESS)
        assert count_in_another_process(worker_env(tmp_path, MESH_UI_CACHE_URL=redis_url)) == 2
        assert token_lockout_seconds(ADDRESS) is not None
    finally:
        cache.clear()
