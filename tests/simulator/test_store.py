"""Store, selectors, controller and synthetic cluster without HTTP."""

from __future__ import annotations

import pytest

from simulator.controller import Controller
from simulator.errors import BadRequest, Conflict, Expired
from simulator.selectors import parse_label_selector
from simulator.store import ObjectStore
from simulator.synthetic import populate_synthetic


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app", True),
        ("!app", False),
        ("app in (api, web)", True),
        ("app notin (web)", False),
        ("tier", False),
        ("!tier", True),
        ("app=web,version in (v1,v2)", True),
        ("app=web,version=v3", False),
        ("", True),
    ],
)
def test_label_selectors(selector: str, expected: bool):
    assert parse_label_selector(selector)({"app": "web", "version": "v2"}) is expected


def test_bad_label_selector_is_bad_request():
    with pytest.raises(BadRequest):
        parse_label_selector("a in (b")


def test_versions_events_and_compaction():
    store = ObjectStore(event_log_size=3)
    first = store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    assert first["metadata"]["resourceVersion"] == "1"
    generated = store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"generateName": "gen-"}})
    assert generated["metadata"]["name"].startswith("gen-")
    assert store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dry"}}, dry_run=True)
    assert store.find("", "namespaces", None, "dry") is None
    first["metadata"]["labels"] = {"x": "1"}
    store.update(first)
    with pytest.raises(Conflict):
        store.update(first)
    assert store.update(store.get("", "namespaces", None, "a"))["metadata"]["resourceVersion"] == "3"
    store.delete("", "namespaces", None, "a")
    assert [e.type for e in store.events_since(1)] == ["ADDED", "MODIFIED", "DELETED"]
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}})
    with pytest.raises(Expired):
        store.events_since(1)
    store.compact()
    with pytest.raises(Expired):
        store.events_since(store.current_rv - 1)
    assert store.events_since(store.current_rv) == []


def test_synthetic_cluster_is_already_converged():
    store = ObjectStore()
    count = populate_synthetic(store, namespaces=5, services=10, pods=53, seed=3)
    pods = store.list("", "pods")
    assert len(pods) == 53 and len(store.list("", "services")) == 10 and len(store.list("", "namespaces")) == 5
    assert count == 5 + 10 * 4 + 53
    assert all(len(p["spec"]["containers"]) == 2 for p in pods)
    deployment = store.list("apps", "deployments")[0]
    assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"]
    before = store.current_rv
    Controller(store).reconcile()
    assert store.current_rv == before


def test_statefulset_pods_are_ordinal():
    store = ObjectStore()
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "db"}})
    store.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "pg", "namespace": "db"},
            "spec": {
                "replicas": 2,
                "serviceName": "pg",
                "selector": {"matchLabels": {"app": "pg"}},
                "template": {
                    "metadata": {"labels": {"app": "pg"}},
                    "spec": {"containers": [{"name": "pg", "image": "postgres"}]},
                },
            },
        }
    )
    controller = Controller(store)
    controller.reconcile()
    assert [p["metadata"]["name"] for p in store.list("", "pods", "db")] == ["pg-0", "pg-1"]
    sts = store.get("apps", "statefulsets", "db", "pg")
    assert sts["status"]["readyReplicas"] == 2
    sts["spec"]["replicas"] = 1
    store.update(sts)
    controller.reconcile(["db"])
    assert [p["metadata"]["name"] for p in store.list("", "pods", "db")] == ["pg-0"]
