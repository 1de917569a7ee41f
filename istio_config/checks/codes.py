"""The catalogue of check codes: each code's severity, message and the matching ``istioctl analyze`` code.

KIA codes, severities and messages are Kiali's (``kiali/kiali`` ``models/validations.go``, ``checkDescriptors``);
IST codes are ``istioctl analyze``'s (``istio/istio`` ``pkg/config/analysis/msg/messages.gen.go``). MUI codes are
mesh-ui's own, for checks neither has. ``make_finding`` is the one way the checkers build a ``Finding``.
"""

from __future__ import annotations

from dataclasses import dataclass

from istio_config.checks.model import Finding, IstioConfig, Severity


@dataclass(frozen=True)
class CheckCode:
    """A check's stable code, severity, message, and the ``istioctl analyze`` code of the same check."""

    code: str
    severity: Severity
    message: str
    istio_code: str = ""


VS_HOST_NOT_FOUND = CheckCode(
    "KIA1101", Severity.ERROR, "DestinationWeight on route doesn't have a valid service (host not found)", "IST0101"
)
VS_GATEWAY_NOT_FOUND = CheckCode(
    "KIA1102", Severity.ERROR, "VirtualService is pointing to a non-existent gateway", "IST0101"
)
# Kiali's severity for this one is "unknown", which it shows as information.
VS_GATEWAY_OLD_NOMENCLATURE = CheckCode(
    "KIA1108", Severity.INFO, "Preferred nomenclature: <gateway namespace>/<gateway name>"
)
VS_SINGLE_WEIGHT = CheckCode(
    "KIA1104", Severity.WARNING, "The weight is assumed to be 100 because there is only one route destination"
)
VS_REPEATED_DESTINATION = CheckCode(
    "KIA1105", Severity.WARNING, "This host subset combination is already referenced in another route destination"
)
VS_SAME_HOST = CheckCode("KIA1106", Severity.WARNING, "More than one Virtual Service for same host", "IST0109")
VS_SUBSET_NOT_FOUND = CheckCode("KIA1107", Severity.WARNING, "Subset not found", "IST0101")
# Istio reads weights as relative since istio/istio#39544 (2022): each destination gets weight / sum of weights.
# A sum other than 100 is legal, so this is information for whoever reads the weights as percentages.
VS_WEIGHT_SUM = CheckCode(
    "MUI1101",
    Severity.INFO,
    "The weights of the route destinations do not sum to 100; each destination gets its weight / their sum",
)
VS_UNREACHABLE_ROUTE = CheckCode(
    "MUI1102",
    Severity.WARNING,
    "This route is never used",
    "IST0130",
)
VS_INEFFECTIVE_MATCH = CheckCode(
    "MUI1103", Severity.INFO, "This match is never used: an earlier route has the same match", "IST0131"
)

DR_MULTI_MATCH = CheckCode(
    "KIA0201", Severity.WARNING, "More than one DestinationRules for the same host subset combination"
)
DR_HOST_NOT_FOUND = CheckCode(
    "KIA0202",
    Severity.ERROR,
    "This host has no matching entry in the service registry (service, workload or service entries)",
)
DR_SUBSET_LABELS_NOT_FOUND = CheckCode(
    "KIA0203", Severity.ERROR, "This subset's labels are not found in any matching host"
)
DR_SUBSET_NO_LABELS = CheckCode("KIA0209", Severity.WARNING, "This subset has not labels")

EXPORT_TO_NAMESPACE_NOT_FOUND = CheckCode(
    "KIA0005", Severity.ERROR, "No matching namespace found or namespace is not accessible"
)

GW_MULTI_MATCH = CheckCode(
    "KIA0301", Severity.WARNING, "More than one Gateway for the same host port combination", "IST0145"
)
GW_SELECTOR_NOT_FOUND = CheckCode(
    "KIA0302", Severity.WARNING, "No matching workload found for gateway selector", "IST0101"
)

GENERIC_SELECTORLESS_MULTI_MATCH = CheckCode(
    "KIA0002", Severity.ERROR, "More than one selector-less object in the same namespace"
)
GENERIC_SELECTOR_MULTI_MATCH = CheckCode("KIA0003", Severity.ERROR, "More than one object applied to the same workload")
# Kiali's message ends "in this namespace"; Istio's selector scope is the object's namespace, or every namespace for
# an AuthorizationPolicy in the root namespace, so mesh-ui says where it looked in the detail instead.
GENERIC_SELECTOR_NOT_FOUND = CheckCode("KIA0004", Severity.WARNING, "No matching workload found for the selector")

AP_NAMESPACE_NOT_FOUND = CheckCode("KIA0101", Severity.WARNING, "Namespace not found for this rule")
AP_WRONG_METHOD = CheckCode("KIA0102", Severity.WARNING, "Only HTTP methods and fully-qualified gRPC names are allowed")
# Kiali lowers this to a warning when the mesh's outboundTrafficPolicy is ALLOW_ANY, Istio's default, which the
# mesh config snapshot does not carry: mesh-ui keeps the default's level.
AP_HOST_NOT_FOUND = CheckCode("KIA0104", Severity.WARNING, "This host has no matching entry in the service registry")
AP_MTLS_REQUIRED = CheckCode("KIA0105", Severity.ERROR, "This field requires mTLS to be enabled")

DR_MTLS_OVERRIDDEN = CheckCode(
    "KIA0204", Severity.WARNING, "mTLS settings of a non-local Destination Rule are overridden"
)
DR_MESH_POLICY_MISSING = CheckCode(
    "KIA0205", Severity.ERROR, "PeerAuthentication enabling mTLS at mesh level is missing"
)
DR_NAMESPACE_POLICY_MISSING = CheckCode(
    "KIA0206", Severity.ERROR, "PeerAuthentication enabling namespace-wide mTLS is missing"
)
DR_NAMESPACE_POLICY_STRICT = CheckCode(
    "KIA0207", Severity.ERROR, "PeerAuthentication with TLS strict mode found, it should be permissive"
)
DR_MESH_POLICY_STRICT = CheckCode(
    "KIA0208", Severity.ERROR, "PeerAuthentication enabling mTLS found, permissive mode needed"
)
DR_MTLS_TOWARDS_DISABLED = CheckCode(
    "MUI0210",
    Severity.ERROR,
    "This rule sends Istio mTLS to workloads whose PeerAuthentication disables mTLS",
    "IST0113",
)
DR_PLAINTEXT_TOWARDS_STRICT = CheckCode(
    "MUI0211",
    Severity.ERROR,
    "This rule disables TLS towards workloads whose PeerAuthentication requires strict mTLS",
    "IST0113",
)

PA_MESH_DR_MISSING = CheckCode("KIA0401", Severity.ERROR, "Mesh-wide Destination Rule enabling mTLS is missing")
PA_SELECTOR_IN_ROOT_NAMESPACE = CheckCode(
    "MUI0402",
    Severity.WARNING,
    "Istio ignores a PeerAuthentication with a selector in the root namespace",
)
PA_NAMESPACE_DR_MISSING = CheckCode(
    "KIA0501", Severity.ERROR, "Destination Rule enabling namespace-wide mTLS is missing"
)
PA_NAMESPACE_DISABLE_DR_MISSING = CheckCode(
    "KIA0505", Severity.ERROR, "Destination Rule disabling namespace-wide mTLS is missing"
)
PA_MESH_DISABLE_DR_MISSING = CheckCode(
    "KIA0506", Severity.ERROR, "Destination Rule disabling mesh-wide mTLS is missing"
)

PORT_NAME_MISMATCH = CheckCode("KIA0601", Severity.ERROR, "Port name must follow <protocol>[-suffix] form", "IST0118")
PORT_APP_PROTOCOL_MISMATCH = CheckCode("KIA0602", Severity.ERROR, "Port appProtocol must follow <protocol> form")

SIDECAR_EGRESS_HOST_NOT_FOUND = CheckCode(
    "KIA1004", Severity.WARNING, "This host has no matching entry in the service registry"
)
SIDECAR_GLOBAL_SELECTOR = CheckCode(
    "KIA1006", Severity.WARNING, "Global default sidecar should not have workloadSelector"
)

SE_ADDRESSES_REQUIRED = CheckCode(
    "MUI1201", Severity.WARNING, "ServiceEntry addresses are required for this protocol", "IST0134"
)
# Kiali's codes for its ServiceEntry multi-match checker (business/checkers/serviceentries); the wording is mesh-ui's.
SE_MULTI_MATCH = CheckCode("KIA1211", Severity.WARNING, "More than one ServiceEntry for the same host and port")
SE_PROTOCOL_CONFLICT = CheckCode(
    "KIA1212", Severity.WARNING, "ServiceEntries define the same host and port with different protocols"
)

WORKLOAD_MISSING_SIDECAR = CheckCode(
    "MUI1302", Severity.WARNING, "Pod has no Istio sidecar in a namespace with sidecar injection", "IST0103"
)
WORKLOAD_MISSING_APP_LABEL = CheckCode("MUI1303", Severity.WARNING, "Pod has no app label")
WORKLOAD_MISSING_VERSION_LABEL = CheckCode("MUI1304", Severity.WARNING, "Pod has no version label")
WORKLOAD_PORT_PROTOCOL_CONFLICT = CheckCode(
    "MUI1305",
    Severity.WARNING,
    "Services selecting this workload use the same port with different protocols",
    "IST0116",
)
WORKLOAD_TARGET_PORT_CONFLICT = CheckCode(
    "MUI1306",
    Severity.WARNING,
    "Services selecting this workload use the same targetPort for different ports",
    "IST0137",
)

ALL_CODES: tuple[CheckCode, ...] = (
    VS_HOST_NOT_FOUND,
    VS_GATEWAY_NOT_FOUND,
    VS_GATEWAY_OLD_NOMENCLATURE,
    VS_SINGLE_WEIGHT,
    VS_REPEATED_DESTINATION,
    VS_SAME_HOST,
    VS_SUBSET_NOT_FOUND,
    VS_WEIGHT_SUM,
    VS_UNREACHABLE_ROUTE,
    VS_INEFFECTIVE_MATCH,
    DR_MULTI_MATCH,
    DR_HOST_NOT_FOUND,
    DR_SUBSET_LABELS_NOT_FOUND,
    DR_SUBSET_NO_LABELS,
    GW_MULTI_MATCH,
    GW_SELECTOR_NOT_FOUND,
    EXPORT_TO_NAMESPACE_NOT_FOUND,
    GENERIC_SELECTORLESS_MULTI_MATCH,
    GENERIC_SELECTOR_MULTI_MATCH,
    GENERIC_SELECTOR_NOT_FOUND,
    AP_NAMESPACE_NOT_FOUND,
    AP_WRONG_METHOD,
    AP_HOST_NOT_FOUND,
    AP_MTLS_REQUIRED,
    DR_MTLS_OVERRIDDEN,
    DR_MESH_POLICY_MISSING,
    DR_NAMESPACE_POLICY_MISSING,
    DR_NAMESPACE_POLICY_STRICT,
    DR_MESH_POLICY_STRICT,
    DR_MTLS_TOWARDS_DISABLED,
    DR_PLAINTEXT_TOWARDS_STRICT,
    PA_MESH_DR_MISSING,
    PA_SELECTOR_IN_ROOT_NAMESPACE,
    PA_NAMESPACE_DR_MISSING,
    PA_NAMESPACE_DISABLE_DR_MISSING,
    PA_MESH_DISABLE_DR_MISSING,
    PORT_NAME_MISMATCH,
    PORT_APP_PROTOCOL_MISMATCH,
    SIDECAR_EGRESS_HOST_NOT_FOUND,
    SIDECAR_GLOBAL_SELECTOR,
    SE_ADDRESSES_REQUIRED,
    SE_MULTI_MATCH,
    SE_PROTOCOL_CONFLICT,
    WORKLOAD_MISSING_SIDECAR,
    WORKLOAD_MISSING_APP_LABEL,
    WORKLOAD_MISSING_VERSION_LABEL,
    WORKLOAD_PORT_PROTOCOL_CONFLICT,
    WORKLOAD_TARGET_PORT_CONFLICT,
)


def make_finding(
    check: CheckCode, obj: IstioConfig, path: str, detail: str = "", severity: Severity | None = None
) -> Finding:
    """A finding of ``check`` on ``obj`` at ``path``; ``detail`` (e.g. the host) is appended to the message;
    ``severity`` replaces the check's own where Kiali lowers it by context."""
    return make_object_finding(check, obj.kind, obj.namespace, obj.name, path, detail, severity)


def make_object_finding(
    check: CheckCode,
    kind: str,
    namespace: str,
    name: str,
    path: str,
    detail: str = "",
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``check`` on any object (an Istio object, or a ``Workload`` or ``Service`` for Kiali's
    workload and service checks), as :func:`make_finding`."""
    message = f"{check.message}: {detail}" if detail else check.message
    return Finding(
        code=check.code,
        severity=severity or check.severity,
        message=message,
        kind=kind,
        namespace=namespace,
        name=name,
        path=path,
        istio_code=check.istio_code,
    )


# --- Gateway TLS credentials and the Kubernetes Gateway API (Kiali's KIA14xx-16xx; mesh-ui's MUI03xx, MUI14xx,
# MUI15xx for what Istio reports in route and gateway status or ``istioctl analyze`` and Kiali does not check).
GW_CREDENTIAL_NOT_FOUND = CheckCode(
    "MUI0301",
    Severity.ERROR,
    "The TLS credential is not found: no Secret of that name in the gateway workload's namespace",
    "IST0101",
)
K8S_ROUTE_GATEWAY_NOT_FOUND = CheckCode(
    "KIA1401", Severity.ERROR, "Route is pointing to a non-existent or inaccessible K8s gateway"
)
K8S_ROUTE_SERVICE_NOT_FOUND = CheckCode(
    "KIA1402", Severity.ERROR, "Reference doesn't have a valid service (Service name not found)"
)
K8S_ROUTE_BACKEND_NOT_PERMITTED = CheckCode(
    "MUI1401",
    Severity.ERROR,
    "Cross-namespace backend reference not permitted: no ReferenceGrant in the backend's namespace allows it",
)
K8S_GATEWAY_MULTI_MATCH = CheckCode(
    "KIA1501", Severity.WARNING, "More than one K8s Gateway for the same host port combination"
)
K8S_GATEWAY_ADDRESS_MULTI_MATCH = CheckCode(
    "KIA1502", Severity.WARNING, "More than one K8s Gateway for the same address and type combination"
)
K8S_GATEWAY_LISTENER_NOT_UNIQUE = CheckCode(
    "KIA1503", Severity.ERROR, "Each listener must have a unique combination of Hostname, Port, and Protocol"
)
K8S_GATEWAY_CERTIFICATE_NOT_FOUND = CheckCode(
    "MUI1501", Severity.ERROR, "The certificate Secret this listener refers to is not found"
)
K8S_GATEWAY_CERTIFICATE_NOT_PERMITTED = CheckCode(
    "MUI1502",
    Severity.ERROR,
    "Cross-namespace certificate reference not permitted: no ReferenceGrant in the Secret's namespace allows it",
)
K8S_REFERENCE_GRANT_NAMESPACE_NOT_FOUND = CheckCode(
    "KIA1601", Severity.ERROR, "Namespace is not found or is not accessible"
)

ALL_CODES = (
    *ALL_CODES,
    GW_CREDENTIAL_NOT_FOUND,
    K8S_ROUTE_GATEWAY_NOT_FOUND,
    K8S_ROUTE_SERVICE_NOT_FOUND,
    K8S_ROUTE_BACKEND_NOT_PERMITTED,
    K8S_GATEWAY_MULTI_MATCH,
    K8S_GATEWAY_ADDRESS_MULTI_MATCH,
    K8S_GATEWAY_LISTENER_NOT_UNIQUE,
    K8S_GATEWAY_CERTIFICATE_NOT_FOUND,
    K8S_GATEWAY_CERTIFICATE_NOT_PERMITTED,
    K8S_REFERENCE_GRANT_NAMESPACE_NOT_FOUND,
)

VS_JWT_CLAIM_ROUTE_WITHOUT_REQUEST_AUTHN = CheckCode(
    "MUI1104",
    Severity.ERROR,
    "This route matches on a JWT claim, but no RequestAuthentication covers the gateway's pods",
    "IST0149",
)

ALL_CODES = (*ALL_CODES, VS_JWT_CLAIM_ROUTE_WITHOUT_REQUEST_AUTHN)
