"""The what-if preview: the traffic a proposed routing change is expected to give, edge by edge, from the current
graph. Pure (no Django, no network); the rules of routing are in ``topology.whatif_routing``.

``compute_whatif(graph, inventory, current, changes)`` takes a stored versioned-app graph (the wire JSON of
``docs/graph.md``, service nodes injected), the cluster's services and workloads, the VirtualServices and
DestinationRules in force and the proposed creates, replacements and deletions, and predicts every edge:

1. Services whose routing differs between the two configurations (``RoutingConfig.signature``) are *affected*.
2. What each caller sends to a service is today's rate on its edge, scaled by how much the traffic into the
   caller changes (its *factor*: predicted in / current in; 1 for a caller nobody calls).
3. An affected service's requests are routed by the proposed rules, per caller (``RoutingConfig.route``); an
   unaffected one splits them over its workloads as it does today (the observed split).
4. A workload's error ratio is today's (errors do not depend on load); one that received nothing today has an
   unknown error ratio. Aborts, unmatched requests and missing subsets are errors on the caller's edge.
5. A workload's outgoing edges scale with its factor (it makes the same calls per request as today); one with no
   traffic today makes the calls ``history`` (older graphs) shows it making per request. Steps 2-5 repeat until
   nothing changes (as many passes as the graph is deep).

A match on what telemetry does not record (a header) catches an unknown share, and rates downstream of it are
then bounds (``Estimate``). The share is taken from telemetry when today's VirtualService has the same matches up
to that route and sends that route to workloads no other route reaches: its share is what those workloads get.
TCP edges are kept as they are (TCP routes are not modelled); retries are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from topology.whatif_graph import (
    REQUEST_PROTOCOLS,
    CallProfile,
    GraphEdge,
    GraphIndex,
    learn_call_profiles,
    measure_route_shares,
)
from topology.whatif_model import (
    EPSILON,
    ONE,
    ZERO,
    EdgeKind,
    EdgeTraffic,
    Estimate,
    MeshInventory,
    PredictedEdge,
    ProposedChange,
    RoutingObject,
    WhatIfResult,
)
from topology.whatif_routing import (
    Branch,
    Caller,
    RoutingConfig,
    ServiceKey,
    WorkloadKey,
)

EdgeKey = tuple[str, str, str]  # (source id, target id, protocol)
#: When contributions of several kinds meet on one edge, the edge is named after the strongest.
KIND_RANK: dict[EdgeKind, int] = {"unchanged": 0, "scaled": 1, "mirror": 2, "routed": 3}


def apply_changes(current: Sequence[RoutingObject], changes: Sequence[ProposedChange]) -> list[RoutingObject]:
    """The configuration after ``changes``: each applied object replaces its namesake, each deleted one goes."""
    objects = {(o.kind, o.namespace, o.name): o for o in current}
    for change in changes:
        key = (change.obj.kind, change.obj.namespace, change.obj.name)
        if change.action == "delete":
            objects.pop(key, None)
        else:
            objects[key] = change.obj
    return list(objects.values())


@dataclass
class _EdgeBuild:
    """A predicted edge being summed up over callers and passes."""

    traffic: EdgeTraffic = field(default_factory=EdgeTraffic)
    kind: EdgeKind = "unchanged"
    delayed: Estimate = ZERO
    delay_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, traffic: EdgeTraffic, kind: EdgeKind) -> None:
        self.traffic = self.traffic + traffic
        if KIND_RANK[kind] > KIND_RANK[self.kind]:
            self.kind = kind


class _Prediction:
    """One pass over the graph with given node factors."""

    def __init__(self, solver: _Solver, factors: Mapping[str, Estimate], inbound: Mapping[str, Estimate]) -> None:
        self.solver = solver
        self.factors = factors
        self.inbound = inbound
        self.edges: dict[EdgeKey, _EdgeBuild] = {}

    def edge(self, source: str, target: str, protocol: str) -> _EdgeBuild:
        return self.edges.setdefault((source, target, protocol), _EdgeBuild())

    def run(self) -> None:
        solver = self.solver
        graph = solver.graph
        demand: dict[str, list[tuple[GraphEdge, Estimate]]] = {}
        for edge in graph.requests:
            factor = self.factors.get(edge.source, ONE)
            if graph.is_service(edge.target):
                demand.setdefault(edge.target, []).append((edge, factor))
            elif not graph.is_service(edge.source):
                self.edge(edge.source, edge.target, edge.protocol).add(edge.traffic.scaled(factor), "scaled")
        for node_id, inbound in self.inbound.items():
            for call in solver.learned_calls(node_id):
                demand.setdefault(call.target, []).append((call, inbound))
        for node_id, callers in demand.items():
            service = solver.service_key(node_id)
            if service is None:
                continue
            rerouted = service in solver.affected
            if rerouted or (graph.inbound(node_id).rate.value or 0.0) <= EPSILON:
                # Rerouted, or nothing today to learn its split from: route by the (proposed) configuration.
                for edge, factor in callers:
                    self.route(service, edge, edge.traffic.rate.times(factor), rerouted)
            else:
                self.split_as_today(node_id, callers)

    def split_as_today(self, node_id: str, callers: list[tuple[GraphEdge, Estimate]]) -> None:
        """An unaffected service: callers' edges scale with the callers; its workloads keep today's shares."""
        graph = self.solver.graph
        today = ZERO
        wanted = ZERO
        for edge, factor in callers:
            self.edge(edge.source, edge.target, edge.protocol).add(edge.traffic.scaled(factor), "scaled")
            if not edge.learned:
                today = today + edge.traffic.rate
            wanted = wanted + edge.traffic.rate.times(factor)
        if today.value is None or today.value <= EPSILON:
            return
        ratio = wanted.scaled(1.0 / today.value)
        for edge in graph.outgoing.get(node_id, []):
            self.edge(edge.source, edge.target, edge.protocol).add(edge.traffic.scaled(ratio), "scaled")

    def route(self, service: ServiceKey, edge: GraphEdge, wanted: Estimate, rerouted: bool = True) -> None:
        """Route one caller's requests by the proposed rules (a rerouted service, or one with no split today).

        The caller's edge to each service it now reaches carries the branches' requests; when every (non-mirror)
        branch reaches one service, that edge carries exactly what the caller sends, however unknown the split.
        """
        solver = self.solver
        caller = solver.caller(edge.source)
        branches, notes = solver.proposed.route(service, caller, solver.shares.get(service))
        for note in notes:
            solver.note(note)
        shares: dict[str, Estimate] = {}
        errors: dict[str, Estimate] = {}
        for branch in branches:
            target_node, failing = self.apply_branch(edge, branch, wanted, rerouted)
            if branch.mirror:
                continue
            shares[target_node] = shares.get(target_node, ZERO) + branch.fraction
            errors[target_node] = errors.get(target_node, ZERO) + failing
        for target_node, share in shares.items():
            requests = wanted.times(ONE if len(shares) == 1 else share.capped(ONE))
            traffic = EdgeTraffic(requests, errors[target_node].capped(requests))
            self.edge(edge.source, target_node, edge.protocol).add(traffic, "routed" if rerouted else "scaled")

    def apply_branch(self, edge: GraphEdge, branch: Branch, wanted: Estimate, rerouted: bool) -> tuple[str, Estimate]:
        """Add a branch's requests to the workloads it reaches (and a mirror's to its caller's edge); returns the
        node of the service it reaches and the errors its caller sees."""
        solver = self.solver
        target_node = solver.service_node(branch.service)
        kind: EdgeKind = "mirror" if branch.mirror else "routed" if rerouted else "scaled"
        caller_edge = self.edge(edge.source, target_node, edge.protocol)
        requests = wanted.times(branch.fraction)
        errors = requests if branch.fails else ZERO
        for workload, part in branch.endpoints:
            flow = requests.scaled(part)
            served = solver.errors_of(workload, flow)
            slow = solver.slow_share(workload, branch.timeout_ms)
            failing = (served + flow.times(slow)).capped(flow) if slow is not None else served
            self.edge(target_node, solver.workload_node(workload), edge.protocol).add(EdgeTraffic(flow, served), kind)
            errors = errors + failing
        if branch.mirror:
            caller_edge.add(EdgeTraffic(requests, ZERO), kind)  # the caller never sees a copy's answer
        if branch.note and not branch.mirror:
            caller_edge.notes.append(branch.note)
        if branch.delay_ms and branch.delayed_share:
            caller_edge.delayed = caller_edge.delayed + requests.scaled(branch.delayed_share)
            caller_edge.delay_ms = max(caller_edge.delay_ms, branch.delay_ms)
        return target_node, errors


class _Solver:
    """Passes of :class:`_Prediction` until the factors settle, then the answer."""

    def __init__(
        self,
        graph: GraphIndex,
        inventory: MeshInventory,
        current: Sequence[RoutingObject],
        changes: Sequence[ProposedChange],
        history: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.graph = graph
        self.profiles: dict[WorkloadKey, CallProfile] = learn_call_profiles(history)
        #: Workloads predicted to get requests that have no traffic today and no call profile from ``history``.
        self.unprofiled: set[WorkloadKey] = set()
        self.inventory = inventory
        self.today = RoutingConfig(current, inventory)
        self.proposed = RoutingConfig(apply_changes(current, changes), inventory)
        self.workload_labels = {(w.namespace, w.name): w.labels for w in inventory.workloads}
        self.notes: list[str] = []
        self.new_nodes: dict[str, dict[str, Any]] = {}
        self.affected = {
            key
            for key in set(graph.service_node) | set(self.today.services)
            if self.today.signature(key) != self.proposed.signature(key)
        }
        self.shares = {s: measure_route_shares(graph, self.today, self.proposed, s) for s in self.affected}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # --- nodes -------------------------------------------------------------------------------------------------

    def _cluster_of(self, namespace: str) -> str:
        return self.graph.cluster_of_namespace.get(namespace, "unknown")

    def service_node(self, service: ServiceKey) -> str:
        found = self.graph.service_node.get(service)
        if found is not None:
            return found
        node_id = f"whatif-svc-{service[0]}-{service[1]}"
        self.new_nodes.setdefault(
            node_id,
            {
                "id": node_id,
                "nodeType": "service",
                "cluster": self._cluster_of(service[0]),
                "namespace": service[0] or "unknown",
                "service": service[1],
                "isWhatIf": True,
            },
        )
        return node_id

    def node_data(self, node_id: str) -> Mapping[str, Any]:
        return self.graph.nodes.get(node_id) or self.new_nodes.get(node_id) or {}

    def service_key(self, node_id: str) -> ServiceKey | None:
        data = self.node_data(node_id)
        if data.get("nodeType") != "service":
            return None
        return (str(data.get("namespace", "")), str(data.get("service", "")))

    def idle_profile(self, node_id: str) -> CallProfile | None:
        """The call profile learned for a workload node with no traffic today (None: it has traffic, or none is
        known)."""
        data = self.node_data(node_id)
        if data.get("nodeType") == "service" or (self.graph.inbound(node_id).rate.value or 0.0) > EPSILON:
            return None
        return self.profiles.get((str(data.get("namespace", "")), str(data.get("workload", ""))))

    def learned_calls(self, node_id: str) -> list[GraphEdge]:
        """The calls of a workload with no traffic today, per request, as learned from an older graph."""
        profile = self.idle_profile(node_id)
        if profile is None:
            return []
        calls = []
        for service, protocol, rate, errors in profile.calls:
            traffic = EdgeTraffic(Estimate.exact(rate), Estimate.exact(errors))
            calls.append(GraphEdge("", node_id, self.service_node(service), protocol, traffic, learned=True))
        return calls

    def workload_node(self, workload: WorkloadKey) -> str:
        found = self.graph.workload_node.get(workload)
        if found is not None:
            return found
        node_id = f"whatif-wl-{workload[0]}-{workload[1]}"
        labels = self.workload_labels.get(workload, {})
        data: dict[str, Any] = {
            "id": node_id,
            "nodeType": "app" if labels.get("app") else "workload",
            "cluster": self._cluster_of(workload[0]),
            "namespace": workload[0],
            "workload": workload[1],
            "isWhatIf": True,
        }
        data.update({k: labels[k] for k in ("app", "version") if labels.get(k)})
        self.new_nodes.setdefault(node_id, data)
        return node_id

    def caller(self, node_id: str) -> Caller:
        data = self.node_data(node_id)
        namespace = str(data.get("namespace", ""))
        labels = dict(self.workload_labels.get((namespace, str(data.get("workload", ""))), {}))
        for key in ("app", "version"):
            if data.get(key) and key not in labels:
                labels[key] = str(data[key])
        return Caller(namespace, labels, bool(data.get("isGateway")))

    # --- what today's telemetry says ---------------------------------------------------------------------------

    def errors_of(self, workload: WorkloadKey, flow: Estimate) -> Estimate:
        """Errors of ``flow`` requests to ``workload`` at today's error ratio (unknown without traffic today)."""
        node_id = self.graph.workload_node.get(workload)
        inbound = self.graph.inbound(node_id) if node_id else EdgeTraffic()
        if inbound.rate.value is None or inbound.rate.value <= EPSILON:
            profile = self.profiles.get(workload)
            if profile is not None:
                self.note(
                    f"{workload[1]} received no requests in the window: its error rate and calls are taken from "
                    f"{profile.learned_from}"
                )
                return flow.scaled(profile.error_ratio)
            if flow.high > EPSILON:
                self.unprofiled.add(workload)
                self.note(f"{workload[1]} received no requests in the window: its error rate is unknown")
            return Estimate.between(0.0, flow.high)
        assert inbound.errors.value is not None
        return flow.scaled(inbound.errors.value / inbound.rate.value)

    def slow_share(self, workload: WorkloadKey, timeout_ms: float | None) -> Estimate | None:
        """The share of requests to ``workload`` slower than a route timeout, from today's percentiles."""
        node_id = self.graph.workload_node.get(workload)
        if timeout_ms is None or node_id is None:
            return None
        times: dict[str, float] = {}
        for edge in self.graph.incoming.get(node_id, []):
            for stat, value in edge.response_times.items():
                times[stat] = max(times.get(stat, 0.0), value)
        if not times:
            self.note(
                f"{workload[1]}: no response times today; the share timing out after {timeout_ms:g} ms is unknown"
            )
            return Estimate.between(0.0, 1.0)
        for stat, low, high in (("p50", 0.5, 1.0), ("p95", 0.05, 0.5), ("p99", 0.01, 0.05)):
            if stat in times and timeout_ms < times[stat]:
                self.note(f"{workload[1]}: a timeout of {timeout_ms:g} ms is below today's {stat} ({times[stat]:g} ms)")
                return Estimate.between(low, high)
        return ZERO

    # --- passes ------------------------------------------------------------------------------------------------

    def solve(self) -> _Prediction:
        factors: dict[str, Estimate] = {}
        inbound: dict[str, Estimate] = {}
        prediction = _Prediction(self, factors, inbound)
        for _ in range(len(self.graph.nodes) + len(self.profiles) + 2):
            prediction = _Prediction(self, factors, inbound)
            prediction.run()
            updated = self.inbound_of(prediction)
            if set(updated) == set(inbound) and all(updated[n].close_to(inbound[n]) for n in updated):
                return prediction
            inbound = updated
            factors = self.factors_of(inbound)
        self.note("the graph has a cycle: the prediction did not settle and may be off")
        return prediction

    def inbound_of(self, prediction: _Prediction) -> dict[str, Estimate]:
        """Requests/s predicted into each workload node."""
        inbound: dict[str, Estimate] = {}
        for (_, target, protocol), built in prediction.edges.items():
            if protocol in REQUEST_PROTOCOLS and self.node_data(target).get("nodeType") != "service":
                inbound[target] = inbound.get(target, ZERO) + built.traffic.rate
        return inbound

    def factors_of(self, inbound: Mapping[str, Estimate]) -> dict[str, Estimate]:
        """Predicted / today's traffic into each node that has some today (others keep their edges: roots)."""
        factors: dict[str, Estimate] = {}
        for node_id in self.graph.nodes:
            if self.graph.is_service(node_id) or node_id not in self.graph.incoming:
                continue
            today = self.graph.inbound(node_id).rate.value or 0.0
            if today > EPSILON:
                factors[node_id] = inbound.get(node_id, ZERO).scaled(1.0 / today)
        return factors

    def note_unpredicted_calls(self, edges: Sequence[PredictedEdge]) -> None:
        """Say which workloads get requests but have no calls today to scale (their downstream is unknown)."""
        extra = self.new_nodes
        wanted: dict[str, float] = {}
        for e in edges:
            wanted[e.target] = wanted.get(e.target, 0.0) + e.predicted.rate.high
        for node_id, data in self.graph.nodes.items():
            if data.get("nodeType") == "service" or node_id not in self.graph.incoming:
                continue
            idle = (self.graph.inbound(node_id).rate.value or 0.0) <= EPSILON
            calls_today = node_id in self.graph.outgoing
            if idle and wanted.get(node_id, 0.0) > EPSILON and not calls_today and self.idle_profile(node_id) is None:
                name = self.graph.label(node_id, extra)
                self.note(f"{name} received no requests in the window: what it calls is not predicted")
        for node_id, data in extra.items():
            if data.get("nodeType") != "service" and self.idle_profile(node_id) is None:
                name = self.graph.label(node_id, extra)
                self.note(f"{name} is not in the graph today: what it calls is not predicted")

    def result(self) -> WhatIfResult:
        prediction = self.solve()
        current = {(e.source, e.target, e.protocol): e for e in self.graph.edges}
        extra = self.new_nodes
        edges: list[PredictedEdge] = []
        for key in sorted(set(current) | set(prediction.edges)):
            today = current.get(key)
            built = prediction.edges.get(key)
            if today is not None and today.protocol not in REQUEST_PROTOCOLS:
                edges.append(PredictedEdge(*key, "unchanged", today.traffic, today.traffic, today.edge_id))
                continue
            now = today.traffic if today is not None else EdgeTraffic()
            predicted = built.traffic if built is not None else EdgeTraffic()
            kind: EdgeKind = built.kind if built is not None else "routed"
            if kind == "scaled" and predicted.rate.close_to(now.rate) and predicted.errors.close_to(now.errors):
                kind = "unchanged"
            notes = tuple(dict.fromkeys(built.notes)) if built is not None else ()
            delayed_share = ZERO
            response_time: Estimate | None = None
            if built is not None and built.delay_ms and predicted.rate.high > EPSILON:
                if predicted.rate.value:
                    delayed_share = built.delayed.scaled(1.0 / predicted.rate.value)
                else:
                    delayed_share = Estimate.between(0.0, 1.0)
                if today is not None and "avg" in today.response_times:
                    response_time = Estimate.exact(today.response_times["avg"]) + delayed_share.scaled(built.delay_ms)
            edges.append(
                PredictedEdge(
                    source=key[0],
                    target=key[1],
                    protocol=key[2],
                    kind=kind,
                    current=now,
                    predicted=predicted,
                    edge_id=today.edge_id if today is not None else f"whatif-{key[0]}-{key[1]}-{key[2]}",
                    response_time_ms=response_time,
                    delay_ms=built.delay_ms if built is not None else 0.0,
                    delayed_share=delayed_share,
                    notes=notes,
                )
            )
        self.note_unpredicted_calls(edges)
        return WhatIfResult(
            edges=tuple(edges),
            new_nodes=tuple(extra.values()),
            affected_services=tuple(sorted(f"{ns}/{name}" for ns, name in self.affected)),
            notes=tuple(self.notes),
            unprofiled=tuple(sorted(f"{ns}/{name}" for ns, name in self.unprofiled)),
        )


def compute_whatif(
    graph: Mapping[str, Any],
    inventory: MeshInventory,
    current: Sequence[RoutingObject],
    changes: Sequence[ProposedChange],
    history: Sequence[Mapping[str, Any]] = (),
) -> WhatIfResult:
    """Every edge of ``graph`` (a versioned-app graph) as it is expected to be once ``changes`` apply to
    ``current`` (the VirtualServices and DestinationRules in force). ``history``: older graphs of the same
    namespace, newest first, that tell what a workload without traffic in ``graph`` calls per request. See the
    module docstring for the rules."""
    return _Solver(GraphIndex(graph), inventory, current, changes, history).result()
