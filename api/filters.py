"""FilterSets of the API's lists (django-filter): cluster, namespaces, Kubernetes label selector, name, health.

Every filter is validated: a value a filter cannot read (a bad selector, an unknown health status, ``ready=maybe``)
is a ``400`` naming the parameter.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform

from api.health import HEALTH_CHOICES, HealthLookup
from api.label_selectors import LabelSelectorError, Requirement, parse_label_selector
from inventory.models import Namespace, Pod, Service, SyncStatus, Workload


class LabelSelectorFormField(forms.CharField):
    """A Kubernetes label selector, cleaned into its requirements."""

    def clean(self, value: Any) -> tuple[Requirement, ...]:
        text = super().clean(value) or ""
        try:
            return parse_label_selector(text)
        except LabelSelectorError as exc:
            # The reason quotes the input, which may hold "%": it goes in as a parameter, never as the format.
            raise forms.ValidationError("%(reason)s", code="invalid", params={"reason": str(exc)}) from exc


class LabelSelectorFilter(django_filters.Filter):
    """``labelSelector``: every requirement must hold on the row's ``labels``."""

    field_class = LabelSelectorFormField

    def filter(self, qs: QuerySet[Any], value: tuple[Requirement, ...]) -> QuerySet[Any]:
        if not value:
            return qs
        aliases, condition = label_selector_q(value, self.field_name)
        return qs.alias(**aliases).filter(condition)


def label_selector_q(requirements: tuple[Requirement, ...], field: str) -> tuple[dict[str, Any], Q]:
    """Aliases and a condition on the JSON column ``field`` matching what ``Requirement.matches`` matches."""
    aliases: dict[str, Any] = {}
    condition = Q()
    for index, requirement in enumerate(requirements):
        has_key = Q(**{f"{field}__has_key": requirement.key})
        if requirement.operator == "exists":
            condition &= has_key
            continue
        if requirement.operator == "!exists":
            condition &= ~has_key
            continue
        alias = f"_label_{index}"
        aliases[alias] = KeyTransform(requirement.key, field)
        equal = Q(**{f"{alias}__in": list(requirement.values)})
        if requirement.operator in ("=", "in"):
            condition &= has_key & equal
        else:  # != and notin also hold where the key is absent
            condition &= ~has_key | ~equal
    return aliases, condition


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of names."""


class InventoryFilterSet(django_filters.FilterSet):
    """Filters every inventory list has; ``health_kind`` names the stored health the ``health`` filter reads."""

    health_kind = ""
    health_name_field = "name"

    cluster = django_filters.CharFilter(field_name="cluster__name", help_text="Cluster name.")
    namespace = CharInFilter(field_name="namespace", help_text="Namespace, or comma-separated namespaces.")
    name = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=253, help_text="Part of the name (any case)."
    )
    labelSelector = LabelSelectorFilter(
        field_name="labels",
        max_length=4096,
        help_text="Kubernetes label selector: app=reviews,version!=v1 · env in (a,b) · env notin (a) · key · !key.",
    )

    def filter_health(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        lookup = HealthLookup(self.health_kind)
        cluster_ids = sorted(set(queryset.values_list("cluster_id", flat=True)))
        return queryset.filter(lookup.matching_q(cluster_ids, value, self.health_name_field))


def health_filter() -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        choices=[(c, c) for c in HEALTH_CHOICES],
        method="filter_health",
        help_text="Health in the latest snapshot.",
    )


class NamespaceFilterSet(InventoryFilterSet):
    health_kind = "namespaces"
    health_name_field = "namespace"

    namespace = CharInFilter(field_name="name", help_text="Namespace, or comma-separated namespaces.")
    injection = django_filters.CharFilter(help_text="Sidecar injection label: enabled, disabled or a revision.")
    health = health_filter()

    class Meta:
        model = Namespace
        fields = ["cluster", "namespace", "name", "labelSelector", "injection", "health"]


class ServiceFilterSet(InventoryFilterSet):
    health_kind = "service"

    type = django_filters.CharFilter(field_name="service_type", help_text="ClusterIP, NodePort, LoadBalancer...")
    health = health_filter()

    class Meta:
        model = Service
        fields = ["cluster", "namespace", "name", "labelSelector", "type", "health"]


class WorkloadFilterSet(InventoryFilterSet):
    health_kind = "workload"

    kind = django_filters.CharFilter(help_text="Deployment or StatefulSet.")
    app = django_filters.CharFilter(help_text="The app label.")
    version = django_filters.CharFilter(help_text="The version label.")
    health = health_filter()

    class Meta:
        model = Workload
        fields = ["cluster", "namespace", "name", "labelSelector", "kind", "app", "version", "health"]


class AppFilterSet(InventoryFilterSet):
    """Apps are grouped workloads: the filters apply to the workloads (a selector matches any of the app's)."""

    health_kind = "app"
    health_name_field = "app"

    name = django_filters.CharFilter(
        field_name="app", lookup_expr="icontains", max_length=253, help_text="Part of the app name (any case)."
    )
    health = health_filter()

    class Meta:
        model = Workload
        fields = ["cluster", "namespace", "name", "labelSelector", "health"]


class PodFilterSet(InventoryFilterSet):
    phase = django_filters.CharFilter(help_text="Pending, Running, Succeeded, Failed or Unknown.")
    ready = django_filters.BooleanFilter(help_text="Whether the pod is ready.")
    workload = django_filters.CharFilter(field_name="workload_name", help_text="Name of the owning workload.")

    class Meta:
        model = Pod
        fields = ["cluster", "namespace", "name", "labelSelector", "phase", "ready", "workload"]


class SyncStatusFilterSet(django_filters.FilterSet):
    cluster = django_filters.CharFilter(field_name="cluster__name", help_text="Cluster name.")
    kind = django_filters.CharFilter(help_text="Resource key, e.g. pods or virtualservices.")
    state = django_filters.ChoiceFilter(choices=SyncStatus.State.choices, help_text="Outcome of the last sync.")

    class Meta:
        model = SyncStatus
        fields = ["cluster", "kind", "state"]
