"""IST0149: a VirtualService routing on a JWT claim at a gateway whose pods no RequestAuthentication covers.

A header match on ``@request.auth.claims.<claim>`` (in ``headers`` or ``withoutHeaders``) only works where the
proxy validated the request's JWT, i.e. where a ``RequestAuthentication`` selects the pod. At a gateway that has
none, the claim is never set and the route silently never matches (or always, for ``withoutHeaders``). As
``istioctl analyze`` does, the check looks at every pod an Istio ``Gateway`` the VirtualService binds to selects,
and at the RequestAuthentications of the pod's namespace and of the root namespace (one without a selector covers
its whole namespace). The mesh gateway (sidecars) is not checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from istio_config.checks import codes
from istio_config.checks.hosts import labels_select, resolve_gateway_name
from istio_config.checks.model import ConfigInventory, Finding, IstioConfig, list_of, mappings_of

JWT_CLAIM_HEADER_PREFIX = "@request.auth.claims."
MESH_GATEWAY = "mesh"


def first_claim_match(vs: IstioConfig) -> tuple[str, str] | None:
    """``(path, header)`` of the first HTTP match on a JWT claim in ``vs``; None when it has none."""
    for route_index, route in enumerate(mappings_of(vs.spec.get("http"))):
        for match_index, match in enumerate(mappings_of(route.get("match"))):
            for field in ("headers", "withoutHeaders"):
                headers = match.get(field)
                if not isinstance(headers, Mapping):
                    continue
                for header in headers:
                    if str(header).startswith(JWT_CLAIM_HEADER_PREFIX):
                        return f"spec.http[{route_index}].match[{match_index}].{field}", str(header)
    return None


def _selector(obj: IstioConfig, *keys: str) -> Mapping[str, str]:
    value: object = obj.spec
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def check_jwt_claim_routes(inventory: ConfigInventory) -> list[Finding]:
    """MUI1104 (IST0149) on each VirtualService and gateway where a claim-routed gateway pod has no JWT validation."""
    authn_selectors: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for authn in inventory.of_kind("RequestAuthentication"):
        authn_selectors[authn.namespace].append(_selector(authn, "selector", "matchLabels"))
    gateways = {f"{gw.namespace}/{gw.name}": gw for gw in inventory.of_kind("Gateway")}
    root = inventory.mesh.root_namespace
    findings = []
    for vs in inventory.of_kind("VirtualService"):
        claim_match = first_claim_match(vs)
        if claim_match is None:
            continue
        path, header = claim_match
        for reference in [str(g) for g in list_of(vs.spec.get("gateways"))]:
            if reference == MESH_GATEWAY:
                continue
            gateway = gateways.get(resolve_gateway_name(reference, vs.namespace))
            if gateway is None:
                continue  # a missing gateway is KIA1102's finding
            gateway_selector = _selector(gateway, "selector")
            uncovered = [
                pod
                for pod in inventory.pods
                if labels_select(gateway_selector, pod.labels)
                and not any(
                    labels_select(selector, pod.labels)
                    for selector in (*authn_selectors[root], *authn_selectors[pod.namespace])
                )
            ]
            if uncovered:
                pods = ", ".join(f"{pod.namespace}/{pod.name}" for pod in uncovered[:3])
                more = f" and {len(uncovered) - 3} more" if len(uncovered) > 3 else ""
                detail = f"{header} at gateway {reference}: pod {pods}{more}"
                findings.append(codes.make_finding(codes.VS_JWT_CLAIM_ROUTE_WITHOUT_REQUEST_AUTHN, vs, path, detail))
    return findings
