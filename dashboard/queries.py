"""Query strings of the dashboard pages, parsed and validated by DRF serializers.

Every page takes ``cluster`` (the header's selector); the overview and the lists add their filters. Values the
forms never send (an unknown sort, a malformed label filter) are refused with a message instead of being ignored.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dashboard.common import HEALTH_CHOICES
from dashboard.lists import LabelFilterError, ListFilters
from istio_config.findings import STATUSES
from topology.api_params import QuerySerializer

LIST_SORTS = ("name", "namespace", "kind", "health")
OVERVIEW_SORTS = ("name", "health", "traffic")
VALIDATION_CHOICES = STATUSES  # an Istio object's validation status


class PageQuery(QuerySerializer):
    """What every page takes: the cluster to show (see ``dashboard.clusters``)."""

    cluster = serializers.CharField(required=False, allow_blank=True, max_length=253)


class NewIstioObjectQuery(PageQuery):
    """The create page's starting point: the kind whose starter document to show, and the namespace."""

    kind = serializers.CharField(required=False, allow_blank=True, default="", max_length=63)
    namespace = serializers.CharField(required=False, allow_blank=True, default="", max_length=253)


class OverviewQuery(PageQuery):
    """The overview's filters: name substring, health status, sort key."""

    name = serializers.CharField(required=False, allow_blank=True, default="")
    health = serializers.ChoiceField(choices=[*HEALTH_CHOICES], required=False, allow_blank=True, default="")
    sort = serializers.ChoiceField(choices=list(OVERVIEW_SORTS), required=False, default="name")


class ListQuery(PageQuery):
    """A list page's filters, sort and page number."""

    namespace = serializers.CharField(required=False, allow_blank=True, default="")
    name = serializers.CharField(required=False, allow_blank=True, default="")
    label = serializers.CharField(required=False, allow_blank=True, default="")  # type: ignore[assignment]  # a field, not Field.label (the metaclass pops it)
    health = serializers.ChoiceField(
        choices=[*HEALTH_CHOICES, *VALIDATION_CHOICES], required=False, allow_blank=True, default=""
    )
    kind = serializers.CharField(required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=list(STATUSES[:3]), required=False, allow_blank=True, default="")
    code = serializers.CharField(required=False, allow_blank=True, default="", max_length=16)
    sort = serializers.ChoiceField(choices=list(LIST_SORTS), required=False, default="name")
    page = serializers.IntegerField(min_value=1, required=False, default=1)

    def validate_label(self, value: str) -> str:
        try:
            ListFilters(label=value).label_selector()
        except LabelFilterError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


def filter_values(data: dict[str, Any]) -> dict[str, Any]:
    """The validated filters without the cluster (which selects, not filters)."""
    return {k: v for k, v in data.items() if k != "cluster"}
