"""``manage.py sync_inventory``: sync clusters in the foreground (for scripts, debugging and benchmarks)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.clusters import sync_clusters_from_settings
from inventory.models import Cluster
from inventory.sync import sync_cluster


class Command(BaseCommand):
    help = "List every inventory kind of the named clusters (default: all enabled) and optionally follow watches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clusters", nargs="*", help="cluster names")
        parser.add_argument("--watch-seconds", type=float, default=0.0)

    def handle(self, *args: Any, **options: Any) -> None:
        sync_clusters_from_settings()
        clusters = Cluster.objects.filter(enabled=True)
        if options["clusters"]:
            clusters = clusters.filter(name__in=options["clusters"])
            missing = set(options["clusters"]) - set(clusters.values_list("name", flat=True))
            if missing:
                raise CommandError(f"unknown or disabled clusters: {', '.join(sorted(missing))}")
        for cluster in clusters:
            outcome = sync_cluster(cluster.pk, watch_seconds=options["watch_seconds"])
            self.stdout.write(json.dumps(outcome.as_dict()))
