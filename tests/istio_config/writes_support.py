"""Shared pieces of the write-path tests: users with roles, a synced simulator cluster, Bookinfo objects to write."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.test import Client
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from accounts.models import RoleGrant
from inventory.models import Cluster
from inventory.sync import sync_cluster

API = "/api/v1/istio-objects"

REVIEWS_RULE = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
"""


def reviews_route(subset: str = "v1", name: str = "reviews") -> str:
    """A VirtualService sending all of reviews' traffic to one subset."""
    return f"""\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {name}
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: {subset}
"""


def sync_once(cluster: Cluster, capture: Any) -> None:
    """List every kind into the database, running what waits for the commit (the history's receiver)."""
    with capture(execute=True):
        sync_cluster(cluster.pk)


def user_with_role(django_user_model: Any, username: str, role: str, namespace: str = "") -> Client:
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw")
    RoleGrant.objects.create(user=user, role=role, namespace=namespace)
    logged_in = Client()
    logged_in.force_login(user)
    return logged_in


def create(client: Client, text: str, accept_warnings: bool = False, cluster: str = "sim") -> Any:
    body = {"cluster": cluster, "yaml": text, "acceptWarnings": accept_warnings}
    return client.post(API, json.dumps(body), content_type="application/json")


def object_url(kind: str, name: str, namespace: str = "bookinfo", suffix: str = "") -> str:
    return f"{API}/sim/{namespace}/{kind}/{name}{suffix}"


def update(client: Client, kind: str, name: str, text: str, version: str, accept_warnings: bool = False) -> Any:
    body = {"yaml": text, "resourceVersion": version, "acceptWarnings": accept_warnings}
    return client.put(object_url(kind, name), json.dumps(body), content_type="application/json")


def custom_api(simulator: Any) -> k8s.CustomObjectsApi:
    return k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(simulator.kubeconfig_path)))


def cluster_copy(simulator: Any, plural: str, name: str, namespace: str = "bookinfo") -> dict[str, Any] | None:
    """The object as the simulator holds it, read through the kubernetes client; None when it is not there."""
    try:
        found: dict[str, Any] = custom_api(simulator).get_namespaced_custom_object(
            "networking.istio.io", "v1", namespace, plural, name
        )
    except k8s.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def with_subset(text: str, subset: str) -> str:
    document = yaml.safe_load(text)
    document["spec"]["http"][0]["route"][0]["destination"]["subset"] = subset
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def synced(cluster: Cluster, django_capture_on_commit_callbacks: Any) -> Cluster:
    """The simulator's cluster with its inventory listed once."""
    sync_once(cluster, django_capture_on_commit_callbacks)
    return cluster


@pytest.fixture
def editor(django_user_model: Any) -> Client:
    """A client logged in as ``erin``, editor of the ``bookinfo`` namespace only."""
    return user_with_role(django_user_model, "erin", "editor", "bookinfo")
