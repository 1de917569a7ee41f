"""Admin pages for Istio objects: VirtualServices and DestinationRules with structured forms, every other Istio and
Gateway API kind with a YAML form. All of them write through the write service (``istio_config.writes``): save,
create and delete are changes to the cluster, answered with what the cluster did, never edits of the stored copy.

"Preview on graph" (VirtualServices, DestinationRules) posts the form with the ``_whatif`` button: the form builds
its document and writes nothing, and the page comes back carrying it for the graph's what-if preview
(``static/istio_config/admin-whatif.js``).

Who may do what follows role grants (:class:`IstioWriteAccess`): anyone sees the objects of the namespaces it may
read, read-only; editors and admins of a namespace change its objects. The change history (``ConfigChange``) is
shown on the dashboard's history page, not here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import csrf_protect_m
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.admin_access import CLUSTER_FILTER, NamespaceScopedView
from accounts.grants import Role
from clients.kubernetes_writes import writable_kind
from inventory.models import IstioObject
from istio_config import admin_spec
from istio_config.admin_forms import (
    IDENTITY_FIELDS,
    DestinationRuleForm,
    IstioObjectForm,
    IstioYamlForm,
    StructuredForm,
    VirtualServiceForm,
)
from istio_config.dependents import find_dependents
from istio_config.findings import STATUSES, VALID, narrow_by_findings
from istio_config.history import diff_lines
from istio_config.inventory_loader import check_kind_expression, load_config_inventory
from istio_config.models import ConfigChange, ConfigFinding, DestinationRuleObject, VirtualServiceObject
from istio_config.write_input import ObjectRef, check_kind_of
from istio_config.writes import apply_change

CHANGE_FORM = "admin/istio_config/istio_object_change_form.html"
#: The submit button that previews the form's object on the graph instead of saving it (``preview_only``).
WHATIF_BUTTON = "_whatif"
DELETE_CONFIRMATION = "admin/istio_config/istio_object_delete_confirmation.html"


def may_write_somewhere(user: Any) -> bool:
    """Whether ``user`` is an editor or admin of any namespace (it may open the add form)."""
    return any(grant.role >= Role.EDITOR for grant in access.grants_of(user))


def _finding_exists(severity: str) -> Exists:
    return Exists(
        ConfigFinding.objects.filter(
            cluster=OuterRef("cluster"),
            kind=OuterRef("check_kind"),
            namespace=OuterRef("namespace"),
            name=OuterRef("name"),
            severity=severity,
        )
    )


def with_validation(objects: QuerySet[Any]) -> QuerySet[Any]:
    """``objects`` annotated with ``check_kind`` and ``validation_rank`` (3 errors, 2 warnings, 1 infos, 0 valid)."""
    objects = objects.annotate(check_kind=check_kind_expression())
    ranks = [When(_finding_exists(level), then=Value(3 - i)) for i, level in enumerate(STATUSES[:3])]
    return objects.annotate(validation_rank=Case(*ranks, default=Value(0), output_field=IntegerField()))


class ValidationFilter(admin.SimpleListFilter):
    """The objects whose validation status (worst finding, or valid) is the one chosen."""

    title = "validation"
    parameter_name = "validation"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status, status) for status in STATUSES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        status = self.value()
        if status not in STATUSES:
            return queryset
        return narrow_by_findings(queryset, status=status)


class IstioWriteAccess(NamespaceScopedView):
    """Read the objects of readable namespaces; add, change and delete those of namespaces the user may write.

    The write service checks the namespace again on every write: these checks only decide what the pages offer.
    """

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return may_write_somewhere(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return may_write_somewhere(request.user)
        writable = writable_kind(obj.group, obj.kind) is not None
        return writable and access.can_write(request.user, obj.cluster_id, obj.namespace)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)


class IstioWriteAdmin(IstioWriteAccess, admin.ModelAdmin):
    """An Istio kind in the admin: its forms write through the write service (see the module doc)."""

    form: type[IstioObjectForm] = IstioYamlForm
    change_form_template = CHANGE_FORM
    delete_confirmation_template = DELETE_CONFIRMATION
    actions = None  # the bulk delete would only remove stored rows
    list_filter = [CLUSTER_FILTER, "namespace", ValidationFilter]
    search_fields = ["name", "namespace"]
    list_select_related = ["cluster"]
    view_fields = ["cluster", "namespace", "name", "resource_version", "validation", "yaml_view"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_validation(super().get_queryset(request))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["fields"] = []  # every field is declared on the form: none sets the row
        form = super().get_form(request, obj, change, **kwargs)
        preview = request.method == "POST" and WHATIF_BUTTON in request.POST
        return type(form.__name__, (form,), {"request": request, "preview_only": preview})

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not self.has_change_permission(request, obj):
            return [(None, {"fields": self.view_fields})]
        return self.edit_fieldsets(obj)

    def edit_fieldsets(self, obj: Any) -> list[tuple[str | None, dict[str, Any]]]:
        identity = ["target_cluster"] if obj is None else []
        return [
            (None, {"fields": identity}),
            (gettext("Object"), {"fields": ["yaml"]}),
            (gettext("Saving"), {"fields": ["accept_warnings", "rebase", "resource_version", "rebase_onto"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not self.has_change_permission(request, obj):
            return self.view_fields
        return []

    @admin.display(description=_("validation"), ordering="validation_rank")
    def validation(self, obj: Any) -> str:
        rank = getattr(obj, "validation_rank", 0) or 0
        return STATUSES[3 - rank] if rank else VALID

    @admin.display(description="YAML")
    def yaml_view(self, obj: Any) -> str:
        form = IstioYamlForm(instance=obj)
        return format_html('<pre class="istio-yaml">{}</pre>', form.initial["yaml"])

    # ---- saving goes through the write service (the form's clean did it); nothing is saved here ----

    @csrf_protect_m
    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # Not in the admin's one transaction: the write service talks to the cluster and commits its own history
        # record, which a later error in the page must not roll back while the cluster keeps the change.
        return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined]

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        # The row the write service stored, as this admin's model (a proxy's pages link to the proxy's URLs).
        return self.model._base_manager.get(pk=form.saved.pk)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        for finding in form.warnings:
            messages.warning(request, f"{finding.get('severity')}: {finding.get('path')}: {finding.get('message')}")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        form = context["adminform"].form
        context["items_forms"] = self.items_adminforms(form)
        context["items_formset"] = getattr(form, "items", None) if isinstance(form, StructuredForm) else None
        context["items_label"] = getattr(form, "items_label", "")
        context["conflict_diffs"] = [(title, diff_lines(diff)) for title, diff in getattr(form, "conflict_diffs", [])]
        if obj is not None:
            context["history_url"] = history_url(obj)
        context["whatif_button"] = WHATIF_BUTTON if isinstance(form, StructuredForm) else ""
        context["whatif"] = getattr(form, "whatif_contract", None)
        context["graph_path"] = reverse("dashboard:graph")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def items_adminforms(self, form: Any) -> list[helpers.AdminForm]:
        """The formset's forms, each as an admin form with one fieldset (for the admin's fieldset template)."""
        if not isinstance(form, StructuredForm):
            return []
        label = form.items_label
        return [
            helpers.AdminForm(
                item,  # type: ignore[arg-type]  # a plain form renders the same
                [(f"{label} {n}", {"fields": self.item_layout(item)})],
                {},
                model_admin=self,
            )
            for n, item in enumerate(form.items.forms, start=1)
        ]

    def item_layout(self, item: Any) -> list[Any]:
        return list(item.fields)

    # ---- delete: through the write service, after showing what depends on the object ----

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        ref = ObjectRef(check_kind_of(obj.group, obj.kind), obj.namespace, obj.name)
        outcome = None
        if request.method == "POST":
            version = request.POST.get("resource_version", "")
            outcome = apply_change(request.user, obj.cluster, ConfigChange.Action.DELETE, None, version, target=ref)
            if outcome.applied:
                text = gettext("%(kind)s %(namespace)s/%(name)s was deleted from %(cluster)s.")
                values = {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name, "cluster": obj.cluster}
                self.message_user(request, text % values)
                return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        conflict = outcome.conflict if outcome is not None else None
        # The version a confirmation deletes: the one the page was opened at; after a conflict, the cluster's (the
        # page shows what changed in it first).
        version = conflict.theirs_resource_version if conflict is not None else obj.resource_version
        if outcome is not None and conflict is None:
            version = request.POST.get("resource_version", version)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Delete %(kind)s %(namespace)s/%(name)s?")
            % {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name},
            "object": obj,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "ref": ref,
            "dependents": dependents_of(request.user, obj, ref),
            "resource_version": version,
            "outcome": outcome,
            "conflict_diff": diff_lines(conflict.diffs["baseToTheirs"]) if conflict is not None else [],
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.delete_confirmation_template, context)


def dependents_of(user: Any, obj: IstioObject, ref: ObjectRef) -> list[Any]:
    """What refers to ``obj`` in the namespaces ``user`` may read (``istio_config.dependents``)."""
    objects = load_config_inventory(obj.cluster).istio_objects
    target = next((o for o in objects if (o.kind, o.namespace, o.name) == (ref.kind, ref.namespace, ref.name)), None)
    if target is None:
        return []
    scope = access.namespace_scope(user, obj.cluster)
    return [d for d in find_dependents(target, objects) if scope.allows(d.namespace)]


def history_url(obj: IstioObject) -> str:
    """The dashboard's history page of ``obj``."""
    kind = check_kind_of(obj.group, obj.kind)
    url = reverse("dashboard:istio-history", args=[obj.namespace, kind, obj.name])
    return f"{url}?{urlencode({'cluster': obj.cluster.name})}"


def _spec_list(obj: Any, key: str) -> list[Any]:
    found = (obj.spec or {}).get(key)
    return found if isinstance(found, list) else []


@admin.register(VirtualServiceObject)
class VirtualServiceAdmin(IstioWriteAdmin):
    """VirtualServices: hosts, gateways and HTTP routes as fields; the rest as YAML."""

    form = VirtualServiceForm
    list_display = ("name", "namespace", "cluster", "hosts", "gateways", "route_count", "validation")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            found = found | queryset.filter(spec__hosts__icontains=search_term)
        return found, duplicates

    def edit_fieldsets(self, obj: Any) -> list[tuple[str | None, dict[str, Any]]]:
        identity = list(IDENTITY_FIELDS) if obj is None else []
        return [
            (None, {"fields": [*identity, "hosts", "gateways"]}),
            (gettext("Other fields"), {"fields": ["other"]}),
            (
                gettext("Saving"),
                {"fields": ["accept_warnings", "rebase", "resource_version", "rebase_onto", "destination_slots"]},
            ),
        ]

    def item_layout(self, item: Any) -> list[Any]:
        slots = [(f"dest{i}_host", f"dest{i}_subset", f"dest{i}_port", f"dest{i}_weight") for i in range(item.slots)]
        return [
            "name",
            "uri",
            ("headers", "query_params"),
            *slots,
            ("delay_percent", "delay_fixed"),
            ("abort_percent", "abort_status"),
            "timeout",
            ("retry_attempts", "retry_per_try_timeout", "retry_on"),
            "other",
            "DELETE",
        ]

    @admin.display(description=_("hosts"))
    def hosts(self, obj: Any) -> str:
        return ", ".join(str(h) for h in _spec_list(obj, "hosts"))

    @admin.display(description=_("gateways"))
    def gateways(self, obj: Any) -> str:
        return ", ".join(str(g) for g in _spec_list(obj, "gateways"))

    @admin.display(description=_("routes"))
    def route_count(self, obj: Any) -> int:
        return sum(len(_spec_list(obj, protocol)) for protocol in ("http", "tcp", "tls"))


@admin.register(DestinationRuleObject)
class DestinationRuleAdmin(IstioWriteAdmin):
    """DestinationRules: host, basic traffic policy and subsets as fields; the rest as YAML."""

    form = DestinationRuleForm
    list_display = ("name", "namespace", "cluster", "host", "subset_names", "validation")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            found = found | queryset.filter(spec__host__icontains=search_term)
        return found, duplicates

    def edit_fieldsets(self, obj: Any) -> list[tuple[str | None, dict[str, Any]]]:
        identity = list(IDENTITY_FIELDS) if obj is None else []
        policy = [leaf.field for leaf in admin_spec.DESTINATION_RULE_LEAVES if leaf.field != "host"]
        return [
            (None, {"fields": [*identity, "host"]}),
            (gettext("Traffic policy"), {"fields": policy}),
            (gettext("Other fields"), {"fields": ["other"]}),
            (gettext("Saving"), {"fields": ["accept_warnings", "rebase", "resource_version", "rebase_onto"]}),
        ]

    def item_layout(self, item: Any) -> list[Any]:
        return ["name", "labels", "other", "DELETE"]

    @admin.display(description=_("host"))
    def host(self, obj: Any) -> str:
        return str((obj.spec or {}).get("host", ""))

    @admin.display(description="subsets")
    def subset_names(self, obj: Any) -> str:
        return ", ".join(str(s.get("name", "")) for s in _spec_list(obj, "subsets") if isinstance(s, dict))


@admin.register(IstioObject)
class IstioObjectAdmin(IstioWriteAdmin):
    """Every Istio and Gateway API object, as YAML (VirtualServices and DestinationRules also have their own forms)."""

    list_display = ("name", "kind", "group", "namespace", "cluster", "version", "resource_version", "validation")
    list_filter = [CLUSTER_FILTER, "group", "kind", "namespace", ValidationFilter]


__all__ = ["DestinationRuleAdmin", "IstioObjectAdmin", "VirtualServiceAdmin", "dependents_of", "history_url"]
