"""Kubeconfig files pointing the official Kubernetes client at a running simulator."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def kubeconfig_dict(
    server_url: str, context: str = "simulator", namespace: str = "default", token: str | None = None
) -> dict[str, Any]:
    """A kubeconfig document for ``server_url`` (plain HTTP, optional bearer token)."""
    user: dict[str, Any] = {"token": token} if token else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}],
        "current-context": context,
    }


def write_kubeconfig(
    path: str | os.PathLike[str],
    server_url: str,
    context: str = "simulator",
    namespace: str = "default",
    token: str | None = None,
) -> Path:
    """Write a kubeconfig for ``server_url`` to ``path`` (parent directories created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(kubeconfig_dict(server_url, context, namespace, token), sort_keys=False))
    return target
