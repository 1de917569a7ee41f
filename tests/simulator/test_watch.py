"""Watch streams through the official client: replay, live events, bookmarks, 410 expiry, timeouts."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from simulator import Simulator


def raw_events(response) -> list[dict]:
    events = [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]
    response.release_conn()
    return events


def test_watch_replays_scale_events(apps: client.AppsV1Api, core: client.CoreV1Api, sim: Simulator):
    start = str(sim.store.current_rv)
    apps.patch_namespaced_deployment("reviews-v2", "bookinfo", {"spec": {"replicas": 2}})
    apps.patch_namespaced_deployment("reviews-v2", "bookinfo", {"spec": {"replicas": 0}})
    pod_events = list(
        watch.Watch().stream(
            core.list_namespaced_pod, "bookinfo", label_selector="version=v2", resource_version=start, timeout_seconds=1
        )
    )
    types = [e["type"] for e in pod_events]
    assert types.count("ADDED") == 1 and types.count("DELETED") == 2
    assert all(isinstance(e["object"], client.V1Pod) for e in pod_events)
    deployment_events = list(
        watch.Watch().stream(
            apps.list_namespaced_deployment,
            "bookinfo",
            field_selector="metadata.name=reviews-v2",
            resource_version=start,
            timeout_seconds=1,
        )
    )
    assert {e["type"] for e in deployment_events} == {"MODIFIED"}
    assert deployment_events[-1]["object"].spec.replicas == 0


def test_watch_without_resource_version_starts_with_added(core: client.CoreV1Api):
    response = core.list_namespaced_pod("bookinfo", watch=True, timeout_seconds=1, _preload_content=False)
    events = raw_events(response)
    assert [e["type"] for e in events] == ["ADDED"] * 6
    assert all(e["object"]["metadata"]["namespace"] == "bookinfo" for e in events)


def test_live_watch_sees_added_modified_deleted(apps: client.AppsV1Api, core: client.CoreV1Api, sim: Simulator):
    seen: list[tuple[str, str]] = []
    watcher = watch.Watch()
    # The watch resumes from this version, so it sees every change made after this line, however late it connects.
    start = str(sim.store.current_rv)

    def consume() -> None:
        deployments = apps.list_deployment_for_all_namespaces
        for event in watcher.stream(deployments, timeout_seconds=30, resource_version=start):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                watcher.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    apps.create_namespaced_deployment("bookinfo", body)
    apps.patch_namespaced_deployment_scale("web", "bookinfo", {"spec": {"replicas": 3}})
    assert len(core.list_namespaced_pod("bookinfo", label_selector="app=web").items) == 3
    apps.delete_namespaced_deployment("web", "bookinfo")
    thread.join(timeout=30)
    assert not thread.is_alive()
    web = [t for t, name in seen if name == "web"]
    assert web[0] == "ADDED" and "MODIFIED" in web and web[-1] == "DELETED"
    assert core.list_namespaced_pod("bookinfo", label_selector="app=web").items == []


def test_watch_from_compacted_version_gets_410(core: client.CoreV1Api, apps: client.AppsV1Api, sim: Simulator):
    old = str(sim.store.current_rv)
    apps.patch_namespaced_deployment("details-v1", "bookinfo", {"spec": {"replicas": 2}})
    sim.store.compact()
    response = core.list_namespaced_pod(
        "bookinfo", watch=True, resource_version=old, timeout_seconds=5, _preload_content=False
    )
    assert response.status == 200
    events = raw_events(response)
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {old} (")
    with pytest.raises(ApiException) as expired:
        list(watch.Watch().stream(core.list_namespaced_pod, "bookinfo", resource_version=old, timeout_seconds=5))
    assert expired.value.status == 410
    fresh = str(sim.store.current_rv)
    assert (
        list(watch.Watch().stream(core.list_namespaced_pod, "bookinfo", resource_version=fresh, timeout_seconds=1))
        == []
    )


def test_watch_timeout_is_honoured_and_bookmarks_sent(core: client.CoreV1Api, sim: Simulator):
    began = time.monotonic()
    response = core.list_namespaced_pod(
        "bookinfo",
        watch=True,
        timeout_seconds=1,
        allow_watch_bookmarks=True,
        resource_version=str(sim.store.current_rv),
        _preload_content=False,
        _request_timeout=30,  # a server ignoring timeoutSeconds (it caps watches at 30 min) fails the read instead
    )
    events = raw_events(response)
    assert time.monotonic() - began >= 0.9  # the stream ended by its timeout, not before
    assert events and {e["type"] for e in events} == {"BOOKMARK"}
    assert events[0]["object"]["metadata"] == {"resourceVersion": str(sim.store.current_rv)}


def test_forbidden_watch_and_drop_watches(core: client.CoreV1Api, sim: Simulator):
    sim.faults.forbid("pods")
    with pytest.raises(ApiException) as forbidden:
        core.list_namespaced_pod("bookinfo", watch=True, timeout_seconds=1, _preload_content=False)
    assert forbidden.value.status == 403
    sim.faults.clear()
    response = core.list_service_for_all_namespaces(
        watch=True,
        timeout_seconds=600,
        _preload_content=False,
        _request_timeout=30,  # a watch that drop_watches missed would still be open: the read fails instead
        resource_version=str(sim.store.current_rv),
    )
    # The response has started, so the server has registered the watch: dropping now must end it.
    sim.drop_watches()
    assert raw_events(response) == []
