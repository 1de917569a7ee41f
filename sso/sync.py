"""What an SSO login changes in mesh-ui: the user it signs in, and the groups (hence grants) its claims give.

- :func:`link_user` finds the user by the provider's (issuer, subject) pair, or creates one named after the username
  claim (suffixed ``.sso`` when a local account has that name), and keeps e-mail and names up to date.
- :func:`sync_group_grants` makes the ``oidc:<value>`` groups carry exactly the grants the role map gives them,
  and deletes ``oidc:`` groups the map no longer names.
- :func:`sync_user_groups` makes the user a member of exactly the groups its claim values map to, among the
  groups single sign-on manages; grants given to the user or to other groups by an admin are never touched.

Changes are recorded in the audit log (by its receivers) as made ``via`` ``sso``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.access import forget_grants
from accounts.models import RoleGrant
from audit.context import system_actor
from inventory.models import Cluster
from sso.config import SSO_GROUP_PREFIX, OidcConfig, RoleMap, claim_values
from sso.models import SsoIdentity

logger = logging.getLogger(__name__)

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
_USERNAME_ROOM = 140  # of Django's 150 characters, leaving room for a ".ssoN" suffix


class SignInRefused(Exception):
    """The provider's claims do not allow a sign-in (a required claim is missing)."""


def sign_in(config: OidcConfig, issuer: str, claims: Mapping[str, Any]) -> Any:
    """The user the claims sign in, with its SSO groups brought in line with the claims' values."""
    with transaction.atomic(), system_actor("sso"):
        user = link_user(config, issuer, claims)
        sync_group_grants(config.role_map)
        sync_user_groups(user, claim_values(claims, config.groups_claim), config.role_map)
    return user


def link_user(config: OidcConfig, issuer: str, claims: Mapping[str, Any]) -> Any:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInRefused("the id_token has no subject (sub)")
    identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if identity is None:
        wanted = claims.get(config.username_claim)
        if not isinstance(wanted, str) or not wanted.strip():
            raise SignInRefused(f"the claims have no {config.username_claim!r} to name the user")
        user = get_user_model().objects.create_user(_free_username(wanted))
        user.set_unusable_password()  # signs in through the provider only
        user.save()
        identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    user = identity.user
    _update_profile(user, claims)
    SsoIdentity.objects.filter(pk=identity.pk).update(last_login=timezone.now())
    return user


def _free_username(wanted: str) -> str:
    base = _USERNAME_UNSAFE.sub("-", wanted.strip())[:_USERNAME_ROOM]
    users = get_user_model().objects
    candidate, attempt = base, 1
    while users.filter(username=candidate).exists():
        candidate = f"{base}.sso" if attempt == 1 else f"{base}.sso{attempt}"
        attempt += 1
    return candidate


def _update_profile(user: Any, claims: Mapping[str, Any]) -> None:
    fields = {"email": "email", "first_name": "given_name", "last_name": "family_name"}
    changed = []
    for field, claim in fields.items():
        value = claims.get(claim)
        if isinstance(value, str) and getattr(user, field) != value[:150]:
            setattr(user, field, value[:150])
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def sync_group_grants(role_map: RoleMap) -> None:
    """Make every ``oidc:`` group carry exactly the grants ``role_map`` gives it."""
    wanted = role_map.sso_groups()
    named = {spec.cluster for specs in wanted.values() for spec in specs if spec.cluster is not None}
    cluster_ids = dict(Cluster.objects.filter(name__in=sorted(named)).values_list("name", "pk"))
    for name, specs in sorted(wanted.items()):
        group, _ = Group.objects.get_or_create(name=name)
        desired: set[tuple[str, int | None, str]] = set()
        for spec in specs:
            if spec.cluster is not None and spec.cluster not in cluster_ids:
                logger.warning("SSO role map: no cluster named %r yet; grant of %s skipped", spec.cluster, name)
                continue
            cluster_id = cluster_ids[spec.cluster] if spec.cluster is not None else None
            desired.add((spec.role.label, cluster_id, spec.namespace))
        kept: set[tuple[str, int | None, str]] = set()
        for grant in RoleGrant.objects.filter(group=group).order_by("pk"):
            key = (grant.role, grant.cluster_id, grant.namespace)
            if key in desired and key not in kept:
                kept.add(key)
            else:
                grant.delete()
        for role, cluster_id, namespace in sorted(desired - kept, key=str):
            RoleGrant.objects.create(group=group, role=role, cluster_id=cluster_id, namespace=namespace)
    for stale in Group.objects.filter(name__startswith=SSO_GROUP_PREFIX).exclude(name__in=sorted(wanted)):
        stale.delete()  # its grants go with it (and are audited one by one)


def sync_user_groups(user: Any, values: frozenset[str], role_map: RoleMap) -> tuple[list[str], list[str]]:
    """Put ``user`` in exactly the managed groups ``values`` map to; returns the names added and removed."""
    desired = role_map.groups_for(values)
    managed = Q(name__startswith=SSO_GROUP_PREFIX) | Q(name__in=sorted(role_map.managed_groups()))
    current = set(user.groups.filter(managed).values_list("name", flat=True))
    to_add = list(Group.objects.filter(name__in=sorted(desired - current)))
    missing = desired - current - {group.name for group in to_add}
    if missing:
        logger.warning("SSO role map names groups that do not exist: %s", ", ".join(sorted(missing)))
    to_remove = list(Group.objects.filter(name__in=sorted(current - desired)))
    if to_add:
        user.groups.add(*to_add)
    if to_remove:
        user.groups.remove(*to_remove)
    forget_grants(user)
    return [group.name for group in to_add], [group.name for group in to_remove]
