"""The fault suite's parts: a real Celery worker on Redis syncing the in-process simulator, probes of what the
dashboard shows, and a fingerprint of the stored inventory to prove that no row was lost or duplicated.

Every fault is injected through the simulator's control surface (``simulator.control``) or by signalling a process
the test started, by its PID. Each test measures how long the fault took to show and to heal, asserts the bounds of
issue #16 and records the figures in ``test-artifacts/fault-timings.jsonl`` (what ``docs/reliability.md`` quotes).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.urls import reverse

from clients.kubernetes import KINDS_BY_KEY
from inventory.models import (
    Cluster,
    ConfigMap,
    IstioObject,
    Namespace,
    Pod,
    SecretName,
    Service,
    SyncStatus,
    Workload,
)
from tests.support.celery_worker import CeleryWorker, call_task, running_worker, worker_env
from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]
TIMINGS = ROOT / "test-artifacts" / "fault-timings.jsonl"
INVENTORY_MODELS = (Namespace, Service, Workload, Pod, IstioObject, ConfigMap, SecretName)
#: How long the worker's sync follows watches: longer than any test here runs.
WATCH_SECONDS = 90


def inventory_fingerprint(cluster: Cluster) -> tuple[dict[str, int], str]:
    """Row counts per model and a checksum over every stored row's primary key, identity and version.

    A row lost, duplicated, or deleted and written again (a new primary key) changes it.
    """
    counts: dict[str, int] = {}
    digest = hashlib.sha256()
    for model in INVENTORY_MODELS:
        fields = ["pk", "name", "uid", "resource_version"] + (["namespace"] if model is not Namespace else [])
        rows = sorted(model.objects.filter(cluster=cluster).values_list(*fields))
        counts[model.__name__] = len(rows)
        digest.update(json.dumps([model.__name__, rows]).encode())
    return counts, digest.hexdigest()


def measure(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> float:
    """Seconds until ``condition`` holds (polled every 50 ms); fails naming ``what`` after ``timeout``."""
    started = time.monotonic()
    wait_until(condition, what, timeout=timeout, interval=0.05)
    return time.monotonic() - started


def record_timing(fault: str, **seconds: float) -> None:
    """Append one measured fault to the timings file (and print it, for ``pytest -s``)."""
    TIMINGS.parent.mkdir(exist_ok=True)
    line = {"fault": fault, **{name: round(value, 2) for name, value in seconds.items()}}
    with TIMINGS.open("a") as out:
        out.write(json.dumps(line) + "\n")
    print(f"FAULT {json.dumps(line)}")


def states(cluster: Cluster) -> dict[str, SyncStatus]:
    return {status.kind: status for status in SyncStatus.objects.filter(cluster=cluster)}


def all_watching(cluster: Cluster) -> bool:
    """Every kind listed, healthy and watched."""
    now = states(cluster)
    return len(now) == len(KINDS_BY_KEY) and all(s.state == "ok" and s.watching for s in now.values())


def banner_kinds(client: Any) -> dict[str, str]:
    """The header's banners on the inventory page: ``{data-banner kind: its text}`` (texts of one kind joined)."""
    from html.parser import HTMLParser

    page = client.get(reverse("dashboard:inventory")).content.decode()
    found: dict[str, str] = {}

    class Banners(HTMLParser):
        current: str | None = None
        depth = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names = dict(attrs)
            if self.current is not None and tag == "div":
                self.depth += 1
            elif tag == "div" and names.get("data-banner"):
                self.current, self.depth = str(names["data-banner"]), 1
                found[self.current] = found.get(self.current, "")

        def handle_endtag(self, tag: str) -> None:
            if self.current is not None and tag == "div":
                self.depth -= 1
                if self.depth == 0:
                    self.current = None

        def handle_data(self, data: str) -> None:
            if self.current is not None:
                found[self.current] += data

    Banners().feed(page)
    return {kind: " ".join(text.split()) for kind, text in found.items()}


@contextmanager
def syncing_worker(
    cluster: Cluster, redis_url: str, tmp_path: Path, name: str = "worker", **env: str
) -> Iterator[CeleryWorker]:
    """A real worker (solo pool, a queue of its own on Redis) running ``sync_cluster`` for ``WATCH_SECONDS``;
    yields once every kind is listed and watched."""
    queue = f"mesh-ui-faults-{uuid.uuid4().hex[:8]}"
    worker_environment = worker_env(tmp_path, CELERY_BROKER_URL=redis_url, **env)
    with running_worker(worker_environment, tmp_path / f"{name}.log", "--pool", "solo", "--queues", queue) as worker:
        call_task(worker_environment, "inventory.tasks.sync_cluster", cluster.pk, WATCH_SECONDS, queue=queue)
        wait_until(lambda: all_watching(cluster), "the worker listed and watched every kind", timeout=45)
        yield worker
