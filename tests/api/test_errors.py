"""Every error under /api/ is JSON with a stable code, a message and details: never HTML, never a traceback."""

from __future__ import annotations

import pytest

from inventory.models import Cluster
from topology import reading


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"] and isinstance(body["details"], dict)
    return body


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404(client, anonymous_client):
    body = assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert "/api/v1/no-such-thing" in body["message"]
    assert_error(anonymous_client.get("/api/nothing/here"), 404, "not_found")


@pytest.mark.django_db
def test_a_wrong_method_is_a_json_405(client):
    assert_error(client.delete("/api/v1/health"), 405, "method_not_allowed")


@pytest.mark.django_db
def test_no_credentials_is_a_json_401(anonymous_client):
    response = anonymous_client.get("/api/v1/health")
    assert_error(response, 401, "not_authenticated")
    assert response.has_header("WWW-Authenticate")


@pytest.mark.django_db
def test_an_unknown_cluster_is_a_400_in_the_same_format(client):
    Cluster.objects.create(name="bookinfo")
    body = assert_error(client.get("/api/v1/snapshots", {"cluster": "nope"}), 400, "invalid")
    assert "'nope' is not configured" in body["message"]


@pytest.mark.django_db
def test_a_crash_in_a_view_is_a_json_500_without_the_traceback(client, monkeypatch, caplog):
    Cluster.objects.create(name="bookinfo")

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/mesh_ui/topology/reading.py")

    monkeypatch.setattr(reading, "snapshot_times", broken)
    response = client.get("/api/v1/snapshots")
    body = assert_error(response, 500, "server_error")
    assert "secret" not in response.content.decode() and "Traceback" not in response.content.decode()
    assert body["message"] == "internal server error"
    assert "secret internals" in caplog.text  # the log keeps what the client is not told


@pytest.mark.django_db
def test_pages_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")
