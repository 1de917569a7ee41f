"""Which workloads a selector selects, and the checks every selector-bearing kind shares (Kiali's
``business/checkers/common``): a selector that selects nothing (KIA0004) and two objects of one kind that apply to the
same workloads (KIA0002 without selectors, KIA0003 with them).

As Istio: a selector matches pod labels (a workload's pod template, or a pod that no workload owns) in the object's
own namespace; an AuthorizationPolicy in the root namespace applies to matching workloads of every namespace.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from istio_config.checks import codes
from istio_config.checks.hosts import labels_select
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig

#: Where each kind keeps its selector: PeerAuthentication, AuthorizationPolicy, RequestAuthentication and Telemetry
#: use ``selector.matchLabels``, Sidecar ``workloadSelector.labels``.
SELECTOR_FIELDS = {"Sidecar": ("workloadSelector", "labels")}
DEFAULT_SELECTOR_FIELD = ("selector", "matchLabels")


def selector_path(kind: str) -> str:
    """The JSON path of a kind's selector labels (``spec.selector.matchLabels``)."""
    outer, inner = SELECTOR_FIELDS.get(kind, DEFAULT_SELECTOR_FIELD)
    return f"spec.{outer}.{inner}"


def selector_of(obj: IstioConfig) -> dict[str, str]:
    """An object's selector labels; empty when it has none (it then applies to its whole namespace)."""
    outer, inner = SELECTOR_FIELDS.get(obj.kind, DEFAULT_SELECTOR_FIELD)
    container = obj.spec.get(outer)
    labels = container.get(inner) if isinstance(container, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def selector_text(selector: Mapping[str, str]) -> str:
    """``key=value,...`` in key order, as ``istioctl`` prints a selector."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


@dataclass(frozen=True)
class LabelledWorkload:
    """Something a selector can select: a workload (by its pod template) or a pod no workload owns."""

    namespace: str
    name: str
    labels: Mapping[str, str]


class WorkloadIndex:
    """The cluster's selectable workloads by namespace: every workload, plus the pods that no workload owns."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.by_namespace: dict[str, list[LabelledWorkload]] = defaultdict(list)
        for workload in inventory.workloads:
            self.by_namespace[workload.namespace].append(
                LabelledWorkload(workload.namespace, workload.name, workload.template_labels)
            )
        for pod in inventory.pods:
            if not pod.workload_name:
                self.by_namespace[pod.namespace].append(LabelledWorkload(pod.namespace, pod.name, pod.labels))

    def in_namespaces(self, namespaces: Iterable[str] | None) -> Iterable[LabelledWorkload]:
        """The workloads of ``namespaces``, or of every namespace when None."""
        if namespaces is None:
            for workloads in self.by_namespace.values():
                yield from workloads
            return
        for namespace in namespaces:
            yield from self.by_namespace.get(namespace, ())

    def selected(self, selector: Mapping[str, str], namespaces: Iterable[str] | None) -> list[LabelledWorkload]:
        """The workloads of ``namespaces`` (every namespace when None) whose labels ``selector`` selects; an empty
        selector selects all of them."""
        return [w for w in self.in_namespaces(namespaces) if labels_select(selector, w.labels)]


def check_selector_not_found(
    objects: Iterable[IstioConfig],
    index: WorkloadIndex,
    scope: Callable[[IstioConfig], tuple[str, ...] | None] | None = None,
) -> list[Finding]:
    """KIA0004: an object whose non-empty selector selects no workload of its namespace, or of every namespace
    where ``scope(obj)`` returns None (an AuthorizationPolicy in the root namespace)."""
    findings = []
    for obj in objects:
        selector = selector_of(obj)
        if not selector:
            continue
        namespaces = scope(obj) if scope is not None else (obj.namespace,)
        if any(labels_select(selector, w.labels) for w in index.in_namespaces(namespaces)):
            continue
        where = "in any namespace" if namespaces is None else f"in namespace {obj.namespace}"
        findings.append(
            codes.make_finding(
                codes.GENERIC_SELECTOR_NOT_FOUND,
                obj,
                selector_path(obj.kind),
                f"{selector_text(selector)} {where}",
            )
        )
    return findings


def check_multi_match(
    objects: Iterable[IstioConfig], index: WorkloadIndex, istio_codes: tuple[str, str] = ("", "")
) -> list[Finding]:
    """KIA0002: two selector-less objects of one kind in one namespace; KIA0003: two objects of one kind in one
    namespace whose selectors both select the same workload. Istio applies only one of them (the oldest).
    ``istio_codes`` are ``istioctl``'s codes of the two checks for the kind, where it has them."""
    selectorless: dict[str, list[IstioConfig]] = defaultdict(list)
    by_workload: dict[tuple[str, str], list[IstioConfig]] = defaultdict(list)
    for obj in objects:
        selector = selector_of(obj)
        if not selector:
            selectorless[obj.namespace].append(obj)
            continue
        for workload in index.selected(selector, (obj.namespace,)):
            by_workload[(workload.namespace, workload.name)].append(obj)
    findings = []
    for rivals in selectorless.values():
        if len(rivals) > 1:
            for obj in rivals:
                others = ", ".join(sorted(o.name for o in rivals if o is not obj))
                finding = codes.make_finding(codes.GENERIC_SELECTORLESS_MULTI_MATCH, obj, path_of(obj), others)
                findings.append(replace(finding, istio_code=istio_codes[0]))
    flagged: dict[tuple[str, str], tuple[IstioConfig, set[str]]] = {}
    for (_namespace, workload_name), rivals in by_workload.items():
        if len(rivals) > 1:
            for obj in rivals:
                flagged.setdefault((obj.namespace, obj.name), (obj, set()))[1].add(workload_name)
    for obj, workload_names in flagged.values():
        detail = f"workload {', '.join(sorted(workload_names))}"
        finding = codes.make_finding(codes.GENERIC_SELECTOR_MULTI_MATCH, obj, path_of(obj), detail)
        findings.append(replace(finding, istio_code=istio_codes[1]))
    return findings


def path_of(obj: IstioConfig) -> str:
    """The path Kiali pins the multi-match checks to: the selector itself (``spec.selector``)."""
    return selector_path(obj.kind).rpartition(".")[0]
