"""A routing wizard's changes to one service, planned and written through the one write service.

- :func:`prepare_wizard`: which objects of the service a wizard would replace. An object labelled
  ``mesh-ui.io/wizard`` (an earlier wizard's) is replaced freely; a hand-written one (no label) only with the user's
  explicit confirmation, and only when it is the one object of its kind for the service in its namespace (with more,
  the wizard refuses: which one to replace would be a guess).
- :func:`plan_wizard`: the generated objects, each with the cluster's current YAML, the diff, and the findings of
  the schema and configuration checks run on all of them at once; a digest so that an apply writes exactly what
  was previewed.
- :func:`istio_config.wizard_apply.apply_writes` makes the planned writes all or nothing (checked first, undone
  when a later one fails), each through :func:`istio_config.writes.apply_change`.
- :func:`plan_removal`: "Remove routing" — deletes of the wizard-labelled objects only, VirtualService first;
  :func:`findings_after_removal` what the checks would then find on the hand-written routing that stays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from inventory.models import Cluster, IstioObject
from istio_config import validation
from istio_config.checks import Finding, check_config
from istio_config.inventory_loader import load_config_inventory
from istio_config.objects import istio_object_document, pin_findings
from istio_config.wizards import messages
from istio_config.wizards.generate import Replaced, build_wizard_objects, plan_subsets, wizard_of
from istio_config.wizards.inputs import CircuitBreaking, ServiceTarget, WizardInput
from istio_config.wizards.messages import Message
from istio_config.write_input import ObjectRef, check_schema, config_yaml, unified_diff

ROUTING_KINDS = ("DestinationRule", "VirtualService")


def kinds_written(wizard: str) -> tuple[str, ...]:
    """The kinds a wizard writes: circuit breaking only the DestinationRule, every other both."""
    return ("DestinationRule",) if wizard == CircuitBreaking.wizard else ROUTING_KINDS


@dataclass
class RoutingState:
    """A service, the versions of its workloads, and the routing objects whose hosts are it (any namespace)."""

    namespace: str
    name: str
    versions: list[str]
    objects: list[IstioObject]

    def of_kind(self, kind: str) -> list[IstioObject]:
        """The objects of ``kind`` in the service's namespace (the ones a wizard may replace)."""
        return [o for o in self.objects if o.kind == kind and o.namespace == self.namespace]

    @property
    def wizard_objects(self) -> list[IstioObject]:
        return [o for o in self.objects if o.namespace == self.namespace and wizard_of(o.labels)]


@dataclass
class Prepared:
    """What a wizard on the service works with: the subsets it may route to and the objects it replaces."""

    wizard: str
    target: ServiceTarget
    replaced: dict[str, IstioObject] = field(default_factory=dict)  # by kind
    refusal: Message | None = None  # several hand-written objects of a kind: the wizard cannot be used

    @property
    def replaces_hand_written(self) -> list[IstioObject]:
        return [o for o in self.replaced.values() if not wizard_of(o.labels)]


def prepare_wizard(state: RoutingState, wizard: str) -> Prepared:
    """Choose the object of each kind the wizard writes that it replaces (see the module doc)."""
    replaced: dict[str, IstioObject] = {}
    refusals = []
    for kind in kinds_written(wizard):
        found = state.of_kind(kind)
        owned = [o for o in found if wizard_of(o.labels)]
        by_hand = [o for o in found if not wizard_of(o.labels)]
        if owned:
            replaced[kind] = min(owned, key=lambda o: (o.name != state.name, o.name))
        elif len(by_hand) == 1:
            replaced[kind] = by_hand[0]
        elif by_hand:
            names = ", ".join(o.name for o in by_hand)
            values = {"count": str(len(by_hand)), "kind": kind, "service": state.name, "names": names}
            refusals.append(Message(messages.HAND_WRITTEN_ROUTES, values))
    rule = replaced.get("DestinationRule")
    subsets = plan_subsets(state.versions, (rule.spec or {}).get("subsets") if rule is not None else None)
    refusal = Message(messages.REFUSED_HAND_WRITTEN, {"found": tuple(refusals)}) if refusals else None
    return Prepared(wizard, ServiceTarget(state.namespace, state.name, subsets), replaced, refusal)


def _replaced(obj: IstioObject | None) -> Replaced | None:
    if obj is None:
        return None
    return Replaced(obj.name, dict(obj.labels or {}), dict(obj.spec or {}))


@dataclass
class PlannedWrite:
    """One object a wizard creates, updates or deletes, against the version the page showed."""

    ref: ObjectRef
    action: str  # create, update or delete
    document: dict[str, Any] | None
    base_version: str
    before: str
    after: str
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.ref.kind}/{self.ref.name}"

    @property
    def diff(self) -> str:
        return unified_diff(self.before, self.after, "cluster", "after")

    @property
    def blocking(self) -> bool:
        return any(f["severity"] == "error" for f in self.findings)


@dataclass
class WizardPlan:
    """The writes of one wizard, and what the user must confirm before they are made."""

    prepared: Prepared
    writes: list[PlannedWrite]

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [w.document for w in self.writes if w.document is not None]

    @property
    def digest(self) -> str:
        """What the preview showed, so that an apply of other input (edited after the preview) is not made."""
        text = json.dumps([[w.key, w.action, w.document] for w in self.writes], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def versions(self) -> dict[str, str]:
        return {w.key: w.base_version for w in self.writes}

    @property
    def versions_json(self) -> str:
        """:attr:`versions` as the form carries them to the apply."""
        return json.dumps(self.versions)

    @property
    def has_errors(self) -> bool:
        return any(w.blocking for w in self.writes)

    @property
    def has_warnings(self) -> bool:
        return any(f["severity"] == "warning" for w in self.writes for f in w.findings)


def _current(obj: IstioObject | None) -> tuple[str, str]:
    """The stored object's YAML and resourceVersion; empty for none."""
    if obj is None:
        return "", ""
    return config_yaml(istio_object_document(obj)), obj.resource_version


def _check_all(cluster: Cluster, writes: list[PlannedWrite]) -> None:
    """The schema and the configuration checks of every planned object, the others taken as already written."""
    posted = [validation.istio_config_of(w.document, "") for w in writes if w.document is not None]
    findings = validation.check_objects(cluster, posted)
    for write in writes:
        if write.document is None:
            continue
        write.findings = check_schema(write.document, write.after)
        key = (write.ref.kind, write.ref.namespace, write.ref.name)
        mine = [f for f in findings if (f.kind, f.namespace, f.name) == key]
        for pinned in pin_findings(mine, write.after):
            write.findings.append(
                {
                    "path": pinned.path,
                    "line": pinned.line,
                    "severity": pinned.severity,
                    "code": pinned.code,
                    "message": pinned.message,
                }
            )


def plan_wizard(cluster: Cluster, state: RoutingState, prepared: Prepared, wizard: WizardInput) -> WizardPlan:
    """The objects ``wizard`` writes for the service, compared with the stored ones and checked together."""
    rule = prepared.replaced.get("DestinationRule")
    route = prepared.replaced.get("VirtualService")
    documents = build_wizard_objects(wizard, prepared.target, _replaced(rule), _replaced(route))
    stored = {(o.kind, o.name): o for o in state.of_kind("DestinationRule") + state.of_kind("VirtualService")}
    writes = []
    for document in documents:
        ref = ObjectRef(document["kind"], state.namespace, document["metadata"]["name"])
        before, version = _current(stored.get((ref.kind, ref.name)))
        action = "update" if version else "create"
        writes.append(PlannedWrite(ref, action, document, version, before, config_yaml(document)))
    _check_all(cluster, writes)
    return WizardPlan(prepared, writes)


def plan_removal(state: RoutingState) -> list[PlannedWrite]:
    """Deletes of the wizard-labelled routing objects of the service (VirtualService first: it names the subsets)."""
    owned = sorted(state.wizard_objects, key=lambda o: (o.kind != "VirtualService", o.name))
    return [
        PlannedWrite(ObjectRef(o.kind, o.namespace, o.name), "delete", None, o.resource_version, *_before_after(o))
        for o in owned
    ]


def findings_after_removal(cluster: Cluster, state: RoutingState, writes: list[PlannedWrite]) -> list[Finding]:
    """What the configuration checks find on the service's routing that stays (written by hand) once ``writes``
    delete the wizards' objects: e.g. a hand-written route to a subset only the wizard's DestinationRule defined."""
    gone = {(w.ref.kind, w.ref.namespace, w.ref.name) for w in writes}
    staying = {(o.kind, o.namespace, o.name) for o in state.objects} - gone
    if not gone or not staying:
        return []
    inventory = load_config_inventory(cluster)
    kept = tuple(o for o in inventory.istio_objects if (o.kind, o.namespace, o.name) not in gone)
    findings = check_config(replace(inventory, istio_objects=kept))
    return [f for f in findings if (f.kind, f.namespace, f.name) in staying]


def _before_after(obj: IstioObject) -> tuple[str, str]:
    return _current(obj)[0], ""
