"""Istio's protocol selection from port names and ``appProtocol``, for the port checks of Services and
ServiceEntries.

Istio reads a Service port's protocol from its ``appProtocol``, else from a name of the form
``<protocol>[-<suffix>]`` (``http``, ``http-web``; case-insensitive); otherwise it falls back to protocol sniffing.
Kiali flags ports where neither names a protocol (KIA0601) and an ``appProtocol`` it does not know (KIA0602).
"""

from __future__ import annotations

#: The protocols a port name or ``appProtocol`` may name (Kiali's list, which is Istio's).
PORT_PROTOCOLS = ("grpc", "grpc-web", "http", "http2", "https", "mongo", "redis", "tcp", "tls", "udp", "mysql")
#: Kubernetes' standard ``appProtocol`` values Istio also understands.
KUBERNETES_APP_PROTOCOLS = ("kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss")
#: Protocols whose ports may have any name.
ANY_NAME_PROTOCOLS = ("tcp", "udp")


def name_names_protocol(name: str, protocol: str) -> bool:
    """Whether ``name`` is ``protocol`` or ``protocol-<suffix>``."""
    lowered = name.lower()
    return lowered == protocol or (lowered.startswith(f"{protocol}-") and len(lowered) > len(protocol) + 1)


def service_port_names_protocol(name: str) -> bool:
    """Whether a Service port name names one of Istio's protocols."""
    return any(name_names_protocol(name, protocol) for protocol in PORT_PROTOCOLS)


def app_protocol_known(app_protocol: str) -> bool:
    """Whether a Service port's ``appProtocol`` is one Istio understands."""
    lowered = app_protocol.lower()
    return lowered in PORT_PROTOCOLS or lowered in KUBERNETES_APP_PROTOCOLS


def port_name_matches_protocol(name: str, protocol: str) -> bool:
    """Whether a ServiceEntry (or Gateway) port's name follows its declared protocol; TCP and UDP ports, and
    ports without a protocol (TCP by default), may have any name."""
    lowered = protocol.lower()
    if not lowered or lowered in ANY_NAME_PROTOCOLS:
        return True
    return name_names_protocol(name, lowered)
