"""A cluster's Prometheus credentials: split from the URL, encrypted at rest, write-only in the admin, sent only
when a client connects."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from io import StringIO
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from clients.prometheus import PrometheusClient
from clients.url_credentials import UrlCredentials, join_url_credentials, split_url_credentials
from inventory.credentials import read_prometheus_credentials, set_prometheus_connection
from inventory.models import Cluster
from mesh_ui.field_encryption import FieldDecryptionError, decrypt_text, encrypt_text, reencrypt_text
from topology.sources import PrometheusSource, telemetry_source_for

PASSWORD = "p@ss/w:rd-7731"
TOKEN = "bearer-5e0c2a"


def test_credentials_are_split_from_a_url_and_joined_back() -> None:
    url = "http://mesh:s3cret@prom.example:9090/prefix?token=abc&dedup=true"
    clean, credentials = split_url_credentials(url)
    assert clean == "http://prom.example:9090/prefix?dedup=true"
    assert credentials == UrlCredentials(userinfo="mesh:s3cret", secret_query=(("token", "abc"),))
    assert UrlCredentials.from_json(credentials.to_json()) == credentials
    assert (
        join_url_credentials(clean, credentials) == "http://mesh:s3cret@prom.example:9090/prefix?dedup=true&token=abc"
    )
    assert split_url_credentials("http://prom.example:9090") == ("http://prom.example:9090", UrlCredentials())
    assert "s3cret" not in repr(credentials) and "abc" not in repr(credentials)


def test_encryption_rotates_keys_and_refuses_unknown_ones(settings: Any) -> None:
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = "old-key-0123456789abcdef"
    old_token = encrypt_text("user:pw")
    assert "user:pw" not in old_token and decrypt_text(old_token) == "user:pw"
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = "new-key-fedcba9876543210, old-key-0123456789abcdef"
    assert decrypt_text(old_token) == "user:pw"
    new_token = reencrypt_text(old_token)
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = "new-key-fedcba9876543210"
    assert decrypt_text(new_token) == "user:pw"
    with pytest.raises(FieldDecryptionError, match="MESH_UI_FIELD_ENCRYPTION_KEY"):
        decrypt_text(old_token)
    # Without a dedicated key: derived from SECRET_KEY, and SECRET_KEY_FALLBACKS still decrypt.
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = ""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "first-secret-key-" + "x" * 40, []
    derived = encrypt_text("user:pw")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = (
        "second-secret-key-" + "y" * 40,
        ["first-secret-key-" + "x" * 40],
    )
    assert decrypt_text(derived) == "user:pw"


def _stored_row(cluster: Cluster) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM inventory_cluster WHERE id = %s", [cluster.pk])
        return repr(cursor.fetchone())


@pytest.fixture
def admin_client(client: Any) -> Any:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _form(**fields: Any) -> dict[str, Any]:
    base = {"name": "prod", "enabled": "on", "control_plane_namespace": "istio-system", "prometheus_url": ""}
    return {**base, "prometheus_userinfo": "", "prometheus_token": "", **fields}


@pytest.mark.django_db
def test_the_admin_stores_credentials_encrypted_and_never_shows_them(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("admin:inventory_cluster_add"),
        _form(
            prometheus_url="http://prom.example:9090", prometheus_userinfo=f"mesh:{PASSWORD}", prometheus_token=TOKEN
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    cluster = Cluster.objects.get(name="prod")
    assert cluster.prometheus_url == "http://prom.example:9090"
    row = _stored_row(cluster)
    assert PASSWORD not in row and "p%40ss" not in row and TOKEN not in row
    assert read_prometheus_credentials(cluster) == UrlCredentials(
        userinfo="mesh:p%40ss%2Fw%3Ard-7731", bearer_token=TOKEN
    )

    change = reverse("admin:inventory_cluster_change", args=[cluster.pk])
    page = admin_client.get(change).content.decode()
    assert "Credentials are stored for this cluster." in page
    assert PASSWORD not in page and TOKEN not in page and cluster.prometheus_credentials not in page

    # Empty password fields keep what is stored; credentials typed into the URL move out of it.
    admin_client.post(change, _form(prometheus_url="http://scraper:s3cret-url@prom.example:9091/?token=q-77"))
    cluster.refresh_from_db()
    assert cluster.prometheus_url == "http://prom.example:9091/"
    assert "s3cret-url" not in _stored_row(cluster) and "q-77" not in _stored_row(cluster)
    assert read_prometheus_credentials(cluster) == UrlCredentials(
        userinfo="scraper:s3cret-url", secret_query=(("token", "q-77"),), bearer_token=TOKEN
    )

    admin_client.post(change, _form(prometheus_url="http://prom.example:9091/", forget_prometheus_credentials="on"))
    cluster.refresh_from_db()
    assert cluster.prometheus_credentials == "" and read_prometheus_credentials(cluster) == UrlCredentials()


@pytest.mark.django_db
def test_the_admin_refuses_a_password_without_a_user(admin_client: Any) -> None:
    response = admin_client.post(reverse("admin:inventory_cluster_add"), _form(prometheus_userinfo="no-colon"))
    assert response.status_code == 200 and "Write it as user:password." in response.content.decode()
    assert not Cluster.objects.exists()


class _RecordingPrometheus(BaseHTTPRequestHandler):
    """Answers every query with an empty vector and records what each request carried."""

    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.seen.append({"path": parts.path, "query": parse_qs(parts.query), "auth": self.headers["Authorization"]})
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recording_prometheus() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingPrometheus)
    _RecordingPrometheus.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _RecordingPrometheus.seen
    finally:
        server.shutdown()
        server.server_close()


def _query_through_source(cluster: Cluster) -> None:
    source = telemetry_source_for(cluster)
    assert isinstance(source, PrometheusSource)
    with PrometheusClient(source.prometheus_settings) as client:
        assert client.fetch_instant("up", at=1_700_000_000) == []


@pytest.mark.django_db
def test_the_stored_credentials_are_sent_when_connecting(recording_prometheus: tuple[str, Any], settings: Any) -> None:
    url, seen = recording_prometheus
    settings.PROMETHEUS_TOKEN = ""
    cluster = Cluster(name="prod")
    set_prometheus_connection(cluster, url.replace("http://", "http://mesh:p%40ss@") + "/?token=q-77")
    cluster.save()
    _query_through_source(cluster)
    assert seen[-1]["auth"] == "Basic " + base64.b64encode(b"mesh:p@ss").decode()
    assert seen[-1]["path"] == "/api/v1/query" and seen[-1]["query"]["token"] == ["q-77"]

    set_prometheus_connection(cluster, url, bearer_token=TOKEN, forget=True)
    cluster.save()
    _query_through_source(cluster)
    assert seen[-1]["auth"] == f"Bearer {TOKEN}" and "token" not in seen[-1]["query"]


@pytest.mark.django_db
def test_the_migration_encrypts_credentials_already_stored_in_urls() -> None:
    in_clear = Cluster.objects.create(name="prod", prometheus_url="http://mesh:hunter2@prom.example:9090/?token=t-1")
    plain = Cluster.objects.create(name="staging", prometheus_url="http://prom.example:9090")
    migration = import_module("inventory.migrations.0003_prometheus_credentials_encrypted")
    migration.encrypt_url_credentials(apps, SimpleNamespace(connection=connection))
    in_clear.refresh_from_db()
    assert in_clear.prometheus_url == "http://prom.example:9090/"
    assert "hunter2" not in _stored_row(in_clear) and "t-1" not in _stored_row(in_clear)
    assert read_prometheus_credentials(in_clear) == UrlCredentials(
        userinfo="mesh:hunter2", secret_query=(("token", "t-1"),)
    )
    plain.refresh_from_db()
    assert plain.prometheus_url == "http://prom.example:9090" and plain.prometheus_credentials == ""
    # Reversed, the credentials go back into the URL.
    migration.decrypt_into_urls(apps, SimpleNamespace(connection=connection))
    in_clear.refresh_from_db()
    assert in_clear.prometheus_url == "http://mesh:hunter2@prom.example:9090/?token=t-1"


@pytest.mark.django_db
def test_reencrypt_secrets_moves_stored_credentials_to_the_new_key(settings: Any) -> None:
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = "old-key-0123456789abcdef"
    cluster = Cluster(name="prod")
    set_prometheus_connection(cluster, "http://prom.example:9090", bearer_token=TOKEN)
    cluster.save()
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = "new-key-fedcba9876543210,old-key-0123456789abcdef"
    out = StringIO()
    call_command("reencrypt_secrets", stdout=out)
    assert "re-encrypted the credentials of 1 cluster(s)" in out.getvalue()
    settings.MESH_UI_FIELD_ENCRYPTION_KEY = "new-key-fedcba9876543210"
    cluster.refresh_from_db()
    assert read_prometheus_credentials(cluster).bearer_token == TOKEN
