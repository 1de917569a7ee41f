"""The authorization matrix: every role, every URL of ``mesh_ui.urls``, a granted and a hidden namespace.

The URLs come from the URL conf itself, so an endpoint added without a rule in ``tests/access/rules.py`` (one
entry per URL name; see that module's docstring) fails :func:`test_every_url_name_has_a_rule`, and a model added
to the admin without one fails :func:`test_every_admin_model_has_a_rule`. Each rule is then one test: it calls the
URL as each role for each namespace and lists every cell that answered otherwise than the table says.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access.mesh import GRANTED, HIDDEN, make_mesh, make_role_user
from tests.access.rules import ADMIN_MODELS, MATRIX_ROLES, NOT_MATRIXED, RULES, Case, Expect, Rule, admin_rule


def _patterns(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    """``(namespace, pattern)`` of every URL pattern, nested resolvers included."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            yield from _patterns(pattern.url_patterns, inner)
        else:
            yield namespace, pattern


def _admin_model_prefixes() -> dict[str, str]:
    """URL name prefix (``admin:inventory_workload_``) → model label, for every model registered in the admin."""
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_": model._meta.label_lower
        for model in admin.site._registry
    }


def _url_names() -> tuple[set[str], list[str]]:
    """The URL names the matrix must cover (admin model views excluded: ADMIN_MODELS covers them), and the routes
    of unnamed patterns outside the admin."""
    prefixes = _admin_model_prefixes()
    names, unnamed = set(), []
    for namespace, pattern in _patterns(get_resolver().url_patterns):
        if pattern.name is None:
            if namespace != "admin":  # the admin's own catch-all and object redirects
                unnamed.append(f"{namespace}:{pattern.pattern}")
            continue
        name = f"{namespace}:{pattern.name}" if namespace else pattern.name
        if not any(name.startswith(prefix) for prefix in prefixes):
            names.add(name)
    return names, unnamed


def test_every_url_name_has_a_rule() -> None:
    names, unnamed = _url_names()
    assert not unnamed, f"name these routes so the matrix can have rules for them: {unnamed}"
    missing = names - RULES.keys() - NOT_MATRIXED.keys()
    assert not missing, (
        f"add a rule to tests/access/rules.py RULES (or a reason to NOT_MATRIXED) for: {sorted(missing)}"
    )
    stale = (RULES.keys() | NOT_MATRIXED.keys()) - names
    assert not stale, f"rules for URL names that no longer exist: {sorted(stale)}"


def test_every_admin_model_has_a_rule() -> None:
    registered = set(_admin_model_prefixes().values())
    assert registered == set(ADMIN_MODELS), "ADMIN_MODELS in tests/access/rules.py must list every admin model"


MATRIX: dict[str, Rule] = {**RULES, **{f"admin changelist {label}": admin_rule(label) for label in ADMIN_MODELS}}


def _problem(response: Any, expect: Expect, namespace: str, marker: str) -> str | None:
    """What is wrong with ``response`` for ``expect``; None when it is right."""
    if response.status_code != expect.status:
        return f"status {response.status_code}"
    if expect.location and not response["Location"].startswith(expect.location):
        return f"redirect to {response['Location']}"
    if expect.shows is None:
        return None
    body = response.content.decode()
    if expect.shows and marker not in body:
        return f"no {marker!r} in the answer"
    if not expect.shows and (marker in body or namespace in body):
        return f"{marker!r} or {namespace!r} in the answer"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(name: str) -> None:
    rule = MATRIX[name]
    mesh = make_mesh()
    users = {role: make_role_user(role) for role in MATRIX_ROLES if role != "anonymous"}
    failures = []
    client = Client()  # one client: each new one loads the middleware again (WhiteNoise scans every static file)
    for role in MATRIX_ROLES:
        for namespace in (GRANTED, HIDDEN):
            client.cookies.clear()
            user = users.get(role)
            if user is not None:
                client.force_login(user)
            case = Case(role, user, namespace, mesh)
            url = rule.path(case)
            data = rule.data(case) if callable(rule.data) else rule.data
            extra = {"content_type": rule.content_type} if rule.content_type else {}
            response = getattr(client, rule.method)(url, data, **extra)
            expect = rule.expected(role, namespace)
            problem = _problem(response, expect, namespace, rule.marker(namespace))
            if problem:
                failures.append(f"{role:16} {namespace:13} {url}: expected {expect.describe()}, got {problem}")
    assert not failures, "\n" + "\n".join(failures)
