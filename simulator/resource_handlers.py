"""The Kubernetes REST verbs of the simulated API server, over the object store.

``ResourceHandlers`` answers list (selectors, pagination), get, create, replace, merge/strategic/JSON
patch, delete (one object, a collection, a namespace with its contents) and the deployment ``scale``
subresource, honouring ``dryRun``, the ``status`` subresource split, injected faults and validation,
and asks the controller to reconcile after every write.  The handlers know nothing of HTTP: each takes
the parsed :class:`~simulator.discovery.ApiRequest` (plus the body and, for patches, its content type) and
returns ``(status code, response object)``, which :class:`~simulator.server.ApiServer` writes.  Errors are
raised as :class:`~simulator.errors.StoreError` subclasses; the HTTP handler turns them into ``Status`` objects.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from simulator.controller import Controller
from simulator.discovery import ApiRequest
from simulator.errors import BadRequest, Conflict, MethodNotAllowed, NotFound, StoreError
from simulator.faults import Faults
from simulator.field_ownership import record_update, server_side_apply
from simulator.openapi_models import SchemaCursor, unknown_fields
from simulator.paging import ListPager
from simulator.patches import APPLY_PATCH, apply_patch, parse_apply_body
from simulator.replicas import build_scale
from simulator.resources import RESOURCE_TYPES, Obj
from simulator.store import ObjectStore
from simulator.validation import invalid_error, validation_causes


class ResourceHandlers:
    """Per-verb handling of Kubernetes resource requests; each returns ``(status code, response object)``."""

    def __init__(self, store: ObjectStore, controller: Controller | None, faults: Faults) -> None:
        self.store = store
        self.controller = controller
        self.faults = faults
        self._pager = ListPager()
        self._cluster_ip_lock = threading.Lock()
        self._next_cluster_ip = 0

    def _reconcile(self, namespace: str | None) -> None:
        if self.controller is not None:
            self.controller.reconcile([namespace] if namespace else None)

    @staticmethod
    def _parse_body(body: bytes) -> Any:
        try:
            return json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            raise BadRequest(f"error decoding request body: {error}") from error

    # ------------------------------------------------------------------ reads
    def list_objects(self, request: ApiRequest) -> Obj:
        return self._pager.list(self.store, request)

    def get_object(self, request: ApiRequest) -> tuple[int, Obj]:
        assert request.name is not None
        self.faults.check(request.rt, "get", request.namespace)
        rt = request.rt
        return 200, request.render(self.store.get_ref(rt.group, rt.plural, request.namespace, request.name))

    # ------------------------------------------------------------------ writes
    def _check_body(self, request: ApiRequest, obj: Any, validate: bool = True) -> Obj:
        """Check kind/apiVersion/namespace/name of a request body against the URL, fill defaults, and (``validate``)
        check its fields."""
        rt = request.rt
        if not isinstance(obj, dict):
            raise BadRequest("the request body must be a JSON object")
        obj.setdefault("kind", rt.kind)
        obj.setdefault("apiVersion", request.api_version)
        group, _, version = str(obj["apiVersion"]).rpartition("/")
        if obj["kind"] != rt.kind or group != rt.group or version not in rt.versions:
            raise BadRequest(
                f"the API version in the data ({obj['apiVersion']}) and kind ({obj['kind']}) do not "
                f"match the requested resource {request.api_version}/{rt.plural}"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != request.namespace:
                raise BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = request.namespace
            if request.namespace and not self.store.namespace_exists(request.namespace):
                raise NotFound(
                    f'namespaces "{request.namespace}" not found', {"name": request.namespace, "kind": "namespaces"}
                )
        if request.name is not None and meta.get("name") and meta["name"] != request.name:
            raise BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({request.name})"
            )
        if request.name is not None:
            meta["name"] = request.name
        if not validate:
            return obj
        self._check_unknown_fields(request, obj)
        causes = validation_causes(obj, rt)
        if causes:
            raise invalid_error(obj, rt, causes)
        return obj

    def _schema(self, request: ApiRequest) -> SchemaCursor:
        return SchemaCursor.for_kind(request.rt, request.version)

    def _check_unknown_fields(self, request: ApiRequest, obj: Obj) -> None:
        """``fieldValidation=Strict`` (what kubectl sends): a field the kind's schema does not know is a 400, as
        the API server's strict decoding answers it. ``Warn`` and ``Ignore`` (the default) accept it."""
        if request.query.get("fieldValidation") != "Strict" or request.subresource is not None:
            return
        unknown = unknown_fields(obj, self._schema(request))
        if unknown:
            rt = request.rt
            listed = ", ".join(f'unknown field "{path}"' for path in unknown)
            raise BadRequest(
                f'{rt.kind} in version "{request.version}" cannot be handled as a {rt.kind}: '
                f"strict decoding error: {listed}"
            )

    def create_object(self, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        if request.name is not None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        self.faults.check(request.rt, "create", request.namespace)
        self.faults.check_write(request.rt, request.dry_run)
        obj = self._check_body(request, self._parse_body(body))
        record_update(None, obj, request.field_manager, self._schema(request))
        if request.rt.kind == "Service":
            self._allocate_cluster_ip(obj)
        created = self.store.create(obj, dry_run=request.dry_run)
        if not request.dry_run:
            self._reconcile(request.namespace)
        self.faults.wrote(request.rt, request.dry_run, created)
        return 201, request.present(created)

    def _allocate_cluster_ip(self, service: Obj) -> None:
        """Give a Service a cluster IP like the service IP allocator does."""
        spec = service.setdefault("spec", {})
        if spec.get("type") == "ExternalName" or spec.get("clusterIP"):
            return
        with self._cluster_ip_lock:
            self._next_cluster_ip += 1
            n = self._next_cluster_ip
        spec["clusterIP"] = f"10.96.{128 + (n // 250) % 128}.{n % 250 + 2}"
        spec["clusterIPs"] = [spec["clusterIP"]]
        spec.setdefault("type", "ClusterIP")

    def _write(self, request: ApiRequest, new: Obj, current: Obj, applied: bool = False) -> Obj:
        """Validate and store ``new`` replacing ``current``, honouring the status subresource split; record who
        changed which fields (``applied``: a server-side apply, which recorded it already)."""
        if request.subresource == "status":
            merged = {**current, "status": new.get("status")}
            merged["metadata"] = {**current["metadata"]}
            if new.get("metadata", {}).get("resourceVersion"):
                merged["metadata"]["resourceVersion"] = new["metadata"]["resourceVersion"]
            new = merged
        else:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
            if not applied:
                record_update(current, new, request.field_manager, self._schema(request))
        new = self._check_body(request, new)
        updated = self.store.update(new, dry_run=request.dry_run)
        if not request.dry_run:
            self._reconcile(request.namespace)
        self.faults.wrote(request.rt, request.dry_run, updated)
        return request.present(updated)

    def replace_object(self, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        if request.name is None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        rt = request.rt
        self.faults.check(rt, "update", request.namespace)
        self.faults.check_write(rt, request.dry_run)
        new = self._parse_body(body)
        if not isinstance(new, dict):
            raise BadRequest("the request body must be a JSON object")
        current = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        return 200, self._write(request, new, current)

    def patch_object(self, request: ApiRequest, body: bytes, content_type: str | None) -> tuple[int, Obj]:
        if request.name is None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        rt = request.rt
        self.faults.check(rt, "patch", request.namespace)
        if (content_type or "").split(";")[0].strip().lower() == APPLY_PATCH:
            return self._server_side_apply(request, parse_apply_body(body))
        current = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        patched = apply_patch(content_type, request.present(current), self._parse_body(body), self._schema(request))
        if not isinstance(patched, dict):
            raise BadRequest("the patched object must be a JSON object")
        return 200, self._write(request, patched, current)

    def _server_side_apply(self, request: ApiRequest, applied: Obj) -> tuple[int, Obj]:
        """``PATCH`` with ``application/apply-patch+yaml``: create the object, or merge the applied configuration
        into it with field ownership and conflicts (:mod:`simulator.field_ownership`)."""
        rt = request.rt
        if not request.query.get("fieldManager"):
            raise BadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required "
                             "for apply patch")  # fmt: skip
        self._check_body(request, applied, validate=False)  # kind, apiVersion, name, namespace: as the URL says
        force = request.query.get("force", "").lower() in ("true", "1")
        current = self.store.find(rt.group, rt.plural, request.namespace, request.name or "")
        schema = self._schema(request)
        if current is None:
            self.faults.check(rt, "create", request.namespace)
            self.faults.check_write(rt, request.dry_run)
            new = server_side_apply({}, applied, request.field_manager, force, schema)
            new = self._check_body(request, new)
            if rt.kind == "Service":
                self._allocate_cluster_ip(new)
            created = self.store.create(new, dry_run=request.dry_run)
            if not request.dry_run:
                self._reconcile(request.namespace)
            return 201, request.present(created)
        self.faults.check_write(rt, request.dry_run)
        merged = server_side_apply(request.present(current), applied, request.field_manager, force, schema)
        return 200, self._write(request, merged, current, applied=True)

    def delete_object(self, request: ApiRequest, body: bytes) -> tuple[int, Obj]:
        rt = request.rt
        self.faults.check(rt, "delete", request.namespace)
        if request.name is None:
            return self._delete_collection(request)
        if request.subresource is not None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        current = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        options = self._parse_body(body) or {}
        precondition = (options.get("preconditions") or {}) if isinstance(options, dict) else {}
        if precondition.get("uid") and precondition["uid"] != current["metadata"]["uid"]:
            raise StoreError("Precondition failed: UID in precondition does not match")
        given_rv = str(precondition.get("resourceVersion") or "")
        if given_rv and given_rv != current["metadata"]["resourceVersion"]:
            raise Conflict(
                f"Operation cannot be fulfilled on {rt.plural}{'.' + rt.group if rt.group else ''} "
                f'"{request.name}": Precondition failed: ResourceVersion in precondition: {given_rv}, '
                f"ResourceVersion in object meta: {current['metadata']['resourceVersion']}",
                {"name": request.name, "group": rt.group, "kind": rt.plural},
            )
        self.faults.check_write(rt, request.dry_run)
        gone = self.store.delete(rt.group, rt.plural, request.namespace, request.name, dry_run=request.dry_run)
        if not request.dry_run and rt.kind == "Namespace":
            # The namespace goes first, so nothing (e.g. the controller replacing pods) can be created in it
            # while its contents are removed.
            self._delete_namespace_contents(request.name)
        if not request.dry_run:
            self._reconcile(request.namespace)
        if rt.kind in ("Pod", "Namespace"):
            return 200, request.present(gone)
        details: Obj = {"name": request.name, "kind": rt.plural, "uid": gone["metadata"]["uid"]}
        if rt.group:
            details["group"] = rt.group
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _delete_collection(self, request: ApiRequest) -> tuple[int, Obj]:
        rt = request.rt
        items, _ = self.store.list_refs(
            rt.group,
            rt.plural,
            request.namespace,
            request.query.get("labelSelector"),
            request.query.get("fieldSelector"),
        )
        deleted = []
        for obj in items:
            meta = obj["metadata"]
            try:
                deleted.append(
                    self.store.delete(rt.group, rt.plural, meta.get("namespace"), meta["name"], dry_run=request.dry_run)
                )
            except NotFound:
                continue
        if not request.dry_run:
            self._reconcile(request.namespace)
        return 200, {
            "kind": f"{rt.kind}List",
            "apiVersion": request.api_version,
            "metadata": {"resourceVersion": str(self.store.current_rv)},
            "items": [request.present(o) for o in deleted],
        }

    def _delete_namespace_contents(self, namespace: str) -> None:
        for rt in RESOURCE_TYPES:
            if rt.namespaced:
                for obj in self.store.list_refs(rt.group, rt.plural, namespace)[0]:
                    try:
                        self.store.delete(rt.group, rt.plural, namespace, obj["metadata"]["name"])
                    except NotFound:
                        continue

    # ------------------------------------------------------------------ scale subresource
    def scale(self, method: str, request: ApiRequest, body: bytes, content_type: str | None) -> tuple[int, Obj]:
        """Read (``GET``) or set (``PUT``, ``PATCH``) a deployment's replicas through its ``Scale`` object."""
        assert request.name is not None
        rt = request.rt
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(method)
        if verb is None:
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        self.faults.check(rt, verb, request.namespace)
        deployment = self.store.get(rt.group, rt.plural, request.namespace, request.name)
        scale = build_scale(deployment)
        if method == "GET":
            return 200, scale
        payload = self._parse_body(body)
        new_scale = apply_patch(content_type, scale, payload) if method == "PATCH" else payload
        if not isinstance(new_scale, dict):
            raise BadRequest("the request body must be a Scale object")
        replicas = (new_scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid_error(
                {"metadata": {"name": request.name}},
                rt,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "field": "spec.replicas",
                        "message": f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                    }
                ],
            )
        deployment["spec"]["replicas"] = replicas
        wanted_rv = (new_scale.get("metadata") or {}).get("resourceVersion")
        if wanted_rv:
            deployment["metadata"]["resourceVersion"] = wanted_rv
        updated = self.store.update(deployment, dry_run=request.dry_run)
        if not request.dry_run:
            self._reconcile(request.namespace)
        return 200, build_scale(updated)
