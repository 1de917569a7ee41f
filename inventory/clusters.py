"""Cluster rows from settings: ``MESH_UI_CLUSTERS`` entries become (or update) ``Cluster`` rows."""

from __future__ import annotations

from django.conf import settings

from inventory.models import Cluster


def sync_clusters_from_settings() -> list[Cluster]:
    """Create or update a Cluster for each ``MESH_UI_CLUSTERS`` entry; rows made in admin are left alone."""
    clusters = []
    for entry in settings.MESH_UI_CLUSTERS:
        cluster, _ = Cluster.objects.update_or_create(
            name=entry.name,
            defaults={
                "kubeconfig_path": entry.kubeconfig,
                "context": entry.context,
                "in_cluster": entry.in_cluster,
                "from_settings": True,
            },
        )
        clusters.append(cluster)
    return clusters
