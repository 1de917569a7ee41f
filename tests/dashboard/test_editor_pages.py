"""The YAML editor's pages: who gets the editor on an Istio object page, the create page and its starter
documents, and the Create action on the Istio config list. The editor's behaviour in a browser is in
tests/browser/test_yaml_editor.py."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import RoleGrant
from inventory.models import Cluster
from istio_config.starter_templates import STARTER_KINDS, starter_document, starter_yaml
from tests.istio_config.validation_support import make_broken_mesh

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh() -> Cluster:
    return make_broken_mesh()


@pytest.fixture
def shop_editor(django_user_model: Any, mesh: Cluster) -> Client:
    """Edith: editor of the shop namespace of the mesh, viewer everywhere else."""
    user = django_user_model.objects.create_user("edith", "edith@example.com", "x")
    RoleGrant.objects.create(user=user, role="viewer")
    RoleGrant.objects.create(user=user, role="editor", cluster=mesh, namespace="shop")
    logged_in = Client()
    logged_in.force_login(user)
    return logged_in


def editor_config(html: str) -> dict[str, Any] | None:
    match = re.search(r'<script id="editor-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1)) if match else None


def object_url(namespace: str, kind: str, name: str) -> str:
    return reverse("dashboard:istio-object", args=[namespace, kind, name])


def test_a_viewer_gets_the_read_only_yaml_and_no_editor(client: Client, mesh: Cluster) -> None:
    html = client.get(object_url("bookinfo", "VirtualService", "reviews")).content.decode()
    assert "data-readonly-yaml" in html
    assert editor_config(html) is None
    assert 'data-editor-action="edit"' not in html
    assert "bundle/editor.js" not in html


def test_an_editor_of_the_namespace_gets_the_editor_with_the_version_it_starts_from(
    shop_editor: Client, mesh: Cluster
) -> None:
    html = shop_editor.get(object_url("shop", "Gateway", "shop-gateway")).content.decode()
    config = editor_config(html)
    assert config is not None
    assert config["mode"] == "edit"
    assert (config["cluster"], config["namespace"], config["kind"], config["name"]) == (
        "prod",
        "shop",
        "Gateway",
        "shop-gateway",
    )
    assert config["yaml"].startswith("apiVersion: networking.istio.io/v1\nkind: Gateway\n")
    assert config["urls"]["object"] == "/api/v1/istio-objects/prod/__namespace__/__kind__/__name__"
    assert config["urls"]["validate"] == "/api/v1/validate?cluster=prod"
    assert 'data-editor-action="edit"' in html and 'data-editor-action="delete"' in html
    assert re.search(r'data-csrf-token="\w+"', html)
    # Editor of shop only: bookinfo's objects stay read-only for her.
    other = shop_editor.get(object_url("bookinfo", "VirtualService", "reviews")).content.decode()
    assert editor_config(other) is None


def test_the_create_page_starts_from_the_chosen_kind_in_a_writable_namespace(
    shop_editor: Client, mesh: Cluster
) -> None:
    response = shop_editor.get(reverse("dashboard:istio-new"), {"kind": "DestinationRule", "namespace": "shop"})
    assert response.status_code == 200
    html = response.content.decode()
    config = editor_config(html)
    assert config is not None
    assert (config["mode"], config["kind"], config["namespace"]) == ("create", "DestinationRule", "shop")
    assert config["yaml"] == starter_yaml("DestinationRule", "shop")
    assert '<option value="shop" selected>' in html
    assert '<option value="bookinfo"' not in html  # hers to read, not to write
    assert '<option value="DestinationRule" selected>' in html
    # Without a namespace: the first she may write.
    config = editor_config(shop_editor.get(reverse("dashboard:istio-new")).content.decode())
    assert config is not None and config["namespace"] == "shop"


def test_the_create_page_refuses_a_namespace_the_user_may_not_write(shop_editor: Client, mesh: Cluster) -> None:
    response = shop_editor.get(reverse("dashboard:istio-new"), {"namespace": "bookinfo"})
    assert response.status_code == 403


def test_an_unknown_kind_starts_from_the_first_starter(shop_editor: Client, mesh: Cluster) -> None:
    config = editor_config(shop_editor.get(reverse("dashboard:istio-new"), {"kind": "Nonsense"}).content.decode())
    assert config is not None and config["kind"] == STARTER_KINDS[0]


def test_a_viewer_may_not_open_the_create_page_nor_sees_the_create_action(client: Client, mesh: Cluster) -> None:
    assert client.get(reverse("dashboard:istio-new")).status_code == 403
    assert 'data-action="create-istio"' not in client.get(reverse("dashboard:istio")).content.decode()


def test_an_editor_sees_the_create_action_on_the_istio_list_only(shop_editor: Client, mesh: Cluster) -> None:
    html = shop_editor.get(reverse("dashboard:istio"), {"namespace": "shop"}).content.decode()
    assert 'href="/istio/new/?namespace=shop" data-action="create-istio"' in html
    # Filtered on a namespace she may only read, the action starts in one she may write.
    html = shop_editor.get(reverse("dashboard:istio"), {"namespace": "bookinfo"}).content.decode()
    assert 'href="/istio/new/" data-action="create-istio"' in html
    assert 'data-action="create-istio"' not in shop_editor.get(reverse("dashboard:services")).content.decode()


@pytest.mark.parametrize("kind", STARTER_KINDS)
def test_every_starter_document_passes_the_schema_check(shop_editor: Client, mesh: Cluster, kind: str) -> None:
    response = shop_editor.post(
        f"{reverse('v1:validate')}?cluster=prod", starter_yaml(kind, "shop"), content_type="application/yaml"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["schemaErrors"] == []
    assert body["object"] == {
        "kind": kind,
        "namespace": "shop",
        "name": starter_document(kind, "shop")["metadata"]["name"],
    }
