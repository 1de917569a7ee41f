"""Benchmark: storing complete lists of Istio objects, with the change history watching (external changes).

Times ``inventory.store.apply_full_list`` on 5,000 VirtualServices (by default): the first list (every object
created; no history, nothing was stored to compare with), a relist with nothing changed, a relist where 1% changed
(each recorded as an external change), and one where every object changed (the worst case: 5,000 external
records). Each figure is one run on a fresh SQLite database (``DATABASE_URL`` to use another), after the
machine-speed reference of ``bench/machine_speed.py``.

    .venv/bin/python bench/istio_relist.py [--objects 5000] [--without-history]

``--without-history`` disconnects the history's receiver: the figures the store alone gives.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine_speed import describe_machine_speed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def virtual_service(index: int, version: int, subset: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {
            "name": f"route-{index}",
            "namespace": f"ns-{index % 50}",
            "uid": f"uid-{index}",
            "resourceVersion": str(version),
            "labels": {"app": f"app-{index}"},
        },
        "spec": {
            "hosts": [f"svc-{index}"],
            "http": [{"route": [{"destination": {"host": f"svc-{index}", "subset": subset}}]}],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--without-history", action="store_true", help="Disconnect the history's receiver.")
    args = parser.parse_args()
    print(describe_machine_speed())
    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["MESH_UI_VAR_DIR"] = str(workdir / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesh_ui.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from django.core.management import call_command

    from inventory.models import Cluster
    from inventory.store import apply_full_list
    from istio_config.models import ConfigChange

    call_command("migrate", verbosity=0)
    cluster = Cluster.objects.create(name="bench")
    n = args.objects
    changed_share = max(1, n // 100)
    lists = [
        ("first list (all created)", [virtual_service(i, i + 1, "v1") for i in range(n)]),
        ("relist, nothing changed", [virtual_service(i, i + 1, "v1") for i in range(n)]),
        (
            f"relist, {changed_share} changed",
            [
                virtual_service(i, i + 1 + (n if i < changed_share else 0), "v2" if i < changed_share else "v1")
                for i in range(n)
            ],
        ),
        ("relist, all changed", [virtual_service(i, i + 1 + 2 * n, "v3") for i in range(n)]),
    ]
    from inventory.signals import istio_objects_changed

    history_on = True
    if args.without_history:
        istio_objects_changed.disconnect(dispatch_uid="istio_config.history")
        history_on = False
    print(f"change history receiver connected: {history_on}")
    for label, items in lists:
        before = ConfigChange.objects.count()
        started = time.perf_counter()
        result = apply_full_list(cluster, "virtualservices", items)
        elapsed = time.perf_counter() - started
        recorded = ConfigChange.objects.count() - before
        print(
            f"{label:<28} {elapsed * 1000:8.0f} ms  (+{result.created} ~{result.updated} -{result.deleted}; "
            f"{recorded} external changes recorded)"
        )


if __name__ == "__main__":
    main()
