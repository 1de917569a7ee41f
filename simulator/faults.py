"""Fault injection of the simulated Kubernetes API server.

Lets tests and demos make resources answer 403 Forbidden (as missing RBAC would), make the writes that would store
something fail (dry runs still pass, as when etcd fails between a client's dry run and its write), add latency to
every request, expire the watches of one resource (their next event is a 410 Gone, as after an etcd
compaction), run a test's hook right after the next committed write of a resource (another client's change landing
between two of mesh-ui's writes: :meth:`Faults.after_write`) and take the mesh's metrics endpoint down
(``/metrics`` answers 503, so Prometheus records ``up == 0`` for it, as when the sidecars' stats port stops
answering). The outage of the whole server (it stops listening and comes back with the same objects) is
:meth:`simulator.Simulator.outage`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from simulator.errors import Forbidden, StoreError
from simulator.resources import ResourceType

SERVICE_ACCOUNT_USER = "system:serviceaccount:mesh-ui:mesh-ui"


class Faults:
    """Injected failures: forbidden resources, per-request latency, expired watches, the metrics endpoint down."""

    def __init__(self) -> None:
        self._forbidden: set[str] = set()
        self._failing_writes: set[str] = set()
        self._lock = threading.Lock()
        self.latency = 0.0
        #: ``/metrics`` (and the per-pod endpoints below it) answer 503.
        self.metrics_down = False
        self._watch_generations: dict[str, int] = {}
        self._after_write: dict[str, Callable[[dict[str, Any]], None]] = {}

    @property
    def forbidden(self) -> list[str]:
        """The forbidden plurals, sorted."""
        with self._lock:
            return sorted(self._forbidden)

    def forbid(self, plural: str) -> None:
        """Answer every request on ``plural`` with 403 Forbidden."""
        with self._lock:
            self._forbidden.add(plural)

    def unforbid(self, plural: str) -> None:
        """Stop forbidding ``plural``."""
        with self._lock:
            self._forbidden.discard(plural)

    def fail_writes(self, plural: str) -> None:
        """Answer every create, update and delete of ``plural`` that is not a dry run with 500."""
        with self._lock:
            self._failing_writes.add(plural)

    def after_write(self, plural: str, hook: Callable[[dict[str, Any]], None]) -> None:
        """Call ``hook`` once, with the stored object, right after the next committed (not dry-run) create or update
        of ``plural`` and before it is answered: what another client writes between two of a client's requests (a
        race a test cannot otherwise time). The hook may call the API itself (each connection has its thread)."""
        with self._lock:
            self._after_write[plural] = hook

    def wrote(self, rt: ResourceType, dry_run: bool, stored: dict[str, Any]) -> None:
        """Run (and forget) the :meth:`after_write` hook of ``rt`` after a committed write of ``stored``."""
        if dry_run:
            return
        with self._lock:
            hook = self._after_write.pop(rt.plural, None)
        if hook is not None:
            hook(stored)

    def clear(self) -> None:
        """Remove every injected fault (expired watches stay expired: they are already gone)."""
        with self._lock:
            self._forbidden.clear()
            self._failing_writes.clear()
            self._after_write.clear()
        self.latency = 0.0
        self.metrics_down = False

    def watch_generation(self, plural: str) -> int:
        """How many times the watches of ``plural`` were expired; a watch opened at another count is expired."""
        with self._lock:
            return self._watch_generations.get(plural, 0)

    def expire_watches(self, plural: str) -> None:
        """Make every watch of ``plural`` open now end with 410 Gone (call the store's ``notify_all`` to wake them)."""
        with self._lock:
            self._watch_generations[plural] = self._watch_generations.get(plural, 0) + 1

    def check(self, rt: ResourceType, verb: str, namespace: str | None) -> None:
        """Raise :class:`Forbidden` like RBAC would if ``rt`` is forbidden."""
        with self._lock:
            forbidden = rt.plural in self._forbidden
        if forbidden:
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            raise Forbidden(
                f'{rt.plural} is forbidden: User "{SERVICE_ACCOUNT_USER}" cannot {verb} resource '
                f'"{rt.plural}" in API group "{rt.group}" {scope}',
                {"kind": rt.plural, **({"group": rt.group} if rt.group else {})},
            )

    def check_write(self, rt: ResourceType, dry_run: bool) -> None:
        """Raise a 500 like a failing etcd would if writes of ``rt`` fail (dry runs store nothing and pass)."""
        with self._lock:
            failing = rt.plural in self._failing_writes
        if failing and not dry_run:
            raise StoreError("etcdserver: request timed out")
