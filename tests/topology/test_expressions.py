"""Pure tests of the server side of the graph page's hide expressions, and of removing what they match."""

from __future__ import annotations

import pytest

from tests.topology.bookinfo import bookinfo_requests
from topology.graph import GraphInputs, GraphOptions, MeshContext, WorkloadInfo, build_graph
from topology.graph.expressions import (
    ExpressionError,
    UnsupportedTermError,
    display_name,
    is_server_evaluable,
    parse_hide_expression,
    unsupported_terms,
)
from topology.graph.filtering import hide_elements

APP_V1 = {"id": "a1", "nodeType": "app", "namespace": "bookinfo", "cluster": "east", "app": "reviews", "version": "v1"}
RATINGS = {"id": "a2", "nodeType": "app", "namespace": "bookinfo", "app": "ratings", "version": "v1"}
SERVICE = {"id": "s1", "nodeType": "service", "namespace": "bookinfo", "service": "ratings", "healthStatus": "Healthy"}
WORKLOAD = {"id": "w1", "nodeType": "workload", "namespace": "shop", "workload": "cart-v2", "app": "cart"}
UNKNOWN = {"id": "u1", "nodeType": "unknown", "namespace": "unknown"}
IDLE = {"id": "i1", "nodeType": "app", "namespace": "bookinfo", "app": "reviews", "version": "v9", "isIdle": True}
FAILING = {"id": "f1", "nodeType": "app", "app": "reviews", "version": "v2", "healthStatus": "Failure"}
APP_BOX = {"id": "b1", "nodeType": "box", "isBox": "app", "app": "reviews", "namespace": "bookinfo"}
NS_BOX = {"id": "b2", "nodeType": "box", "isBox": "namespace", "namespace": "bookinfo"}
EDGE = {"id": "e1", "source": "a1", "target": "a2", "healthStatus": "Healthy", "isMTLS": "100"}


def matches(text, *nodes):
    hide = parse_hide_expression(text)
    return [n["id"] for n in nodes if hide(n)]


def test_label_terms_match_globs_case_insensitively_and_services_by_name():
    assert matches("label:app=ratings", APP_V1, RATINGS, SERVICE, WORKLOAD) == ["a2", "s1"]
    assert matches("label:app=REV*", APP_V1, RATINGS, IDLE, APP_BOX) == ["a1", "i1", "b1"]
    assert matches("label:version!=v1", APP_V1, RATINGS, IDLE) == ["i1"]
    assert matches("label:namespace=shop", APP_V1, WORKLOAD) == ["w1"]
    assert matches("label:cluster=east", APP_V1, RATINGS) == ["a1"]
    assert matches("label:workload = cart-*", WORKLOAD, APP_V1) == ["w1"]
    # Glob characters other than * are literal.
    assert matches("label:app=rev.ews", APP_V1) == []


def test_name_matches_the_displayed_name():
    assert display_name(SERVICE) == "ratings" and display_name(UNKNOWN) == "unknown"
    assert display_name(APP_BOX) == "reviews" and display_name(NS_BOX) == "bookinfo"
    assert display_name({"nodeType": "workload", "app": "cart"}) == "cart"
    assert matches("name=ratings", RATINGS, SERVICE, APP_V1) == ["a2", "s1"]
    assert matches("name!=r*", RATINGS, WORKLOAD, UNKNOWN) == ["w1", "u1"]


def test_node_health_and_idle_terms():
    every = (APP_V1, SERVICE, WORKLOAD, UNKNOWN, IDLE, FAILING, APP_BOX)
    assert matches("node=service", *every) == ["s1"]
    assert matches("NODE != app", *every) == ["s1", "w1", "u1", "b1"]
    assert matches("node=box", *every) == ["b1"]
    assert matches("healthy", *every) == ["s1"]
    assert matches("!healthy", *every) == ["f1"]
    assert matches("idle", *every) == ["i1"]
    assert matches("!idle", APP_V1, IDLE) == ["a1"]


def test_terms_apply_to_edges_as_on_the_page():
    assert parse_hide_expression("healthy")(EDGE, False)
    assert not parse_hide_expression("label:app=*")(EDGE, False)
    assert not parse_hide_expression("!idle")(EDGE, False)


def test_and_binds_tighter_than_or():
    text = "label:app=reviews AND label:version=v1 OR node=service"
    assert matches(text, APP_V1, IDLE, SERVICE, RATINGS) == ["a1", "s1"]
    assert matches("node=app && label:app=ratings || idle", APP_V1, RATINGS, IDLE) == ["a2", "i1"]
    assert matches("label:app=reviews and !idle", APP_V1, IDLE) == ["a1"]  # keywords in any case


def test_errors_read_as_on_the_page():
    with pytest.raises(ExpressionError, match='unknown label "colour": use app, version, workload'):
        parse_hide_expression("label:colour=red")
    with pytest.raises(ExpressionError, match='unknown node type "pod": use app, workload, service, unknown, box'):
        parse_hide_expression("node=pod")
    with pytest.raises(ExpressionError, match=r'cannot read "latency >> 5": try rt > 500'):
        parse_hide_expression("latency >> 5")
    with pytest.raises(ExpressionError, match=r"empty term \(check AND / OR\)"):
        parse_hide_expression("healthy AND ")
    with pytest.raises(ExpressionError, match="empty expression"):
        parse_hide_expression("  ")


def test_metric_and_mtls_terms_are_refused_naming_the_term():
    assert unsupported_terms("label:app=x OR rt > 500 AND mtls") == ["rt > 500", "mtls"]
    with pytest.raises(UnsupportedTermError, match='cannot evaluate "%error>5" on the server'):
        parse_hide_expression("healthy OR %error>5")
    for text in ("rt > 5", "rps<1", "!mtls", "label:app=a AND rps >= 2"):
        assert not is_server_evaluable(text), text
    for text in ("label:app=ratings", "name=r* OR node=unknown", "!healthy AND !idle"):
        assert is_server_evaluable(text), text
    assert not is_server_evaluable("") and not is_server_evaluable("node=pod")


def _bookinfo(graph_type="versionedApp", idle=()):
    mesh = MeshContext(workloads=[WorkloadInfo(namespace=ns, name=name) for ns, name in idle])
    options = GraphOptions(
        graph_type=graph_type,
        namespaces=frozenset({"bookinfo", "istio-system"}),
        include_idle=True,
        box_by=frozenset({"cluster", "namespace", "app"}),
        id_style="readable",
    )
    return build_graph(GraphInputs(requests=bookinfo_requests(), mesh=mesh), options, 1000, 60)


def _check_consistent(graph):
    ids = {n["data"]["id"] for n in graph["elements"]["nodes"]}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in graph["elements"]["edges"])
    parents = {n["data"].get("parent") for n in graph["elements"]["nodes"]} - {None}
    assert parents <= ids
    boxes = {n["data"]["id"] for n in graph["elements"]["nodes"] if n["data"].get("isBox")}
    assert boxes <= parents  # no empty box


def test_hiding_removes_matched_nodes_their_edges_and_empty_boxes():
    graph = _bookinfo()
    hidden = hide_elements(graph, parse_hide_expression("label:app=ratings"))
    _check_consistent(hidden)
    names = {display_name(n["data"]) for n in hidden["elements"]["nodes"]}
    assert "ratings" not in names and {"reviews", "productpage", "details"} <= names
    before, after = len(graph["elements"]["edges"]), len(hidden["elements"]["edges"])
    assert after < before
    assert hidden["graphType"] == graph["graphType"]
    # Nothing matched: nothing changes.
    same = hide_elements(graph, parse_hide_expression("node=unknown AND healthy"))
    assert same["elements"] == graph["elements"]


def test_hiding_a_box_hides_its_members_and_hiding_all_members_hides_the_box():
    graph = _bookinfo()
    hidden = hide_elements(graph, parse_hide_expression("label:namespace=istio-system"))
    _check_consistent(hidden)
    assert not any(n["data"].get("namespace") == "istio-system" for n in hidden["elements"]["nodes"])
    # Every non-box node of app reviews: the reviews app box goes as well.
    hidden = hide_elements(graph, parse_hide_expression("label:app=reviews AND node!=box"))
    _check_consistent(hidden)
    assert not any(n["data"].get("app") == "reviews" for n in hidden["elements"]["nodes"])


def test_hiding_idle_nodes():
    graph = _bookinfo("workload", idle=[("bookinfo", "reviews-v9")])
    assert any(n["data"].get("isIdle") for n in graph["elements"]["nodes"])
    hidden = hide_elements(graph, parse_hide_expression("idle"))
    _check_consistent(hidden)
    assert not any(n["data"].get("isIdle") for n in hidden["elements"]["nodes"])
