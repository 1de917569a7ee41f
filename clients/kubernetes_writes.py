"""Kubernetes writes for mesh-ui: read, create, replace and delete one Istio or Gateway API object.

The only module that changes a cluster. Like the list/watch side (``clients.kubernetes``) it goes through the
official ``kubernetes`` client's ``ApiClient.call_api`` and asks for raw JSON, so callers get plain dicts. Every
write can be a server-side dry run (``dryRun=All``: the API server validates and admits the object but stores
nothing). Optimistic concurrency is the API server's: a replace carries ``metadata.resourceVersion`` and a delete
``preconditions.resourceVersion``; a stale one is answered 409 Conflict. Every failure is a ``KubeError`` with the
status (0 = not reached), the ``Status`` reason and its causes (field paths), so callers can show them.
"""

from __future__ import annotations

import json
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from clients.kubernetes import GATEWAY_API_KINDS, ISTIO_KINDS, JSON, KubeError, KubernetesClient, ResourceKind
from clients.kubernetes import kube_error_of as _kube_error_of

#: The kinds mesh-ui may write: Istio's and the Gateway API's, never core Kubernetes objects.
WRITABLE_KINDS: tuple[ResourceKind, ...] = ISTIO_KINDS + GATEWAY_API_KINDS


def writable_kind(group: str, kind: str) -> ResourceKind | None:
    """The writable resource of ``group``/``kind`` (e.g. ``networking.istio.io``/``VirtualService``), else None."""
    for candidate in WRITABLE_KINDS:
        if candidate.group == group and candidate.kind == kind:
            return candidate
    return None


class KubernetesWriteClient(KubernetesClient):
    """Read and change single Istio / Gateway API objects in one cluster, with a timeout on every call."""

    def _item_path(self, kind: ResourceKind, version: str, namespace: str, name: str = "") -> str:
        path = f"/apis/{kind.group}/{version or kind.version}/namespaces/{namespace}/{kind.plural}"
        return f"{path}/{name}" if name else path

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Issue one request and return the parsed JSON answer; every failure becomes a ``KubeError``."""
        query: list[tuple[str, Any]] = [("dryRun", "All")] if dry_run else []
        try:
            response: urllib3.HTTPResponse = self._api.call_api(
                path,
                method,
                query_params=query,
                header_params={"Accept": JSON, "Content-Type": JSON},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=(self.timeout, self.timeout),
            )[0]
        except ApiException as exc:
            raise _kube_error_of(exc) from exc
        except (TimeoutError, urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeError(0, f"cannot reach the API server of {self.connection.name!r}: {exc}") from exc
        try:
            answer = json.loads(response.data)
        except ValueError as exc:
            raise KubeError(response.status, f"invalid JSON in the answer to {method} {path}: {exc}") from exc
        finally:
            response.release_conn()
        if not isinstance(answer, dict):
            raise KubeError(response.status, f"the answer to {method} {path} is not an object")
        return answer

    def fetch_object(self, kind: ResourceKind, namespace: str, name: str, version: str = "") -> dict[str, Any] | None:
        """The object as the cluster holds it now; None when it does not exist (404)."""
        try:
            return self._send("GET", self._item_path(kind, version, namespace, name))
        except KubeError as exc:
            if exc.status == 404 and exc.reason == "NotFound":
                return None
            raise

    def create_object(self, kind: ResourceKind, body: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Create ``body`` (its namespace in ``metadata``); returns the object the API server stored (or would)."""
        version = str(body.get("apiVersion", "")).rpartition("/")[2]
        namespace = str(body["metadata"]["namespace"])
        return self._send("POST", self._item_path(kind, version, namespace), body, dry_run)

    def replace_object(self, kind: ResourceKind, body: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Replace the object named in ``body`` (PUT). ``metadata.resourceVersion`` must be the one the change
        started from: when the object changed since, the API server answers 409 and nothing is written."""
        version = str(body.get("apiVersion", "")).rpartition("/")[2]
        metadata = body["metadata"]
        path = self._item_path(kind, version, str(metadata["namespace"]), str(metadata["name"]))
        return self._send("PUT", path, body, dry_run)

    def delete_object(
        self, kind: ResourceKind, namespace: str, name: str, resource_version: str, dry_run: bool = False
    ) -> dict[str, Any]:
        """Delete the object if it is still at ``resource_version`` (a stale one is answered 409)."""
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if resource_version:
            options["preconditions"] = {"resourceVersion": resource_version}
        if dry_run:
            options["dryRun"] = ["All"]
        return self._send("DELETE", self._item_path(kind, "", namespace, name), options, dry_run)
