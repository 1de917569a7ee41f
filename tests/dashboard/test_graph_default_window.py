"""The graph page opens on a 1-minute window (Kiali's default), so a routing change shows within a minute."""

from __future__ import annotations

import pytest

from tests.dashboard.factories import make_cluster, make_namespace

pytestmark = pytest.mark.django_db


def test_the_graph_page_defaults_to_one_minute(client, settings):
    make_namespace(make_cluster("east"), "bookinfo")
    html = client.get("/graph/").content.decode()
    assert 'data-default-duration="60s"' in html
    settings.MESH_UI_GRAPH_DEFAULT_WINDOW = 600
    assert 'data-default-duration="600s"' in client.get("/graph/").content.decode()
