"""Mutual TLS between two proxies: PeerAuthentication on the server, DestinationRule TLS on the client.

``peer_authentication_mode`` resolves a server pod's effective mode (workload, namespace,
then mesh-wide policy, with port-level overrides); ``decide_mutual_tls`` combines it with
sidecar presence and the client's TLS mode into "is this hop mTLS" and the Envoy response
flag when the handshake cannot work.
"""

from __future__ import annotations

from simulator.mesh_snapshot import (
    ROOT_NAMESPACE,
    KubeObject,
    MeshSnapshot,
    PodInfo,
    labels_include,
    object_namespace,
    object_spec,
)


def peer_authentication_mode(snapshot: MeshSnapshot, pod: PodInfo, port: int | None = None) -> str:
    """Effective mTLS mode of a server pod: workload → namespace → mesh-wide policy, else PERMISSIVE."""
    key = ("peer_authentication", pod.key, port)
    if key not in snapshot.memo:
        snapshot.memo[key] = _peer_authentication_mode(snapshot, pod, port)
    mode: str = snapshot.memo[key]
    return mode


def _peer_authentication_mode(snapshot: MeshSnapshot, pod: PodInfo, port: int | None) -> str:
    scoped: list[KubeObject] = []
    for namespace, with_selector in ((pod.namespace, True), (pod.namespace, False), (ROOT_NAMESPACE, False)):
        for policy in snapshot.peer_authentications:
            selector = (object_spec(policy).get("selector") or {}).get("matchLabels")
            if object_namespace(policy) != namespace or bool(selector) != with_selector:
                continue
            if with_selector and not labels_include(pod.labels, selector):
                continue
            scoped.append(policy)
            break
    for chosen in scoped:
        spec = object_spec(chosen)
        port_mode = ((spec.get("portLevelMtls") or {}).get(str(port)) or {}).get("mode") if port else None
        mode = str(port_mode or (spec.get("mtls") or {}).get("mode") or "UNSET").upper()
        if mode != "UNSET":
            return mode
    return "PERMISSIVE"


def decide_mutual_tls(
    source_has_sidecar: bool, destination_has_sidecar: bool, server_mode: str, client_tls_mode: str | None
) -> tuple[bool, str | None]:
    """Whether a hop is mutual TLS, and the response flag when the handshake cannot work.

    ``client_tls_mode`` is the DestinationRule ``trafficPolicy.tls.mode`` (None = auto mTLS,
    which sends mTLS to sidecar-injected servers unless their PeerAuthentication is DISABLE).
    """
    if not destination_has_sidecar:
        return False, ("UF" if client_tls_mode == "ISTIO_MUTUAL" else None)
    if not source_has_sidecar:
        return False, ("UC" if server_mode == "STRICT" else None)
    if client_tls_mode in ("DISABLE", "SIMPLE"):
        return False, ("UC" if server_mode == "STRICT" else None)
    if server_mode == "DISABLE":
        return False, ("UC" if client_tls_mode == "ISTIO_MUTUAL" else None)
    return True, None
