"""Shared pieces of the admin form tests: the admin URLs of an Istio object and what a browser would post back."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from inventory.models import IstioObject

VS_ADMIN = "istio_config_virtualserviceobject"
DR_ADMIN = "istio_config_destinationruleobject"
YAML_ADMIN = "inventory_istioobject"


def change_url(admin_name: str, obj: IstioObject) -> str:
    return reverse(f"admin:{admin_name}_change", args=[obj.pk])


def stored(kind: str, name: str, namespace: str = "bookinfo") -> IstioObject:
    return IstioObject.objects.get(kind=kind, name=name, namespace=namespace)


def _field_data(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form[name].value())
        key = form.add_prefix(name)
        if value is False or value is None:
            continue
        data[key] = "on" if value is True else value
    return data


def posted_data(form: Any) -> dict[str, Any]:
    """What the browser posts for ``form`` (an admin change form, with the formset it owns) as shown."""
    data = _field_data(form)
    items = getattr(form, "items", None)
    if items is not None:
        data.update(_field_data(items.management_form))
        for item in items.forms:
            data.update(_field_data(item))
    return data


def open_form(client: Client, url: str) -> tuple[Any, dict[str, Any]]:
    """GET an admin change (or add) page: its form and the data a browser would post back unchanged."""
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    form = response.context["adminform"].form
    return form, posted_data(form)


def save(client: Client, url: str, data: dict[str, Any]) -> Any:
    """POST the form; a redirect means saved, otherwise the page with its errors."""
    return client.post(url, data)


def page_form(response: Any) -> Any:
    assert response.status_code == 200, f"expected the form again, got {response.status_code}"
    return response.context["adminform"].form
