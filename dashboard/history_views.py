"""The history page of an Istio object (newest change first, with diffs) and the rollback confirmation, which
restores an earlier version through the write service (``istio_config.writes.rollback_change``).

Reading needs a role in the namespace (others get 404, as on the object page); rolling back needs
``accounts.access.can_write``, and the service checks it again. No script: the confirmation is a page of its own,
and its form is a plain POST with the CSRF token.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from accounts import access
from dashboard.queries import PageQuery
from dashboard.views import page_view
from inventory.models import Cluster
from istio_config.history import diff_lines, history_of, yaml_at_version
from istio_config.models import ConfigChange
from istio_config.objects import load_object_detail
from istio_config.write_input import ObjectRef, unified_diff
from istio_config.writes import rollback_change


def _readable_ref(request: HttpRequest, cluster: Cluster | None, namespace: str, kind: str, name: str) -> Cluster:
    if cluster is None or not access.can_read(request.user, cluster, namespace):
        raise Http404(f"no {kind} {namespace}/{name}")
    return cluster


@page_view(PageQuery)
def istio_history_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, kind: str, name: str
) -> HttpResponse:
    """Every recorded change of one object, newest first; editors get a rollback link on restorable versions."""
    found = _readable_ref(request, cluster, namespace, kind, name)
    changes = list(history_of(found, ObjectRef(kind, namespace, name)))
    rows = [{"change": c, "diff": diff_lines(c.diff)} for c in changes]
    context = {
        "cluster": found,
        "ref": ObjectRef(kind, namespace, name),
        "rows": rows,
        "exists": load_object_detail(found, namespace, kind, name) is not None,
        "can_write": access.can_write(request.user, found, namespace),
    }
    return render(request, "dashboard/istio_history.html", context)


@page_view(PageQuery)
def istio_rollback_page(
    request: HttpRequest,
    cluster: Cluster | None,
    query: dict[str, Any],
    namespace: str,
    kind: str,
    name: str,
    change_id: int,
) -> HttpResponse:
    """GET: what rolling back to change ``change_id``'s version would change; POST: do it (editors only)."""
    found = _readable_ref(request, cluster, namespace, kind, name)
    ref = ObjectRef(kind, namespace, name)
    change: ConfigChange | None = history_of(found, ref).filter(pk=change_id).first()
    if change is None or not change.restorable_yaml:
        raise Http404(f"no version to restore in change {change_id}")
    if not access.can_write(request.user, found, namespace):
        raise PermissionDenied(f"you may not change objects in {namespace!r}")
    current = load_object_detail(found, namespace, kind, name)
    context: dict[str, Any] = {"cluster": found, "ref": ref, "change": change, "outcome": None}
    if request.method == "POST":
        outcome = rollback_change(
            request.user,
            found,
            ref,
            change.pk,
            request.POST.get("resource_version", ""),
            request.POST.get("accept_warnings") == "on",
        )
        if outcome.applied:
            messages.success(request, outcome.change.message if outcome.change else gettext("rolled back"))
            history = reverse("dashboard:istio-history", args=[namespace, kind, name])
            return redirect(f"{history}?cluster={found.name}")
        context["outcome"] = outcome
        if outcome.conflict is not None:
            context["conflict_diff"] = diff_lines(outcome.conflict.diffs["theirsToMine"])
        current = load_object_detail(found, namespace, kind, name)
    context["resource_version"] = current.metadata.get("resourceVersion", "") if current is not None else ""
    context["diff"] = diff_lines(unified_diff(_current_yaml(found, ref), change.restorable_yaml, "current", "restored"))
    status = context["outcome"].http_status if context["outcome"] is not None else 200
    return render(request, "dashboard/istio_rollback.html", context, status=status)


def _current_yaml(cluster: Cluster, ref: ObjectRef) -> str:
    current = load_object_detail(cluster, ref.namespace, ref.kind, ref.name)
    if current is None:
        return ""
    return yaml_at_version(cluster, ref, str(current.metadata.get("resourceVersion", ""))) or ""
