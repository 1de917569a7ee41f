"""Prometheus credentials encrypted at rest: a URL's userinfo and secret parameters move to an encrypted field.

Rows whose ``prometheus_url`` carries credentials (``http://user:secret@host``, ``?token=...``) keep the URL without
them, and the credentials encrypted in ``prometheus_credentials`` (``mesh_ui.field_encryption``). Reversing puts
them back in the URL, in clear (a bearer token set in the admin since has no place in a URL and is dropped).
"""

from typing import Any

from django.db import migrations, models

from clients.url_credentials import UrlCredentials, join_url_credentials, split_url_credentials
from mesh_ui.field_encryption import decrypt_text, encrypt_text


def encrypt_url_credentials(apps: Any, schema_editor: Any) -> None:
    Cluster = apps.get_model("inventory", "Cluster")
    for cluster in Cluster.objects.using(schema_editor.connection.alias).exclude(prometheus_url=""):
        clean, credentials = split_url_credentials(cluster.prometheus_url)
        if credentials:
            cluster.prometheus_url = clean
            cluster.prometheus_credentials = encrypt_text(credentials.to_json())
            cluster.save(update_fields=["prometheus_url", "prometheus_credentials"])


def decrypt_into_urls(apps: Any, schema_editor: Any) -> None:
    Cluster = apps.get_model("inventory", "Cluster")
    for cluster in Cluster.objects.using(schema_editor.connection.alias).exclude(prometheus_credentials=""):
        credentials = UrlCredentials.from_json(decrypt_text(cluster.prometheus_credentials))
        cluster.prometheus_url = join_url_credentials(cluster.prometheus_url, credentials)
        cluster.save(update_fields=["prometheus_url"])


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0002_mesh_config_secret_names_and_optional_kinds'),
    ]

    operations = [
        migrations.AddField(
            model_name='cluster',
            name='prometheus_credentials',
            field=models.TextField(blank=True, db_default='', default='', editable=False, help_text="The Prometheus URL's userinfo and secret parameters and a bearer token, encrypted (Fernet)."),
        ),
        migrations.AlterField(
            model_name='cluster',
            name='prometheus_url',
            field=models.URLField(blank=True, help_text='Prometheus for this cluster, without credentials; empty for PROMETHEUS_URL.'),
        ),
        migrations.RunPython(encrypt_url_credentials, decrypt_into_urls),
    ]
