"""The admin's forms for Istio objects: structured VirtualService and DestinationRule forms, and a YAML form for
every other kind. Each writes through the write service (``istio_config.writes.apply_change``), never to the
database: the stored row is updated from what the cluster answered.

A structured form shows some fields of the spec and keeps the rest in a YAML field (``admin_spec`` splits and joins
them), so a save never drops what the form does not model. The list parts of a spec — a VirtualService's HTTP routes,
a DestinationRule's subsets — are formsets the main form owns and renders. Saving happens in ``clean``: a refusal of
the write service becomes errors on the fields its paths name (``spec.http[0].route[1].weight`` on the second
destination's weight of the first route), warnings can be accepted, and a conflict keeps the three diffs for the page
and offers to rebase (save these values over the cluster's version). "Preview on graph" (``preview_only``) builds the
same document and writes nothing: the page hands it to the graph's what-if preview (docs/whatif.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.forms import formset_factory
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts import access
from inventory.models import Cluster, IstioObject
from istio_config import admin_spec
from istio_config.admin_fields import StringListField, YamlMappingField, optional_int, optional_text
from istio_config.admin_item_forms import OTHER_HELP, ItemForm, SubsetForm, http_route_form
from istio_config.admin_spec import OTHER, Leaf
from istio_config.models import ConfigChange
from istio_config.write_input import ObjectRef, check_kind_of, config_yaml
from istio_config.writes import Conflict, WriteOutcome, apply_change

ISTIO_NETWORKING = "networking.istio.io"
#: The most destinations a route form offers (a page from a tampered request must not grow without bound).
MAX_DESTINATION_SLOTS = 50
#: The fields naming the object a create makes (a change names it by the row it was opened from).
IDENTITY_FIELDS = ("target_cluster", "target_namespace", "target_name")


class IstioObjectForm(forms.ModelForm):
    """The write-service plumbing every Istio form shares: which object, from which version, what happened.

    ``request`` is set by the admin (``IstioWriteAdmin.get_form``). Subclasses say how the object's document is
    built (:meth:`document`) and how the initial values come from a stored row (:meth:`initial_of`).
    """

    request: ClassVar[Any] = None
    group: ClassVar[str] = ISTIO_NETWORKING
    kind: ClassVar[str] = ""
    #: "Preview on graph" (the admin sets it for a post of the ``_whatif`` button): build the document, write
    #: nothing, record nothing; the page comes back with :attr:`whatif_contract` for the graph's what-if preview.
    preview_only: ClassVar[bool] = False

    # Not named like the model's fields: the form never sets the row, the write service does.
    target_cluster = forms.ModelChoiceField(queryset=Cluster.objects.none(), required=False, label=_("Cluster"))
    target_namespace = optional_text(max_length=63, label=_("Namespace"))
    target_name = optional_text(max_length=253, label=_("Name"))
    resource_version = forms.CharField(required=False, widget=forms.HiddenInput)
    rebase_onto = forms.CharField(required=False, widget=forms.HiddenInput)
    accept_warnings = forms.BooleanField(
        required=False, label=_("Save even if the checks find warnings"), help_text=_("Errors always block a save.")
    )
    rebase = forms.BooleanField(
        required=False,
        label=_("Rebase: save my values over the cluster's current version"),
        help_text=_("Only after a conflict: compare the versions below first."),
    )

    class Meta:
        model = IstioObject
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        self.adding = instance is None or instance.pk is None
        if instance is not None and not self.adding and not args and "data" not in kwargs:
            kwargs["initial"] = {**self.initial_of(instance), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if self.adding:
            cluster_field = self.fields["target_cluster"]
            assert isinstance(cluster_field, forms.ModelChoiceField)
            cluster_field.queryset = access.visible_clusters(user)
            for required in IDENTITY_FIELDS:
                self.fields[required].required = True
        else:
            for identity in IDENTITY_FIELDS:
                del self.fields[identity]
        if not (self.is_bound and self.data.get(self.add_prefix("rebase_onto"))):
            self.fields["rebase"].widget = forms.HiddenInput()  # offered after a conflict only
        self.outcome: WriteOutcome | None = None
        self.conflict: Conflict | None = None
        self.saved: IstioObject | None = None
        #: The what-if contract of a preview (graph-whatif-contract.js): {cluster, namespace, objects, source}.
        self.whatif_contract: dict[str, Any] | None = None

    # ---- what subclasses say ----

    def initial_of(self, row: IstioObject) -> dict[str, Any]:
        return {"resource_version": row.resource_version}

    def document(self) -> Any:
        """The object to write, a mapping or YAML text (call on cleaned data)."""
        raise NotImplementedError

    def place_error(self, path: str, message: str) -> None:
        """Show an error of the write service at ``path`` on the field it concerns (default: the form)."""
        self.add_error(None, f"{path}: {message}" if path else message)

    def parts_valid(self) -> bool:
        """Whether the formsets the form owns are valid."""
        return True

    # ---- the write ----

    def target(self) -> ObjectRef | None:
        """The object being changed (None for a create, which names it in its document)."""
        if self.adding:
            return None
        return ObjectRef(
            check_kind_of(self.instance.group, self.instance.kind), self.instance.namespace, self.instance.name
        )

    def identity(self) -> tuple[str, str, str]:
        """The document's apiVersion, namespace and name."""
        if self.adding:
            version = "v1"
            return f"{self.group}/{version}", self.cleaned_data["target_namespace"], self.cleaned_data["target_name"]
        row = self.instance
        return f"{row.group}/{row.version}", row.namespace, row.name

    def base_document(self, other: dict[str, Any]) -> dict[str, Any]:
        """apiVersion, kind and metadata (with the labels and annotations of ``other['metadata']``)."""
        api_version, namespace, name = self.identity()
        metadata = {**(other.get("metadata") or {}), "name": name, "namespace": namespace}
        return {"apiVersion": api_version, "kind": self.kind, "metadata": metadata}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not self.parts_valid():
            if not self.errors:
                self.add_error(None, gettext("Correct the errors below; nothing was written."))
            return cleaned
        cluster = cleaned["target_cluster"] if self.adding else self.instance.cluster
        base = cleaned.get("resource_version") or ""
        if cleaned.get("rebase") and cleaned.get("rebase_onto"):
            base = cleaned["rebase_onto"]
        try:
            document = self.document()
        except forms.ValidationError as exc:
            self.add_error(None, exc)
            return cleaned
        if self.preview_only:
            self.preview(cluster, document)
            return cleaned
        action = ConfigChange.Action.CREATE if self.adding else ConfigChange.Action.UPDATE
        outcome = apply_change(
            self.request.user, cluster, action, document, base, bool(cleaned.get("accept_warnings")), self.target()
        )
        self.outcome = outcome
        if outcome.applied:
            self.saved = self.stored_row(cluster, outcome)
        else:
            self.show_refusal(outcome)
        return cleaned

    def preview(self, cluster: Cluster, document: Any) -> None:
        """Keep ``document`` as the what-if proposal of the page (nothing is written): for a namespace the user may
        change, as a save would need."""
        _api_version, namespace, _name = self.identity()
        if not access.can_write(self.request.user, cluster, namespace):
            text = gettext("You may not change Istio objects in namespace %(namespace)s.")
            self.add_error(None, text % {"namespace": namespace})
            return
        self.whatif_contract = {
            "cluster": cluster.name,
            "namespace": namespace,
            "objects": [document],
            "source": "admin",
        }

    def is_valid(self) -> bool:
        # A preview is never a save: the admin shows the form again, with the proposal, instead of saving.
        return super().is_valid() and not self.preview_only

    def stored_row(self, cluster: Cluster, outcome: WriteOutcome) -> IstioObject:
        """The stored row the write service updated from the cluster's answer."""
        answer = outcome.cluster_object or {}
        group = str(answer.get("apiVersion", "")).rpartition("/")[0]
        metadata = answer.get("metadata") or {}
        return IstioObject.objects.get(
            cluster=cluster,
            group=group,
            kind=answer.get("kind"),
            namespace=metadata.get("namespace"),
            name=metadata.get("name"),
        )

    def show_refusal(self, outcome: WriteOutcome) -> None:
        """The write service's refusal as form errors: its message on the form, each detail on its field."""
        self.add_error(None, gettext("Nothing was written. %(reason)s") % {"reason": outcome.message})
        for detail in outcome.details:
            path = str(detail.get("path") or detail.get("field") or "")
            severity = detail.get("severity")
            message = str(detail.get("message", ""))
            if severity and severity != "error":
                message = f"{severity}: {message}"
            if detail.get("line") and not path:
                message = f"line {detail['line']}: {message}"
            self.place_error(path, message)
        if outcome.code == "conflict" and outcome.conflict is not None:
            self.conflict = outcome.conflict
            # The hidden field now carries the cluster's version: ticking "rebase" saves over it.
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
            self.data = data
            data[self.add_prefix("rebase_onto")] = outcome.conflict.theirs_resource_version
            data[self.add_prefix("rebase")] = ""
            self.fields["rebase"].widget = forms.CheckboxInput()

    @property
    def conflict_diffs(self) -> list[tuple[str, str]]:
        """The conflict's three diffs as (title, unified diff), for the page."""
        if self.conflict is None:
            return []
        diffs = self.conflict.diffs
        return [
            ("What changed in the cluster since you opened the form (base → theirs)", diffs["baseToTheirs"]),
            ("What you changed (base → mine)", diffs["baseToMine"]),
            ("What saving yours over theirs would change (theirs → mine)", diffs["theirsToMine"]),
        ]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """The findings of an applied save (warnings accepted, infos)."""
        return self.outcome.warnings if self.outcome is not None and self.outcome.applied else []


class StructuredForm(IstioObjectForm):
    """A form of structured fields over one part of the spec, a formset of its list items, and a YAML field for the
    rest (``admin_spec``)."""

    leaves: ClassVar[list[Leaf]] = []
    items_key: ClassVar[str] = ""
    items_prefix: ClassVar[str] = ""
    items_label: ClassVar[StrOrPromise] = ""

    other = YamlMappingField(
        label=_("Other fields (YAML)"),
        help_text=format_lazy(
            "{} {}", OTHER_HELP, _("Write labels and annotations under metadata, other spec fields under spec.")
        ),
    )

    def item_form(self) -> type[ItemForm]:
        raise NotImplementedError

    def item_leaves(self) -> list[Leaf]:
        raise NotImplementedError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item_initial: list[dict[str, Any]] = self.initial.get("items", [])
        formset = formset_factory(self.item_form(), extra=1, can_delete=True)
        if self.is_bound:
            self.items = formset(self.data, prefix=self.items_prefix)
        else:
            self.items = formset(initial=self.item_initial, prefix=self.items_prefix)
        self.written_items: list[ItemForm] = []

    def split_row(self, row: IstioObject) -> tuple[admin_spec.Parts, dict[str, Any]]:
        parts = admin_spec.split_spec(row.spec or {}, self.leaves, self.items_key, self.item_leaves_for(row))
        metadata = {k: v for k, v in (("labels", row.labels), ("annotations", row.annotations)) if v}
        other: dict[str, Any] = {}
        if metadata:
            other["metadata"] = metadata
        if parts.rest:
            other["spec"] = parts.rest
        return parts, other

    def item_leaves_for(self, row: IstioObject) -> list[Leaf]:
        return self.item_leaves()

    def initial_of(self, row: IstioObject) -> dict[str, Any]:
        parts, other = self.split_row(row)
        items = [{**fields, OTHER: rest} for fields, rest in parts.items]
        return {**super().initial_of(row), **parts.fields, OTHER: other, "items": items}

    def parts_valid(self) -> bool:
        return self.items.is_valid()

    def document(self) -> dict[str, Any]:
        other = self.cleaned_data.get(OTHER) or {}
        unknown = sorted(set(other) - {"metadata", "spec"})
        if unknown:
            text = gettext("Only metadata and spec belong here, not %(fields)s.")
            self.add_error(OTHER, text % {"fields": ", ".join(unknown)})
            raise forms.ValidationError(gettext("Correct the errors below; nothing was written."))
        self.written_items = []
        items: list[dict[str, Any]] = []
        for index, item_form in enumerate(self.items.forms):
            unchanged_extra = index >= self.items.initial_form_count() and not item_form.has_changed()
            if unchanged_extra or (self.items.can_delete and item_form.cleaned_data.get("DELETE")):
                continue
            item = item_form.to_item()
            if item:  # a form emptied rather than deleted writes nothing
                items.append(item)
                self.written_items.append(item_form)
        fields = {leaf.field: self.cleaned_data.get(leaf.field) for leaf in self.leaves}
        spec = admin_spec.join_spec(fields, self.leaves, self.items_key, items, other.get("spec") or {})
        return {**self.base_document(other), "spec": spec}

    def place_error(self, path: str, message: str) -> None:
        place = admin_spec.locate_error(path, self.leaves, self.items_key, self.item_leaves())
        if place.item is not None and place.item < len(self.written_items):
            item_form = self.written_items[place.item]
            field = item_form.field_of(place.field) if place.field else None
            item_form.add_error(field if field in item_form.fields else None, f"{path}: {message}")
            text = gettext("%(path)s: %(message)s (see %(item)s %(number)d below)")
            values = {"path": path, "message": message, "item": self.items_label, "number": place.item + 1}
            self.add_error(None, text % values)
            return
        field = {"name": "target_name", "namespace": "target_namespace"}.get(place.field or "", place.field)
        if field and field in self.fields:
            self.add_error(field, f"{path}: {message}" if field == OTHER else message)
            return
        super().place_error(path, message)


class VirtualServiceForm(StructuredForm):
    """A VirtualService: hosts, gateways, HTTP routes (formset), and the rest as YAML."""

    kind = "VirtualService"
    leaves = admin_spec.VIRTUAL_SERVICE_LEAVES
    items_key = "http"
    items_prefix = "route"
    items_label = _("HTTP route")

    hosts = StringListField(help_text=_("One per line, e.g. reviews or reviews.bookinfo.svc.cluster.local"))
    gateways = StringListField(help_text=_("One per line (mesh, or namespace/gateway); empty: the mesh's sidecars"))
    destination_slots = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def slots(self) -> int:
        """Destinations per route form: from the object on the first view, then from what the page posted."""
        if self.is_bound:
            try:
                posted = int(self.data.get(self.add_prefix("destination_slots")) or 0)
            except ValueError:
                posted = 0
            return min(max(posted, admin_spec.MIN_DESTINATIONS), MAX_DESTINATION_SLOTS)
        return int(self.initial.get("destination_slots") or admin_spec.MIN_DESTINATIONS)

    def item_form(self) -> type[ItemForm]:
        return http_route_form(self.slots())

    def item_leaves(self) -> list[Leaf]:
        return admin_spec.http_route_leaves(self.slots())

    def item_leaves_for(self, row: IstioObject) -> list[Leaf]:
        # Enough destinations for the longest route: split first with many, then count what was used.
        return admin_spec.http_route_leaves(MAX_DESTINATION_SLOTS)

    def initial_of(self, row: IstioObject) -> dict[str, Any]:
        initial = super().initial_of(row)
        parts, _other = self.split_row(row)
        initial["destination_slots"] = min(admin_spec.destination_slots(parts.items), MAX_DESTINATION_SLOTS)
        return initial


TLS_MODES = ["", "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]
LOAD_BALANCERS = ["", "UNSPECIFIED", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"]


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(v, v or "—") for v in values]


class DestinationRuleForm(StructuredForm):
    """A DestinationRule: host, the basic traffic policy, subsets (formset), and the rest as YAML."""

    kind = "DestinationRule"
    leaves = admin_spec.DESTINATION_RULE_LEAVES
    items_key = "subsets"
    items_prefix = "subset"
    items_label = "Subset"

    host = optional_text(help_text=_("The service the rule applies to, e.g. reviews"))
    load_balancer = forms.ChoiceField(required=False, choices=_choices(LOAD_BALANCERS), label=_("Load balancer"))
    max_connections = optional_int(min_value=0, label=_("TCP: max connections"))
    connect_timeout = optional_text(label=_("TCP: connect timeout"), help_text=_("e.g. 30ms"))
    http1_max_pending_requests = optional_int(min_value=0, label=_("HTTP: max pending requests"))
    http2_max_requests = optional_int(min_value=0, label=_("HTTP: max requests"))
    max_requests_per_connection = optional_int(min_value=0, label=_("HTTP: max requests per connection"))
    consecutive_5xx_errors = optional_int(min_value=0, label=_("Outlier detection: consecutive 5xx errors"))
    interval = optional_text(label=_("Outlier detection: interval"), help_text=_("e.g. 10s"))
    base_ejection_time = optional_text(label=_("Outlier detection: base ejection time"), help_text=_("e.g. 30s"))
    max_ejection_percent = optional_int(min_value=0, max_value=100, label=_("Outlier detection: max ejection %"))
    tls_mode = forms.ChoiceField(required=False, choices=_choices(TLS_MODES), label=_("TLS mode"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A value the choices do not list (a newer Istio's) is kept in the YAML by the split, never offered here.
        for name in ("load_balancer", "tls_mode"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            current = self.initial.get(name)
            offered = [value for value, _label in field.choices]  # type: ignore[union-attr,misc]
            if current and current not in offered:
                field.choices = [*field.choices, (current, current)]  # type: ignore[misc]

    def item_form(self) -> type[ItemForm]:
        return SubsetForm

    def item_leaves(self) -> list[Leaf]:
        return list(admin_spec.SUBSET_LEAVES)


class IstioYamlForm(IstioObjectForm):
    """Any other Istio or Gateway API kind: the whole object as YAML, written through the write service."""

    yaml = forms.CharField(
        label=_("YAML"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        help_text=_("The whole object. Its kind, namespace and name cannot change here."),
    )

    def initial_of(self, row: IstioObject) -> dict[str, Any]:
        document = {
            "apiVersion": f"{row.group}/{row.version}",
            "kind": row.kind,
            "metadata": {
                "name": row.name,
                "namespace": row.namespace,
                "labels": row.labels,
                "annotations": row.annotations,
            },
            "spec": row.spec,
        }
        return {**super().initial_of(row), "yaml": config_yaml(document)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.adding:
            # A create names its object in the YAML.
            for identity in ("target_namespace", "target_name"):
                del self.fields[identity]

    def document(self) -> Any:
        # The text itself: the write service reads it and points a YAML error at its line.
        return self.cleaned_data["yaml"]
