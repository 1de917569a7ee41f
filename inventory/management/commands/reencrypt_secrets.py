"""``manage.py reencrypt_secrets``: encrypt every stored secret again with the first configured key (key rotation).

Put the new key first in ``MESH_UI_FIELD_ENCRYPTION_KEY`` (or a new ``SECRET_KEY`` with the old one in
``SECRET_KEY_FALLBACKS``), run this, then drop the old key (see :mod:`mesh_ui.field_encryption`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from inventory.models import Cluster
from mesh_ui.field_encryption import reencrypt_text


class Command(BaseCommand):
    help = "Encrypt the stored Prometheus credentials again with the first configured key."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        for cluster in Cluster.objects.exclude(prometheus_credentials="").only("pk", "prometheus_credentials"):
            cluster.prometheus_credentials = reencrypt_text(cluster.prometheus_credentials)
            cluster.save(update_fields=["prometheus_credentials"])
            rotated += 1
        self.stdout.write(f"re-encrypted the credentials of {rotated} cluster(s)")
