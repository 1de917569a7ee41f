"""The authorization matrix's rule table: for every URL name of ``mesh_ui.urls``, how to call it and who may.

**Adding an endpoint?** Add one entry to :data:`RULES` under its URL name (``namespace:name``), e.g. for a list API
that filters by namespace::

    "v1:service-list": api(lambda c: reverse("v1:service-list") + f"?namespace={c.namespace}", READ, refused=HIDES),

``path`` gets a :class:`Case` (role, user, namespace under test, the mesh) and returns the URL to call; ``needs``
says who may (:class:`Need`); ``allowed`` / ``refused`` say what a permitted / refused user gets (:class:`Expect`),
``no_grant`` what a user without any grant gets (default: ``refused``), ``anonymous`` what a stranger gets.
``page(...)`` and ``api(...)`` preset ``anonymous`` to a login redirect and to 401. A model registered in the admin
needs an entry in :data:`ADMIN_MODELS` (its changelist is called). A URL that is not worth a matrix row gets a
reason in :data:`NOT_MATRIXED`. ``tests/access/test_matrix.py`` fails for a URL name without an entry, and for an
entry whose URL name no longer exists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import ApiToken
from tests.access.mesh import MARKERS, OBJECTS, ROLES, Mesh

#: Every role the matrix tries: the grant sets of ``tests.access.mesh.ROLES``, a superuser and a stranger.
MATRIX_ROLES = [*ROLES, "superuser", "anonymous"]


class Need(enum.Enum):
    """Who may call an endpoint."""

    OPEN = "anyone, even anonymous"
    LOGGED_IN = "any logged-in user"
    ANY_GRANT = "a user with a role somewhere"
    READ = "a user who may read the namespace under test"
    WRITE = "an editor or admin of the namespace under test"
    MESH_ADMIN = "an admin of every cluster"


def may(role: str, need: Need, namespace: str) -> bool:
    """Whether ``role`` satisfies ``need`` for ``namespace`` (superusers: everything but being a stranger)."""
    if need is Need.OPEN:
        return True
    if role == "anonymous":
        return False
    if need is Need.LOGGED_IN or role == "superuser":
        return True
    grants = ROLES[role]
    if need is Need.ANY_GRANT:
        return bool(grants)
    if need is Need.MESH_ADMIN:
        return ("admin", "") in grants
    if need is Need.READ:
        return any(ns in ("", namespace) for _, ns in grants)
    return any(r in ("editor", "admin") and ns in ("", namespace) for r, ns in grants)


@dataclass(frozen=True)
class Expect:
    """An answer: its status, whether the namespace under test shows in it, where a redirect leads."""

    status: int
    shows: bool | None = None  # True: its marker is in the body; False: neither it nor its marker is; None: unchecked
    location: tuple[str, ...] = ()  # a redirect's Location starts with one of these

    def describe(self) -> str:
        shown = {True: " showing it", False: " hiding it", None: ""}[self.shows]
        return f"{self.status}{shown}{' to ' + '|'.join(self.location) if self.location else ''}"


OK = Expect(200)
SHOWS = Expect(200, shows=True)
HIDES = Expect(200, shows=False)
LOGIN = Expect(302, location=("/login/",))
ADMIN_LOGIN = Expect(302, location=("/admin/login/", "/login/"))
REDIRECT = Expect(302)
UNAUTHORIZED = Expect(401)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: a role (its user, None for a stranger) and the namespace under test."""

    role: str
    user: Any
    namespace: str
    mesh: Mesh

    @property
    def objects(self) -> tuple[str, str, str]:
        """(workload, app, service) of the namespace under test."""
        return OBJECTS[self.namespace]


@dataclass(frozen=True)
class Rule:
    path: Callable[[Case], str]
    needs: Need
    allowed: Expect = SHOWS
    refused: Expect = FORBIDDEN
    read_only: Expect | None = None  # what a user who may read but not write the namespace gets (default: refused)
    no_grant: Expect | None = None
    anonymous: Expect = LOGIN
    method: str = "get"
    data: dict[str, Any] | Callable[[Case], dict[str, Any]] = field(default_factory=dict)
    content_type: str | None = None  # None: a form (or a query string for GET); "application/json" for JSON bodies
    marker: Callable[[str], str] = MARKERS.__getitem__

    def expected(self, role: str, namespace: str) -> Expect:
        if role == "anonymous" and self.needs is not Need.OPEN:
            return self.anonymous
        if may(role, self.needs, namespace):
            return self.allowed
        if self.read_only is not None and may(role, Need.READ, namespace):
            return self.read_only
        if role in ROLES and not ROLES[role] and self.no_grant is not None:
            return self.no_grant
        return self.refused


def page(path: Callable[[Case], str], needs: Need, **options: Any) -> Rule:
    """A dashboard page: strangers are sent to the login page; users without any grant get the 403 page."""
    options.setdefault("no_grant", FORBIDDEN)
    return Rule(path, needs, anonymous=LOGIN, **options)


def api(path: Callable[[Case], str], needs: Need, **options: Any) -> Rule:
    """An API endpoint: strangers get 401, users without any grant 403."""
    options.setdefault("no_grant", FORBIDDEN)
    return Rule(path, needs, anonymous=UNAUTHORIZED, **options)


def _url(name: str, **query: str) -> Callable[[Case], str]:
    return lambda case: reverse(name) + (f"?{urlencode(query)}" if query else "")


def _in_namespace(name: str, **query: str) -> Callable[[Case], str]:
    """The URL with the namespace under test as ``namespace`` (or the given parameter name)."""
    parameter = query.pop("parameter", "namespace")
    return lambda case: reverse(name) + "?" + urlencode({parameter: case.namespace, **query})


def _detail(name: str, index: int) -> Callable[[Case], str]:
    return lambda case: reverse(name, kwargs={"namespace": case.namespace, "name": case.objects[index]})


def _service_page(name: str, *extra: str) -> Callable[[Case], str]:
    """A page of the namespace's service (the wizards): its namespace, its name, then ``extra``."""
    return lambda case: reverse(name, args=[case.namespace, case.objects[2], *extra])


def _own_token_revoke(case: Case) -> str:
    owner = case.user or get_user_model().objects.get_or_create(username="token-owner")[0]  # a stranger has none
    token, _ = ApiToken.issue(owner, "matrix")
    return reverse("accounts:revoke-token", args=[token.pk])


def _namespace_name(namespace: str) -> str:
    return namespace


#: The Istio object of each namespace of the access mesh: (kind, name).
ISTIO_OBJECTS = {"bookinfo": ("VirtualService", "productpage"), "istio-system": ("Gateway", "ingressgateway")}


def _istio_object(name: str, with_cluster: bool) -> Callable[[Case], str]:
    def path(case: Case) -> str:
        kind, object_name = ISTIO_OBJECTS[case.namespace]
        args = [case.namespace, kind, object_name]
        return reverse(name, args=[case.mesh.cluster.name, *args] if with_cluster else args)

    return path


def _api_object(name: str, index: int | None) -> Callable[[Case], str]:
    """An inventory API detail URL: cluster, the namespace under test and (unless None) one of its objects."""

    def path(case: Case) -> str:
        args = [case.mesh.cluster.name, case.namespace]
        if index is not None:
            args.append(case.objects[index])
        return reverse(name, args=args)

    return path


def _graph_build(case: Case) -> str:
    """The status URL of a graph built on demand in the mesh's cluster (stored here: the mesh has none)."""
    from django.utils import timezone

    from topology.models import GraphSnapshot

    build = GraphSnapshot.every_snapshot.create(
        cluster=case.mesh.cluster, taken_at=timezone.now(), source="prometheus", windows=[120], on_demand=True
    )
    return reverse("v1:graph-build", args=[build.pk])


def _pod_detail(case: Case) -> str:
    return reverse("v1:pod-detail", args=[case.mesh.cluster.name, case.namespace, f"{case.objects[0]}-abc"])


def _cluster_url(name: str) -> Callable[[Case], str]:
    return lambda case: reverse(name, args=[case.mesh.cluster.name])


def _rollback_page(case: Case) -> str:
    """The rollback page of a recorded change of the namespace's Istio object (recorded here: the mesh has none)."""
    from istio_config.models import ConfigChange

    kind, object_name = ISTIO_OBJECTS[case.namespace]
    change = ConfigChange.objects.create(
        cluster=case.mesh.cluster,
        kind=kind,
        namespace=case.namespace,
        name=object_name,
        yaml_after=f"apiVersion: networking.istio.io/v1\nkind: {kind}\nmetadata:\n  name: {object_name}\n",
        source=ConfigChange.Source.EXTERNAL,
        action=ConfigChange.Action.UPDATE,
        result=ConfigChange.Result.APPLIED,
    )
    return reverse("dashboard:istio-rollback", args=[case.namespace, kind, object_name, change.pk])


def _posted_route(case: Case) -> dict[str, Any]:
    """A VirtualService in the namespace under test, named with its marker, for ``POST /api/v1/validate``."""
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": MARKERS[case.namespace], "namespace": case.namespace},
        "spec": {"hosts": [MARKERS[case.namespace]]},
    }


RULES: dict[str, Rule] = {
    # Open to everyone.
    "healthz": Rule(_url("healthz"), Need.OPEN, allowed=OK),
    "login": Rule(_url("login"), Need.OPEN, allowed=OK),
    "logout": Rule(_url("logout"), Need.LOGGED_IN, allowed=Expect(302, location=("/login/",)), method="post"),
    # The language selector (on the login page too) and the JS catalogue: no data, open to all.
    "set_language": Rule(
        _url("set_language"), Need.OPEN, allowed=Expect(302), method="post", data={"language": "en", "next": "/"}
    ),
    "javascript-catalog": Rule(_url("javascript-catalog"), Need.OPEN, allowed=OK),
    # Single sign-on is off in the tests: both steps answer 404 to everyone (tests/sso drive them switched on).
    "sso:start": Rule(_url("sso:start"), Need.OPEN, allowed=NOT_FOUND),
    "sso:callback": Rule(_url("sso:callback"), Need.OPEN, allowed=NOT_FOUND),
    # Dashboard pages: what a user may not read is left out, or not found.
    "dashboard:overview": page(_url("dashboard:overview"), Need.READ, refused=HIDES, marker=_namespace_name),
    "dashboard:graph": page(_url("dashboard:graph"), Need.READ, refused=HIDES, marker=_namespace_name),
    "dashboard:inventory": page(_url("dashboard:inventory"), Need.READ, refused=HIDES),
    "dashboard:applications": page(_in_namespace("dashboard:applications"), Need.READ, refused=HIDES),
    "dashboard:workloads": page(_in_namespace("dashboard:workloads"), Need.READ, refused=HIDES),
    "dashboard:services": page(_in_namespace("dashboard:services"), Need.READ, refused=HIDES),
    "dashboard:istio": page(_in_namespace("dashboard:istio"), Need.READ, refused=HIDES),
    "dashboard:workload": page(_detail("dashboard:workload", 0), Need.READ, refused=NOT_FOUND),
    "dashboard:application": page(_detail("dashboard:application", 1), Need.READ, refused=NOT_FOUND),
    "dashboard:service": page(_detail("dashboard:service", 2), Need.READ, refused=NOT_FOUND),
    "dashboard:istio-new": page(_in_namespace("dashboard:istio-new"), Need.WRITE, allowed=OK, refused=FORBIDDEN),
    "dashboard:istio-object": page(_istio_object("dashboard:istio-object", False), Need.READ, refused=NOT_FOUND),
    "dashboard:istio-history": page(_istio_object("dashboard:istio-history", False), Need.READ, refused=NOT_FOUND),
    # The routing wizards and "Remove routing" need an editor: a reader is refused, a stranger finds nothing.
    "dashboard:service-wizard": page(
        _service_page("dashboard:service-wizard", "traffic-shifting"),
        Need.WRITE,
        allowed=SHOWS,
        read_only=FORBIDDEN,
        refused=NOT_FOUND,
    ),
    "dashboard:service-routing-remove": page(
        _service_page("dashboard:service-routing-remove"),
        Need.WRITE,
        allowed=SHOWS,
        read_only=FORBIDDEN,
        refused=NOT_FOUND,
    ),
    # Rolling back needs an editor: a reader is refused, a stranger to the namespace finds nothing.
    "dashboard:istio-rollback": page(_rollback_page, Need.WRITE, allowed=SHOWS, read_only=FORBIDDEN, refused=NOT_FOUND),
    # The user's own tokens: any logged-in user.
    "accounts:tokens": page(_url("accounts:tokens"), Need.LOGGED_IN, allowed=OK),
    "accounts:revoke-token": page(_own_token_revoke, Need.LOGGED_IN, allowed=OK),
    # API: an explicitly asked namespace the user may not read is refused (403); an object in one is not found.
    "v1:graph": api(_in_namespace("v1:graph", parameter="namespaces"), Need.READ),
    "v1:graph-diff": api(
        _in_namespace("v1:graph-diff", parameter="namespaces", **{"from": "2000-01-01T00:00:00Z"}),
        Need.READ,
        allowed=OK,  # the only snapshot compared with itself: no edges to show
    ),
    "v1:workload-graph": api(
        lambda case: reverse("v1:workload-graph", args=[case.namespace, case.objects[0]]), Need.READ
    ),
    "v1:app-graph": api(lambda case: reverse("v1:app-graph", args=[case.namespace, case.objects[1]]), Need.READ),
    "v1:app-version-graph": api(
        lambda case: reverse("v1:app-version-graph", args=[case.namespace, case.objects[1], "v1"]),
        Need.READ,
        allowed=OK,  # the access mesh's apps need not have a v1: the answer may be empty
    ),
    "v1:service-graph": api(
        lambda case: reverse("v1:service-graph", args=[case.namespace, case.objects[2]]),
        Need.READ,
        allowed=OK,  # a service without traffic has an empty node graph
    ),
    # A what-if preview of a route in the namespace under test: a reader may, anyone else is refused (403).
    "v1:graph-whatif": api(
        _url("v1:graph-whatif"),
        Need.READ,
        allowed=OK,
        method="post",
        data=lambda case: {"namespace": case.namespace, "objects": [_posted_route(case)]},
        content_type="application/json",
    ),
    "v1:health": api(_in_namespace("v1:health", parameter="namespaces", type="app"), Need.READ),
    "v1:snapshots": api(_url("v1:snapshots"), Need.ANY_GRANT, allowed=OK),
    "v1:graph-build": api(_graph_build, Need.ANY_GRANT, allowed=OK),
    "v1:metrics": api(
        lambda case: (
            reverse("v1:metrics")
            + "?"
            + urlencode({"kind": "workload", "namespace": case.namespace, "name": case.objects[0]})
        ),
        Need.READ,
        refused=NOT_FOUND,
    ),
    "v1:schema": api(_url("v1:schema"), Need.LOGGED_IN, allowed=OK, no_grant=OK),
    "v1:root": api(_url("v1:root"), Need.LOGGED_IN, allowed=OK, no_grant=OK),
    # The reference pages are pages: a stranger is sent to the login form.
    "v1:swagger-ui": page(_url("v1:swagger-ui"), Need.LOGGED_IN, allowed=OK, no_grant=OK),
    "v1:redoc": page(_url("v1:redoc"), Need.LOGGED_IN, allowed=OK, no_grant=OK),
    # The inventory API: lists leave out what the user may not read; details of it are not found.
    "v1:cluster-list": api(_url("v1:cluster-list"), Need.ANY_GRANT, allowed=OK),
    "v1:cluster-detail": api(_cluster_url("v1:cluster-detail"), Need.ANY_GRANT, allowed=OK),
    "v1:cluster-sync": api(
        _cluster_url("v1:cluster-sync"),
        Need.MESH_ADMIN,
        allowed=Expect(202),
        method="post",
        content_type="application/json",
    ),
    "v1:sync-status-list": api(_url("v1:sync-status-list"), Need.ANY_GRANT, allowed=OK),
    "v1:sync-status-detail": api(
        lambda case: reverse("v1:sync-status-detail", args=[case.mesh.cluster.name, "pods"]), Need.ANY_GRANT, allowed=OK
    ),
    "v1:namespace-list": api(_url("v1:namespace-list"), Need.READ, refused=HIDES, marker=_namespace_name),
    "v1:namespace-detail": api(
        _api_object("v1:namespace-detail", None), Need.READ, refused=NOT_FOUND, marker=_namespace_name
    ),
    "v1:service-list": api(_in_namespace("v1:service-list"), Need.READ, refused=HIDES),
    "v1:service-detail": api(_api_object("v1:service-detail", 2), Need.READ, refused=NOT_FOUND),
    "v1:workload-list": api(_in_namespace("v1:workload-list"), Need.READ, refused=HIDES),
    "v1:workload-detail": api(_api_object("v1:workload-detail", 0), Need.READ, refused=NOT_FOUND),
    "v1:app-list": api(_in_namespace("v1:app-list"), Need.READ, refused=HIDES),
    "v1:app-detail": api(_api_object("v1:app-detail", 1), Need.READ, refused=NOT_FOUND),
    "v1:pod-list": api(_in_namespace("v1:pod-list"), Need.READ, refused=HIDES),
    "v1:pod-detail": api(_pod_detail, Need.READ, refused=NOT_FOUND),
    # Validation and Istio objects: the same, plus a posted object checked in a namespace the user may not read.
    # The access mesh has findings in istio-system only: the hidden case is the one that can leak.
    "v1:validations": api(
        _in_namespace("v1:validations", parameter="namespaces"), Need.READ, allowed=OK, refused=HIDES
    ),
    "v1:validation-targets": api(_url("v1:validation-targets"), Need.READ, allowed=OK, refused=HIDES),
    "v1:validate": api(
        _url("v1:validate"),
        Need.READ,
        allowed=OK,
        refused=NOT_FOUND,
        method="post",
        data=_posted_route,
        content_type="application/json",
    ),
    "v1:istio-objects": api(_in_namespace("v1:istio-objects"), Need.READ, refused=HIDES),
    "v1:istio-object": api(_istio_object("v1:istio-object", True), Need.READ, refused=NOT_FOUND),
    "v1:istio-object-history": api(
        _istio_object("v1:istio-object-history", True), Need.READ, allowed=OK, refused=NOT_FOUND
    ),
    "v1:istio-object-dependents": api(
        _istio_object("v1:istio-object-dependents", True), Need.READ, allowed=OK, refused=NOT_FOUND
    ),
    # A rollback to a change that does not exist: an editor is told the change has no version to restore (400),
    # anyone else is refused first.
    "v1:istio-object-rollback": api(
        _istio_object("v1:istio-object-rollback", True),
        Need.WRITE,
        allowed=Expect(400),
        method="post",
        data={"changeId": 999999, "resourceVersion": "1"},
        content_type="application/json",
    ),
    # Admin site pages; each registered model's changelist is in ADMIN_MODELS.
    "admin:index": Rule(_url("admin:index"), Need.ANY_GRANT, allowed=OK, refused=ADMIN_LOGIN, anonymous=ADMIN_LOGIN),
}

#: URL names not called by the matrix, with the reason.
NOT_MATRIXED: dict[str, str] = {
    "admin:login": "the admin's login form (tests/accounts/test_admin_access.py logs in through it)",
    "admin:logout": "ends the session; same policy as admin:index",
    "admin:password_change": "a user's own password; same policy as admin:index",
    "admin:password_change_done": "a confirmation text",
    "admin:autocomplete": "answers only for admin fields with autocomplete, none registered",
    "admin:jsi18n": "the admin's JavaScript translation catalog, no data",
    "admin:view_on_site": "a redirect for models with get_absolute_url, none registered",
    "admin:app_list": "lists the models of one app the index lists (ADMIN_MODELS covers each model)",
}

#: Admin changelists by model label: who may see them, what a permitted user finds. The admin's own answer to a user
#: without grants is its login page.
_SCOPED = dict(allowed=SHOWS, refused=HIDES, no_grant=ADMIN_LOGIN, anonymous=ADMIN_LOGIN)
_MESH_ADMIN = dict(allowed=OK, refused=FORBIDDEN, no_grant=ADMIN_LOGIN, anonymous=ADMIN_LOGIN)
ADMIN_MODELS: dict[str, tuple[Need, dict[str, Any]]] = {
    "inventory.namespace": (Need.READ, {**_SCOPED, "marker": _namespace_name}),
    "inventory.service": (Need.READ, _SCOPED),
    "inventory.workload": (Need.READ, _SCOPED),
    "inventory.pod": (Need.READ, _SCOPED),
    "inventory.istioobject": (Need.READ, _SCOPED),
    # The access mesh's only VirtualService is in bookinfo and it has no DestinationRule: hiding is what is checked.
    "istio_config.virtualserviceobject": (Need.READ, {**_SCOPED, "allowed": OK}),
    "istio_config.destinationruleobject": (Need.READ, {**_SCOPED, "allowed": OK}),
    "inventory.configmap": (Need.READ, {**_SCOPED, "allowed": OK}),  # the access mesh has no ConfigMap
    "inventory.secretname": (Need.READ, {**_SCOPED, "allowed": OK}),  # nor Secrets
    "inventory.syncstatus": (Need.ANY_GRANT, {**_SCOPED, "allowed": OK}),
    "inventory.cluster": (Need.MESH_ADMIN, _MESH_ADMIN),
    "accounts.rolegrant": (Need.MESH_ADMIN, _MESH_ADMIN),
    "accounts.apitoken": (Need.MESH_ADMIN, _MESH_ADMIN),
    "auth.user": (Need.MESH_ADMIN, _MESH_ADMIN),
    "audit.auditevent": (Need.MESH_ADMIN, _MESH_ADMIN),
    "sso.ssoidentity": (Need.MESH_ADMIN, _MESH_ADMIN),
    "auth.group": (Need.MESH_ADMIN, _MESH_ADMIN),
    "django_celery_beat.periodictask": (Need.MESH_ADMIN, _MESH_ADMIN),
    "django_celery_beat.clockedschedule": (Need.MESH_ADMIN, _MESH_ADMIN),
    "django_celery_beat.crontabschedule": (Need.MESH_ADMIN, _MESH_ADMIN),
    "django_celery_beat.solarschedule": (Need.MESH_ADMIN, _MESH_ADMIN),
    "django_celery_beat.intervalschedule": (Need.MESH_ADMIN, _MESH_ADMIN),
    "axes.accessattempt": (Need.MESH_ADMIN, _MESH_ADMIN),
    "axes.accesslog": (Need.MESH_ADMIN, _MESH_ADMIN),
    "axes.accessfailurelog": (Need.MESH_ADMIN, _MESH_ADMIN),
}


def admin_rule(label: str) -> Rule:
    """The changelist of the model ``label`` as a matrix rule."""
    needs, options = ADMIN_MODELS[label]
    app_label, model_name = label.split(".")
    return Rule(_url(f"admin:{app_label}_{model_name}_changelist"), needs, **options)
