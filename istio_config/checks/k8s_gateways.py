"""Checks of the Kubernetes Gateway API objects Istio implements, as Kiali's ``business/checkers/k8s*`` run them,
plus the reference checks Istio reports in the objects' status (``ResolvedRefs: RefNotPermitted``,
``InvalidCertificateRef``) and Kiali does not.

The inventory names these kinds as Kiali does (``K8sGateway``, ``K8sHTTPRoute``, ``K8sGRPCRoute``,
``K8sReferenceGrant``), so ``Gateway`` always means Istio's. Unset reference fields take the Gateway API's
defaults, as the API server would have filled them in: a ``parentRef`` is a ``Gateway`` of
``gateway.networking.k8s.io``, a ``backendRef`` a ``Service`` of the core group, a listener's ``certificateRef`` a
core ``Secret``, each in the referring object's namespace. A listener admits routes from its own namespace unless
``allowedRoutes.namespaces.from`` says ``All`` or ``Selector`` (``matchLabels`` only, as Kiali).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from istio_config.checks import codes
from istio_config.checks.hosts import labels_select
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, mappings_of

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
K8S_GATEWAY = "K8sGateway"
K8S_HTTP_ROUTE = "K8sHTTPRoute"
K8S_GRPC_ROUTE = "K8sGRPCRoute"
K8S_REFERENCE_GRANT = "K8sReferenceGrant"
#: The Kubernetes kind of each Gateway API object, and the name the checks (and Kiali) give it.
CHECK_KIND_OF_GATEWAY_API_KIND = {
    "Gateway": K8S_GATEWAY,
    "HTTPRoute": K8S_HTTP_ROUTE,
    "GRPCRoute": K8S_GRPC_ROUTE,
    "ReferenceGrant": K8S_REFERENCE_GRANT,
}
ROUTE_KINDS = {K8S_HTTP_ROUTE: "HTTPRoute", K8S_GRPC_ROUTE: "GRPCRoute"}


def _text(mapping: Mapping[str, Any], key: str, default: str = "") -> str:
    value = mapping.get(key)
    return str(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Reference:
    """Who refers (group, kind, namespace) to what (group, kind, namespace, name): what a ReferenceGrant allows."""

    from_group: str
    from_kind: str
    from_namespace: str
    to_group: str
    to_kind: str
    to_namespace: str
    to_name: str


def reference_permitted(grants: list[IstioConfig], ref: Reference) -> bool:
    """Whether a reference is allowed: same namespace, or a ReferenceGrant in the target's namespace lets
    ``from`` (group, kind, namespace) refer to ``to`` (group, kind, and the name when the grant names one)."""
    if ref.from_namespace == ref.to_namespace:
        return True
    for grant in grants:
        if grant.namespace != ref.to_namespace:
            continue
        froms = mappings_of(grant.spec.get("from"))
        tos = mappings_of(grant.spec.get("to"))
        from_ok = any(
            (_text(f, "group"), _text(f, "kind"), _text(f, "namespace"))
            == (ref.from_group, ref.from_kind, ref.from_namespace)
            for f in froms
        )
        to_ok = any(
            (_text(t, "group"), _text(t, "kind")) == (ref.to_group, ref.to_kind)
            and _text(t, "name") in ("", ref.to_name)
            for t in tos
        )
        if from_ok and to_ok:
            return True
    return False


class K8sGatewayChecker:
    """Runs every Gateway API check over one inventory."""

    def __init__(self, inventory: ConfigInventory) -> None:
        self.inventory = inventory
        self.gateways = inventory.of_kind(K8S_GATEWAY)
        self.gateways_by_key = {(gw.namespace, gw.name): gw for gw in self.gateways}
        self.grants = inventory.of_kind(K8S_REFERENCE_GRANT)
        self.namespace_labels = {ns.name: ns.labels for ns in inventory.namespaces}
        self.services = {(svc.namespace, svc.name) for svc in inventory.services}
        self.secrets = None if inventory.secrets is None else {(s.namespace, s.name) for s in inventory.secrets}

    def check(self) -> list[Finding]:
        findings = self.check_listener_conflicts() + self.check_address_conflicts()
        for gateway in self.gateways:
            findings += self.check_certificate_refs(gateway)
        for check_kind in ROUTE_KINDS:
            for route in self.inventory.of_kind(check_kind):
                findings += self.check_parent_refs(route)
                findings += self.check_backend_refs(route)
        for grant in self.grants:
            findings += self.check_grant_namespaces(grant)
        return findings

    # ------------------------------------------------------------------ gateways

    @staticmethod
    def _listeners(gateway: IstioConfig) -> list[Mapping[str, Any]]:
        return mappings_of(gateway.spec.get("listeners"))

    @staticmethod
    def _listener_key(listener: Mapping[str, Any]) -> tuple[str, str, str] | None:
        """(hostname, port, protocol) of a listener with a hostname; Kiali leaves hostname-less listeners out."""
        hostname = listener.get("hostname")
        if not hostname:
            return None
        return str(hostname), str(listener.get("port")), str(listener.get("protocol"))

    def check_listener_conflicts(self) -> list[Finding]:
        """KIA1501: a listener whose hostname, port and protocol another K8s Gateway's listener has too;
        KIA1503: two differently named listeners of one Gateway with the same hostname, port and protocol."""
        owners: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
        for gateway in self.gateways:
            for listener in self._listeners(gateway):
                key = self._listener_key(listener)
                if key is not None:
                    owners[key].add((gateway.namespace, gateway.name))
        findings = []
        for gateway in self.gateways:
            listeners = self._listeners(gateway)
            for index, listener in enumerate(listeners):
                key = self._listener_key(listener)
                if key is None:
                    continue
                if owners[key] - {(gateway.namespace, gateway.name)}:
                    findings.append(
                        codes.make_finding(
                            codes.K8S_GATEWAY_MULTI_MATCH,
                            gateway,
                            f"spec.listeners[{index}].hostname",
                            f"{key[0]}:{key[1]}/{key[2]}",
                        )
                    )
                if any(
                    other is not listener
                    and other.get("name") != listener.get("name")
                    and self._listener_key(other) == key
                    for other in listeners
                ):
                    findings.append(
                        codes.make_finding(
                            codes.K8S_GATEWAY_LISTENER_NOT_UNIQUE, gateway, f"spec.listeners[{index}].name"
                        )
                    )
        return findings

    def check_address_conflicts(self) -> list[Finding]:
        """KIA1502: an address (type and value) another K8s Gateway asks for too."""
        owners: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for gateway in self.gateways:
            for address in mappings_of(gateway.spec.get("addresses")):
                owners[(_text(address, "type", "IPAddress"), _text(address, "value"))].add(
                    (gateway.namespace, gateway.name)
                )
        findings = []
        for gateway in self.gateways:
            for index, address in enumerate(mappings_of(gateway.spec.get("addresses"))):
                key = (_text(address, "type", "IPAddress"), _text(address, "value"))
                if owners[key] - {(gateway.namespace, gateway.name)}:
                    findings.append(
                        codes.make_finding(
                            codes.K8S_GATEWAY_ADDRESS_MULTI_MATCH, gateway, f"spec.addresses[{index}].value", key[1]
                        )
                    )
        return findings

    def check_certificate_refs(self, gateway: IstioConfig) -> list[Finding]:
        """MUI1502: a certificate Secret in another namespace that no ReferenceGrant lets the Gateway use;
        MUI1501: a certificate Secret that does not exist (only where Secrets are readable)."""
        findings = []
        for index, listener in enumerate(self._listeners(gateway)):
            tls = listener.get("tls")
            refs = mappings_of(tls.get("certificateRefs")) if isinstance(tls, dict) else []
            for ref_index, ref in enumerate(refs):
                if (_text(ref, "group"), _text(ref, "kind", "Secret")) != ("", "Secret"):
                    continue
                namespace, name = _text(ref, "namespace", gateway.namespace), _text(ref, "name")
                path = f"spec.listeners[{index}].tls.certificateRefs[{ref_index}]"
                reference = Reference(GATEWAY_API_GROUP, "Gateway", gateway.namespace, "", "Secret", namespace, name)
                if not reference_permitted(self.grants, reference):
                    findings.append(
                        codes.make_finding(
                            codes.K8S_GATEWAY_CERTIFICATE_NOT_PERMITTED, gateway, f"{path}.namespace", namespace
                        )
                    )
                elif self.secrets is not None and (namespace, name) not in self.secrets:
                    findings.append(
                        codes.make_finding(
                            codes.K8S_GATEWAY_CERTIFICATE_NOT_FOUND, gateway, f"{path}.name", f"{namespace}/{name}"
                        )
                    )
        return findings

    # ------------------------------------------------------------------ routes

    def _admits_routes_from(self, gateway: IstioConfig, namespace: str) -> bool:
        """Whether any listener of a Gateway in another namespace admits routes from ``namespace`` (Kiali's
        ``IsGatewaySharedWithNS``)."""
        labels = self.namespace_labels.get(namespace)
        if labels is None:
            return False
        for listener in self._listeners(gateway):
            allowed = listener.get("allowedRoutes")
            namespaces = allowed.get("namespaces") if isinstance(allowed, dict) else None
            namespaces = namespaces if isinstance(namespaces, dict) else {}
            origin = _text(namespaces, "from", "Same")
            if origin == "All":
                return True
            selector = namespaces.get("selector")
            match_labels = selector.get("matchLabels") if isinstance(selector, dict) else None
            if origin == "Selector" and isinstance(match_labels, dict) and labels_select(match_labels, labels):
                return True
        return False

    def check_parent_refs(self, route: IstioConfig) -> list[Finding]:
        """KIA1401: a parentRef to a K8s Gateway that does not exist, or that lives in another namespace and
        admits no routes from the route's namespace."""
        findings = []
        for index, ref in enumerate(mappings_of(route.spec.get("parentRefs"))):
            if (_text(ref, "group", GATEWAY_API_GROUP), _text(ref, "kind", "Gateway")) != (
                GATEWAY_API_GROUP,
                "Gateway",
            ):
                continue
            namespace, name = _text(ref, "namespace", route.namespace), _text(ref, "name")
            gateway = self.gateways_by_key.get((namespace, name))
            if gateway is None or (
                namespace != route.namespace and not self._admits_routes_from(gateway, route.namespace)
            ):
                findings.append(
                    codes.make_finding(
                        codes.K8S_ROUTE_GATEWAY_NOT_FOUND,
                        route,
                        f"spec.parentRefs[{index}].name",
                        f"{namespace}/{name}",
                    )
                )
        return findings

    @staticmethod
    def _backend_refs(route: IstioConfig) -> Iterator[tuple[int, int, Mapping[str, Any]]]:
        for rule_index, rule in enumerate(mappings_of(route.spec.get("rules"))):
            for ref_index, ref in enumerate(mappings_of(rule.get("backendRefs"))):
                yield rule_index, ref_index, ref

    def check_backend_refs(self, route: IstioConfig) -> list[Finding]:
        """KIA1402: a backend Service that does not exist; MUI1401: a backend in another namespace that no
        ReferenceGrant lets the route use."""
        findings = []
        route_kind = ROUTE_KINDS[route.kind]
        for rule_index, ref_index, ref in self._backend_refs(route):
            if (_text(ref, "group"), _text(ref, "kind", "Service")) != ("", "Service"):
                continue
            namespace, name = _text(ref, "namespace", route.namespace), _text(ref, "name")
            path = f"spec.rules[{rule_index}].backendRefs[{ref_index}]"
            reference = Reference(GATEWAY_API_GROUP, route_kind, route.namespace, "", "Service", namespace, name)
            if (namespace, name) not in self.services:
                findings.append(
                    codes.make_finding(codes.K8S_ROUTE_SERVICE_NOT_FOUND, route, f"{path}.name", f"{namespace}/{name}")
                )
            elif not reference_permitted(self.grants, reference):
                findings.append(
                    codes.make_finding(codes.K8S_ROUTE_BACKEND_NOT_PERMITTED, route, f"{path}.namespace", namespace)
                )
        return findings

    # ------------------------------------------------------------------ reference grants

    def check_grant_namespaces(self, grant: IstioConfig) -> list[Finding]:
        """KIA1601: a ReferenceGrant ``from`` namespace that does not exist."""
        return [
            codes.make_finding(
                codes.K8S_REFERENCE_GRANT_NAMESPACE_NOT_FOUND,
                grant,
                f"spec.from[{index}].namespace",
                _text(source, "namespace"),
            )
            for index, source in enumerate(mappings_of(grant.spec.get("from")))
            if _text(source, "namespace") not in self.namespace_labels
        ]
