"""One rule for which cluster a request is about: explicit parameter → the session's choice → the first enabled
cluster, the same for every page, the header and the API."""

from __future__ import annotations

import pytest

from inventory.clusters import ClusterChoice, UnknownClusterError, read_chosen_cluster
from tests.dashboard.factories import make_cluster, make_namespace, make_snapshot, make_workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_clusters():
    east, west = make_cluster("east"), make_cluster("west")
    for cluster in (east, west):
        make_namespace(cluster, f"{cluster.name}-ns")
        make_workload(cluster, f"{cluster.name}-ns", f"{cluster.name}-app")
    return east, west


def test_the_rule_prefers_explicit_then_remembered_then_first(two_clusters):
    east, west = two_clusters
    assert read_chosen_cluster(ClusterChoice()) == east
    assert read_chosen_cluster(ClusterChoice(remembered="west")) == west
    assert read_chosen_cluster(ClusterChoice(explicit="east", remembered="west")) == east
    assert read_chosen_cluster(ClusterChoice(remembered="gone")) == east  # a stale session falls back
    with pytest.raises(UnknownClusterError, match="'gone' is not configured"):
        read_chosen_cluster(ClusterChoice(explicit="gone", remembered="west"))


def test_a_disabled_cluster_is_never_chosen(two_clusters):
    east, west = two_clusters
    west.enabled = False
    west.save()
    assert read_chosen_cluster(ClusterChoice(remembered="west")) == east
    with pytest.raises(UnknownClusterError):
        read_chosen_cluster(ClusterChoice(explicit="west"))


def test_no_cluster_configured_is_none_not_an_error(db):
    assert read_chosen_cluster(ClusterChoice()) is None


@pytest.mark.parametrize("url", ["/", "/workloads/", "/inventory/", "/graph/"])
def test_every_page_follows_the_header_choice(client, two_clusters, url):
    client.get("/", {"cluster": "west"})  # what the header's selector sends
    html = client.get(url).content.decode()
    assert '<option value="west" selected>' in html
    assert "west-" in html and "east-" not in html


def test_the_graph_page_hands_its_script_the_chosen_cluster(client, two_clusters):
    client.get("/workloads/", {"cluster": "west"})
    html = client.get("/graph/").content.decode()
    assert 'data-cluster="west"' in html
    assert 'value="west-ns"' in html and 'value="east-ns"' not in html  # the namespace picker too


def test_the_api_default_is_the_session_choice_and_an_explicit_cluster_wins(client, two_clusters):
    east, west = two_clusters
    make_snapshot(east)
    make_snapshot(west)
    assert client.get("/api/v1/snapshots").json()["cluster"] == "east"
    client.get("/", {"cluster": "west"})
    assert client.get("/api/v1/snapshots").json()["cluster"] == "west"
    assert client.get("/api/v1/graph").json()["snapshot"]["cluster"] == "west"
    assert client.get("/api/v1/health").json()["snapshot"]["cluster"] == "west"
    assert client.get("/api/v1/snapshots", {"cluster": "east"}).json()["cluster"] == "east"
    # The API reads the choice but never changes it.
    assert client.get("/api/v1/snapshots").json()["cluster"] == "west"


def test_an_unknown_cluster_is_a_clear_400_on_pages_and_api(client, two_clusters):
    client.get("/", {"cluster": "west"})
    page = client.get("/workloads/", {"cluster": "nope"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'data-query-error="cluster"' in html and "cluster &#x27;nope&#x27; is not configured" in html
    assert '<option value="west" selected>' in html  # the header keeps the last good choice
    api = client.get("/api/v1/graph", {"cluster": "nope"})
    assert api.status_code == 400 and "'nope' is not configured" in api.json()["error"]
