"""The routing wizards of a service's page, and its "Remove routing" confirmation.

A wizard page is a plain form: **Preview** generates the objects (``istio_config.wizards``), shows their YAML, the
diff against the stored objects and the checks' findings; **Apply** writes exactly what was previewed (the
preview's digest and versions travel with the form) through ``istio_config.writes.apply_change``, DestinationRule
first, all or nothing (``istio_config.wizard_apply``): the page says whether both were written, nothing was, the
first was rolled back, or it is left applied (and why). Reading needs a role in the namespace (others get 404, as
on the service page); wizards need ``accounts.access.can_write`` (others 403), and the write service checks it
again.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from accounts import access
from dashboard.details import find_routing_objects, service_workloads
from dashboard.queries import PageQuery
from dashboard.views import page_view
from dashboard.wizard_forms import WIZARD_FORMS
from dashboard.wizard_messages import translate_message
from inventory.models import Cluster, Service
from istio_config.history import diff_lines
from istio_config.wizard_apply import WRITTEN, WritesResult, apply_writes
from istio_config.wizard_writes import (
    RoutingState,
    WizardPlan,
    findings_after_removal,
    plan_removal,
    plan_wizard,
    prepare_wizard,
)
from istio_config.wizards.inputs import check_wizard_input


def _routing_state(request: HttpRequest, cluster: Cluster | None, namespace: str, name: str) -> RoutingState:
    """The service and its routing, for an editor of its namespace (404 to a stranger to it, 403 to a reader)."""
    if cluster is None or not access.can_read(request.user, cluster, namespace):
        raise Http404(f"no service {namespace}/{name}")
    service = Service.objects.filter(cluster=cluster, namespace=namespace, name=name).first()
    if service is None:
        raise Http404(f"no service {namespace}/{name}")
    if not access.can_write(request.user, cluster, namespace):
        raise PermissionDenied(f"you may not change routing in {namespace!r}")
    versions = [w.version for w in service_workloads(cluster, service) if w.version]
    objects = find_routing_objects(cluster, [service], access.namespace_scope(request.user, cluster))
    return RoutingState(namespace, name, versions, objects)


def _posted_versions(request: HttpRequest) -> dict[str, str]:
    """The versions the preview showed (``{"Kind/name": resourceVersion}``); empty when absent or malformed."""
    try:
        found = json.loads(request.POST.get("versions", ""))
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if isinstance(v, str)}


def _outcome_rows(cluster: Cluster, result: WritesResult | None) -> list[dict[str, Any]]:
    """Each write of an apply with what became of it, its conflict diffs and its history page."""
    rows = []
    for done in result.rows if result is not None else []:
        conflict = done.outcome.conflict
        undo_conflict = done.undo.conflict if done.undo is not None else None
        ref = done.write.ref
        history = reverse("dashboard:istio-history", args=[ref.namespace, ref.kind, ref.name])
        rows.append(
            {
                "write": done.write,
                "status": done.status,
                "outcome": done.outcome,
                "undo": done.undo,
                "conflict_diff": diff_lines(conflict.diffs["theirsToMine"]) if conflict is not None else [],
                # What someone else made of the object since the wizard wrote it, against what the undo restores.
                "undo_diff": diff_lines(undo_conflict.diffs["theirsToMine"]) if undo_conflict is not None else [],
                "history_url": f"{history}?cluster={cluster.name}",
            }
        )
    return rows


def _service_url(cluster: Cluster, namespace: str, name: str) -> str:
    return f"{reverse('dashboard:service', args=[namespace, name])}?cluster={cluster.name}"


@page_view(PageQuery)
def service_wizard_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, name: str, wizard: str
) -> HttpResponse:
    """GET: the wizard's form; POST ``step=preview``: the objects, diffs and findings; ``step=apply``: write them."""
    form_class = WIZARD_FORMS.get(wizard)
    if form_class is None:
        raise Http404(f"no wizard {wizard!r}")
    state = _routing_state(request, cluster, namespace, name)
    assert cluster is not None
    prepared = prepare_wizard(state, wizard)
    form = form_class(prepared.target, request.POST if request.method == "POST" else None)
    plan: WizardPlan | None = None
    refusal = ""
    result: WritesResult | None = None
    if request.method == "POST" and form.is_valid():
        wizard_input = form.to_input()
        errors = check_wizard_input(wizard_input, prepared.target)
        if errors:
            form.show_errors(errors)
        else:
            plan = plan_wizard(cluster, state, prepared, wizard_input)
    if plan is not None and request.POST.get("step") == "apply":
        refusal = _apply_refusal(request, plan)
        if not refusal:
            result = apply_writes(
                request.user,
                cluster,
                plan.writes,
                _posted_versions(request),
                request.POST.get("accept_warnings") == "on",
            )
            if result.result == WRITTEN and len(result.rows) == len(plan.writes):
                names = ", ".join(f"{a.write.ref.kind} {a.write.ref.name}" for a in result.rows)
                text = gettext("%(wizard)s applied to %(service)s: %(objects)s")
                messages.success(request, text % {"wizard": form.title, "service": name, "objects": names})
                return redirect(_service_url(cluster, namespace, name))
    context = {
        "cluster": cluster,
        "state": state,
        "prepared": prepared,
        "blocked": translate_message(prepared.refusal) if prepared.refusal else "",
        "wizard": wizard,
        "wizards": [(key, cls.title) for key, cls in WIZARD_FORMS.items()],
        "form": form,
        "plan": plan,
        "writes": [{"write": w, "diff": diff_lines(w.diff)} for w in plan.writes] if plan else [],
        "refusal": refusal,
        "result": result.result if result is not None else "",
        "applied": _outcome_rows(cluster, result),
        "whatif": _whatif(cluster, namespace, plan),
        # The graph page's path: wizards.js adds the query (``whatIfGraphUrl`` of graph-whatif-contract.js).
        "graph_url": reverse("dashboard:graph"),
    }
    status = result.http_status if result is not None else (409 if refusal else 200)
    return render(request, "dashboard/service_wizard.html", context, status=status)


def _apply_refusal(request: HttpRequest, plan: WizardPlan) -> str:
    """Why an apply is not made (empty when it may be): refused routing, an unconfirmed replacement, an edited form."""
    if plan.prepared.refusal:
        return translate_message(plan.prepared.refusal)
    if plan.prepared.replaces_hand_written and request.POST.get("confirm_replace") != "on":
        names = ", ".join(f"{o.kind} {o.name}" for o in plan.prepared.replaces_hand_written)
        text = gettext(
            "Nothing was written: %(objects)s was written by hand. Tick the box to replace it, or leave it as it is."
        )
        return text % {"objects": names}
    if request.POST.get("digest") != plan.digest or set(_posted_versions(request)) != set(plan.versions):
        return gettext(
            "Nothing was written: the input changed since the preview. Review the preview below and apply again."
        )
    return ""


def _whatif(cluster: Cluster, namespace: str, plan: WizardPlan | None) -> dict[str, Any] | None:
    """What the "Preview on graph" button hands the graph page (its what-if contract)."""
    if plan is None:
        return None
    return {"cluster": cluster.name, "namespace": namespace, "objects": plan.documents, "source": "wizard"}


@page_view(PageQuery)
def service_routing_remove_page(
    request: HttpRequest, cluster: Cluster | None, query: dict[str, Any], namespace: str, name: str
) -> HttpResponse:
    """GET: the wizard-written objects that "Remove routing" deletes (and the hand-written ones it keeps); POST: delete
    them, each against the version the page showed."""
    state = _routing_state(request, cluster, namespace, name)
    assert cluster is not None
    writes = plan_removal(state)
    result: WritesResult | None = None
    refusal = ""
    if request.method == "POST" and set(_posted_versions(request)) != {w.key for w in writes}:
        refusal = gettext(
            "Nothing was deleted: the routing written by wizards changed since this page was shown. Review it again."
        )
    elif request.method == "POST":
        result = apply_writes(request.user, cluster, writes, _posted_versions(request), accept_warnings=False)
        if result.result == WRITTEN and result.rows and len(result.rows) == len(writes):
            messages.success(
                request, gettext("Routing written by wizards removed from %(service)s") % {"service": name}
            )
            return redirect(_service_url(cluster, namespace, name))
    context = {
        "cluster": cluster,
        "state": state,
        "writes": [{"write": w, "diff": diff_lines(w.diff)} for w in writes],
        "versions": json.dumps({w.key: w.base_version for w in writes}),
        "after_removal": findings_after_removal(cluster, state, writes),
        "result": result.result if result is not None else "",
        "applied": _outcome_rows(cluster, result),
        "refusal": refusal,
    }
    status = result.http_status if result is not None else (409 if refusal else 200)
    return render(request, "dashboard/service_routing_remove.html", context, status=status)
