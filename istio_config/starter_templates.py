"""Starter documents for the "Create" page of the YAML editor: one minimal, schema-valid object per Istio kind.

Each is a Kubernetes document the editor pre-fills (``starter_yaml``) and the user then edits; hosts and selectors
point at a placeholder service named ``my-service`` so the document is complete without being useful as is.
"""

from __future__ import annotations

from typing import Any

from istio_config.yaml_lines import dump_yaml

_NETWORKING = "networking.istio.io/v1"
_SECURITY = "security.istio.io/v1"

#: kind → (apiVersion, default name, spec), in the order the kind picker lists them.
_STARTERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "VirtualService": (
        _NETWORKING,
        "my-service",
        {"hosts": ["my-service"], "http": [{"route": [{"destination": {"host": "my-service"}}]}]},
    ),
    "DestinationRule": (
        _NETWORKING,
        "my-service",
        {"host": "my-service", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]},
    ),
    "Gateway": (
        _NETWORKING,
        "my-gateway",
        {
            "selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
        },
    ),
    "ServiceEntry": (
        _NETWORKING,
        "external-api",
        {
            "hosts": ["api.example.com"],
            "location": "MESH_EXTERNAL",
            "resolution": "DNS",
            "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
        },
    ),
    "Sidecar": (_NETWORKING, "default", {"egress": [{"hosts": ["./*", "istio-system/*"]}]}),
    "PeerAuthentication": (_SECURITY, "default", {"mtls": {"mode": "STRICT"}}),
    "AuthorizationPolicy": (
        _SECURITY,
        "allow-my-service",
        {
            "selector": {"matchLabels": {"app": "my-service"}},
            "action": "ALLOW",
            "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}],
        },
    ),
    "RequestAuthentication": (
        _SECURITY,
        "jwt-my-service",
        {
            "selector": {"matchLabels": {"app": "my-service"}},
            "jwtRules": [{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/jwks"}],
        },
    ),
}

STARTER_KINDS: tuple[str, ...] = tuple(_STARTERS)


def starter_document(kind: str, namespace: str) -> dict[str, Any]:
    """The starter object of ``kind`` in ``namespace``; ``KeyError`` for a kind without a starter."""
    api_version, name, spec = _STARTERS[kind]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def starter_yaml(kind: str, namespace: str) -> str:
    """``starter_document`` as the YAML the editor shows."""
    return dump_yaml(starter_document(kind, namespace))
