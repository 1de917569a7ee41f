"""Read side of the list pages (applications, workloads, services, Istio config): server-side filtering,
sorting and pagination, with health from the latest snapshot and the stored findings of Istio objects.

Filtering by namespace, name and label and sorting by name are done by the database, and only the rows of the
page get their health attached. Health is not in the database, so filtering or sorting by it reads the filtered
rows' few columns and pages in Python; a mesh of thousands of objects stays well under a second. Istio objects are
filtered by their findings (validation status, severity, code) in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTransform

from accounts.access import NamespaceScope, scope_filter
from dashboard.common import PAGE_SIZE, health_rank, latest_snapshot_part
from inventory.models import Cluster, IstioObject, Service, Workload
from istio_config.findings import (
    STATUSES,
    SeverityCounts,
    codes_found,
    count_by_object,
    findings_in,
    narrow_by_findings,
)
from istio_config.inventory_loader import check_kind_expression

LIST_KINDS = ("applications", "workloads", "services", "istio")
NO_HEALTH = "No health information"


class LabelFilterError(ValueError):
    """A label filter that is not ``key`` or ``key=value``."""


@dataclass(frozen=True)
class ListFilters:
    """A list page's filters (validated by ``dashboard.queries.ListQuery``)."""

    namespace: str = ""
    name: str = ""
    label: str = ""
    health: str = ""
    kind: str = ""
    severity: str = ""
    code: str = ""
    sort: str = "name"
    page: int = 1

    def label_selector(self) -> tuple[str, str | None] | None:
        """``(key, value)`` of ``key=value``, ``(key, None)`` for a bare key, None without a label filter."""
        if not self.label:
            return None
        key, sep, value = self.label.partition("=")
        key, value = key.strip(), value.strip()
        if not key or any(c.isspace() for c in key):
            raise LabelFilterError("label filter must be key=value or key")
        return key, (value if sep else None)

    def query_string(self, **changes: str | int) -> str:
        """The filters as a query string (empty values left out), with ``changes`` applied."""
        values = {**self.__dict__, **changes}
        defaults: dict[str, str | int] = {"page": 1, "sort": "name"}
        return urlencode({k: v for k, v in values.items() if v and defaults.get(k) != v})

    def with_sort(self, sort: str) -> str:
        return self.query_string(sort=sort, page=1)


@dataclass
class ListRow:
    """One table row: the object (a model or an aggregated dict), its health, and for Istio objects the counts of
    their findings by severity."""

    obj: Any
    namespace: str
    name: str
    health: dict[str, Any] = field(default_factory=dict)
    validation: SeverityCounts | None = None

    @property
    def status(self) -> str:
        if self.validation is not None:
            return self.validation.status
        return str(self.health.get("status") or NO_HEALTH)


@dataclass(frozen=True)
class PageLink:
    label: str
    query: str
    current: bool = False
    gap: bool = False


@dataclass
class ListPage:
    """Everything a list template needs."""

    kind: str
    filters: ListFilters
    page: Page[Any]
    rows: list[ListRow]
    namespaces: list[str]
    statuses: list[str]
    kinds: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def page_links(self) -> list[PageLink]:
        """Previous, first, a few pages around the current one, last, next."""
        number, last = self.page.number, self.page.paginator.num_pages
        if last <= 1:
            return []

        def link(label: str, target: int) -> PageLink:
            return PageLink(label, self.filters.query_string(page=target), current=target == number)

        links = [link("Previous", number - 1)] if number > 1 else []
        shown = sorted({1, last, *range(max(1, number - 2), min(last, number + 2) + 1)})
        previous = 0
        for target in shown:
            if target - previous > 1:
                links.append(PageLink("…", "", gap=True))
            links.append(link(str(target), target))
            previous = target
        if number < last:
            links.append(link("Next", number + 1))
        return links


def _label_q(selector: tuple[str, str | None], fields: Sequence[str]) -> tuple[dict[str, Any], Q]:
    """Annotations and a condition matching rows whose label ``key`` (in any of ``fields``) has ``value``."""
    key, value = selector
    annotations: dict[str, Any] = {}
    condition = Q()
    for index, json_field in enumerate(fields):
        if value is None:
            condition |= Q(**{f"{json_field}__has_key": key})
        else:
            alias = f"_label_{index}"
            annotations[alias] = KeyTransform(key, json_field)
            condition |= Q(**{alias: value})
    return annotations, condition


def _narrow(
    queryset: QuerySet[Any], filters: ListFilters, name_field: str, label_fields: Sequence[str]
) -> QuerySet[Any]:
    if filters.namespace:
        queryset = queryset.filter(namespace=filters.namespace)
    if filters.name:
        queryset = queryset.filter(**{f"{name_field}__icontains": filters.name})
    selector = filters.label_selector()
    if selector is not None:
        annotations, condition = _label_q(selector, label_fields)
        queryset = queryset.alias(**annotations).filter(condition)
    return queryset


def _sort_key(sort: str) -> Callable[[ListRow], Any]:
    if sort == "health":
        return lambda r: (
            -health_rank(r.status) if r.validation is None else -r.validation.rank,
            r.namespace,
            r.name,
        )
    if sort == "namespace":
        return lambda r: (r.namespace, r.name)
    if sort == "kind":
        return lambda r: (getattr(r.obj, "check_kind", ""), r.namespace, r.name)
    return lambda r: (r.name, r.namespace)


def _paginate(
    filters: ListFilters,
    queryset: QuerySet[Any],
    db_order: dict[str, list[str]],
    to_row: Callable[[Any], ListRow],
    decorate: Callable[[ListRow], None],
) -> tuple[Page[Any], list[ListRow]]:
    """Page the rows: by the database when it can sort and filter everything, else in Python."""
    if filters.sort in db_order and not filters.health:
        page = Paginator(queryset.order_by(*db_order[filters.sort]), PAGE_SIZE).get_page(filters.page)
        rows = [to_row(obj) for obj in page.object_list]
        for row in rows:
            decorate(row)
        return page, rows
    rows = [to_row(obj) for obj in queryset]
    for row in rows:
        decorate(row)
    if filters.health:
        rows = [r for r in rows if r.status == filters.health]
    rows.sort(key=_sort_key(filters.sort))
    page = Paginator(rows, PAGE_SIZE).get_page(filters.page)
    return page, list(page.object_list)


def _namespaces(queryset: QuerySet[Any]) -> list[str]:
    return sorted(set(queryset.values_list("namespace", flat=True).distinct()))


def _health_decorator(health: dict[str, Any]) -> Callable[[ListRow], None]:
    def decorate(row: ListRow) -> None:
        row.health = health.get(f"{row.namespace}/{row.name}") or {}

    return decorate


HEALTH_STATUSES = ["Failure", "Degraded", "Not Ready", "Healthy", NO_HEALTH]


def _load_object_list(
    kind: str, base: QuerySet[Any], filters: ListFilters, label_fields: list[str], cluster: Cluster
) -> ListPage:
    """A list of one stored kind (one row per object) with health from the latest snapshot."""
    queryset = _narrow(base, filters, "name", label_fields)
    _, health = latest_snapshot_part(cluster, "health", kind)
    db_order = {"name": ["name", "namespace"], "namespace": ["namespace", "name"]}
    page, rows = _paginate(
        filters,
        queryset,
        db_order,
        lambda obj: ListRow(obj=obj, namespace=obj.namespace, name=obj.name),
        _health_decorator(health),
    )
    return ListPage(f"{kind}s", filters, page, rows, _namespaces(base), HEALTH_STATUSES)


def load_workload_list(cluster: Cluster, filters: ListFilters, scope: NamespaceScope) -> ListPage:
    base = Workload.objects.filter(scope_filter(scope), cluster=cluster)
    return _load_object_list("workload", base, filters, ["labels", "template_labels"], cluster)


def load_service_list(cluster: Cluster, filters: ListFilters, scope: NamespaceScope) -> ListPage:
    base = Service.objects.filter(scope_filter(scope), cluster=cluster)
    return _load_object_list("service", base, filters, ["labels"], cluster)


def load_application_list(cluster: Cluster, filters: ListFilters, scope: NamespaceScope) -> ListPage:
    """Applications are the ``app`` labels of the workloads, per namespace, with summed replica counts."""
    base = Workload.objects.filter(scope_filter(scope), cluster=cluster).exclude(app="")
    queryset = (
        _narrow(base, filters, "app", ["labels", "template_labels"])
        .values("namespace", "app")
        .annotate(
            workload_count=Count("id"),
            desired=Sum("desired_replicas"),
            ready=Sum("ready_replicas"),
            missing_sidecars=Count("id", filter=Q(sidecar_present=False)),
        )
    )
    _, health = latest_snapshot_part(cluster, "health", "app")
    db_order = {"name": ["app", "namespace"], "namespace": ["namespace", "app"]}
    page, rows = _paginate(
        filters,
        queryset,
        db_order,
        lambda a: ListRow(obj=a, namespace=a["namespace"], name=a["app"]),
        _health_decorator(health),
    )
    return ListPage("applications", filters, page, rows, _namespaces(base), HEALTH_STATUSES)


def load_istio_list(cluster: Cluster, filters: ListFilters, scope: NamespaceScope) -> ListPage:
    """Istio configuration objects with the counts of their findings; ``health`` filters on the validation status
    (the worst severity found, or ``valid``), ``severity`` and ``code`` on the findings an object has."""
    readable = scope_filter(scope)
    base = IstioObject.objects.filter(readable, cluster=cluster).annotate(check_kind=check_kind_expression())
    queryset = _narrow(base, filters, "name", ["labels"])
    if filters.kind:
        queryset = queryset.filter(check_kind=filters.kind)
    queryset = narrow_by_findings(queryset, filters.severity, filters.code, filters.health)
    counts = count_by_object(findings_in(cluster, readable))

    def decorate(row: ListRow) -> None:
        row.validation = counts.get((row.obj.check_kind, row.namespace, row.name)) or SeverityCounts()

    db_order = {"name": ["name", "namespace", "kind"], "namespace": ["namespace", "kind", "name"]}
    db_order["kind"] = ["check_kind", "namespace", "name"]
    # The status filter is done: only sorting by it is left to Python.
    page, rows = _paginate(
        replace(filters, health=""),
        queryset,
        db_order,
        lambda o: ListRow(obj=o, namespace=o.namespace, name=o.name),
        decorate,
    )
    kinds = sorted(set(base.values_list("check_kind", flat=True).distinct()))
    codes = codes_found(findings_in(cluster, readable))
    return ListPage("istio", filters, page, rows, _namespaces(base), list(STATUSES), kinds=kinds, codes=codes)


LIST_LOADERS: dict[str, Callable[[Cluster, ListFilters, NamespaceScope], ListPage]] = {
    "applications": load_application_list,
    "workloads": load_workload_list,
    "services": load_service_list,
    "istio": load_istio_list,
}


def load_list_page(kind: str, cluster: Cluster | None, filters: ListFilters, scope: NamespaceScope) -> ListPage | None:
    """The list of ``kind`` in the namespaces of ``scope`` (None without a cluster); ``filters`` were validated by
    ``dashboard.queries.ListQuery``."""
    if cluster is None:
        return None
    return LIST_LOADERS[kind](cluster, filters, scope)
