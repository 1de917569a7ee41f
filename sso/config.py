"""The single sign-on settings and the role map, read from environment values into plain typed data (pure).

``MESH_UI_OIDC_ROLE_MAP`` maps values of the groups claim to access, entries separated by commas::

    mesh-admins=admin                  admin of every cluster
    mesh-editors=editor:bookinfo       editor of namespace bookinfo in every cluster
    prod-readers=viewer:prod/*         viewer of every namespace of cluster prod
    shop-team=editor:prod/shop         editor of namespace shop of cluster prod
    auditors=group:security            membership of the existing Django group "security"

A value may appear in several entries (its grants add up). Role entries become RoleGrants of a Django group named
``oidc:<value>``; ``group:`` entries make the named group's membership follow the claim for SSO users.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accounts.grants import Role

#: The environment variables of single sign-on; every one is optional but the client id turns it on.
OIDC_VARIABLES = (
    "MESH_UI_OIDC_CLIENT_ID",
    "MESH_UI_OIDC_CLIENT_SECRET",
    "MESH_UI_OIDC_ISSUER",
    "MESH_UI_OIDC_AUTHORIZATION_ENDPOINT",
    "MESH_UI_OIDC_TOKEN_ENDPOINT",
    "MESH_UI_OIDC_USERINFO_ENDPOINT",
    "MESH_UI_OIDC_JWKS_URI",
    "MESH_UI_OIDC_SCOPES",
    "MESH_UI_OIDC_SIGN_ALGO",
    "MESH_UI_OIDC_USERNAME_CLAIM",
    "MESH_UI_OIDC_GROUPS_CLAIM",
    "MESH_UI_OIDC_ROLE_MAP",
    "MESH_UI_OIDC_CA_FILE",
    "MESH_UI_OIDC_TIMEOUT",
    "MESH_UI_OIDC_BUTTON_LABEL",
)

#: Prefix of the Django groups single sign-on owns: their grants and memberships are rewritten at each SSO login.
SSO_GROUP_PREFIX = "oidc:"
_GROUP_NAME_LENGTH = 150  # django.contrib.auth.models.Group.name
_SIGN_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class GrantSpec:
    """A grant a claim value gives: ``cluster`` None is every cluster (a name otherwise), ``namespace`` "" all."""

    role: Role
    cluster: str | None = None
    namespace: str = ""


@dataclass(frozen=True)
class RoleMap:
    """Claim value → grants (given through the group ``oidc:<value>``) and → existing Django groups."""

    grants: Mapping[str, frozenset[GrantSpec]]
    groups: Mapping[str, frozenset[str]]

    def sso_group_name(self, value: str) -> str:
        return f"{SSO_GROUP_PREFIX}{value}"

    def sso_groups(self) -> dict[str, frozenset[GrantSpec]]:
        """Every group single sign-on owns, by name, with the grants it must carry."""
        return {self.sso_group_name(value): specs for value, specs in self.grants.items()}

    def managed_groups(self) -> frozenset[str]:
        """The existing Django groups whose membership follows the claim."""
        return frozenset(name for names in self.groups.values() for name in names)

    def groups_for(self, values: Iterable[str]) -> frozenset[str]:
        """The groups a user with the claim ``values`` belongs to (owned ``oidc:`` groups and managed ones)."""
        names: set[str] = set()
        for value in values:
            if value in self.grants:
                names.add(self.sso_group_name(value))
            names.update(self.groups.get(value, ()))
        return frozenset(names)


EMPTY_ROLE_MAP = RoleMap(grants={}, groups={})


def _parse_scope(entry: str, scope: str) -> tuple[str | None, str]:
    cluster_part, slash, namespace_part = scope.rpartition("/")
    cluster: str | None = cluster_part.strip() if slash else None
    namespace = namespace_part.strip()
    if slash and not cluster:
        raise ValueError(f"entry {entry!r}: empty cluster name before '/'")
    if cluster == "*":
        cluster = None
    if namespace == "*":
        namespace = ""
    elif not _DNS_LABEL.match(namespace):
        raise ValueError(f"entry {entry!r}: {namespace!r} is not a namespace name (or * for all)")
    return cluster, namespace


def parse_role_map(text: str) -> RoleMap:
    """Read ``VALUE=ROLE[:[CLUSTER/]NAMESPACE]`` and ``VALUE=group:NAME`` entries; ValueError names a bad entry."""
    grants: dict[str, set[GrantSpec]] = {}
    groups: dict[str, set[str]] = {}
    for entry in (item.strip() for item in text.split(",")):
        if not entry:
            continue
        value, equals, target = entry.rpartition("=")
        value, target = value.strip(), target.strip()
        if not equals or not value or not target:
            raise ValueError(f"entry {entry!r} must look like VALUE=ROLE[:[CLUSTER/]NAMESPACE] or VALUE=group:NAME")
        if len(SSO_GROUP_PREFIX + value) > _GROUP_NAME_LENGTH:
            raise ValueError(f"entry {entry!r}: the claim value is longer than {_GROUP_NAME_LENGTH - 5} characters")
        head, colon, scope = target.partition(":")
        if head == "group":
            name = scope.strip()
            if not name or name.startswith(SSO_GROUP_PREFIX):
                raise ValueError(f"entry {entry!r}: name an existing group (not an {SSO_GROUP_PREFIX!r} one)")
            groups.setdefault(value, set()).add(name)
            continue
        try:
            role = Role.from_label(head.strip())
        except ValueError:
            raise ValueError(f"entry {entry!r}: unknown role {head!r} (viewer, editor, admin or group)") from None
        cluster, namespace = _parse_scope(entry, scope) if colon else (None, "")
        if role is Role.ADMIN and namespace:
            raise ValueError(f"entry {entry!r}: an admin grant covers whole clusters; use CLUSTER/* or no scope")
        grants.setdefault(value, set()).add(GrantSpec(role=role, cluster=cluster, namespace=namespace))
    return RoleMap(
        grants={value: frozenset(specs) for value, specs in grants.items()},
        groups={value: frozenset(names) for value, names in groups.items()},
    )


def claim_values(claims: Mapping[str, Any], path: str) -> frozenset[str]:
    """The strings of the claim at ``path`` (dots go into objects, e.g. Keycloak's ``realm_access.roles``).

    A list of strings or a single string; anything else (missing, numbers, objects) gives no values.
    """
    found: Any = claims
    for part in path.split("."):
        if not isinstance(found, Mapping) or part not in found:
            return frozenset()
        found = found[part]
    if isinstance(found, str):
        return frozenset({found})
    if isinstance(found, list):
        return frozenset(item for item in found if isinstance(item, str))
    return frozenset()


@dataclass(frozen=True)
class OidcConfig:
    """Single sign-on as configured. Endpoints left empty are read from the issuer's discovery document."""

    client_id: str
    client_secret: str
    issuer: str = ""
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    userinfo_endpoint: str = ""
    jwks_uri: str = ""
    scopes: str = "openid email profile"
    sign_algo: str = "RS256"
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    role_map: RoleMap = EMPTY_ROLE_MAP
    ca_file: str = ""
    timeout: float = 10.0
    button_label: str = "Sign in with SSO"

    @property
    def needs_discovery(self) -> bool:
        return not (self.authorization_endpoint and self.token_endpoint and self.jwks_uri)


def build_oidc_config(values: Mapping[str, str]) -> OidcConfig | None:
    """Single sign-on from the ``OIDC_VARIABLES`` values; None when off. ValueError starts with the variable."""

    def get(name: str) -> str:
        return values.get(f"MESH_UI_OIDC_{name}", "").strip()

    client_id = get("CLIENT_ID")
    if not client_id:
        return None
    if not get("CLIENT_SECRET"):
        raise ValueError("MESH_UI_OIDC_CLIENT_SECRET: required when MESH_UI_OIDC_CLIENT_ID is set")
    explicit = {name: get(name) for name in ("AUTHORIZATION_ENDPOINT", "TOKEN_ENDPOINT", "JWKS_URI")}
    if not get("ISSUER") and not all(explicit.values()):
        missing = ", ".join(f"MESH_UI_OIDC_{name}" for name, url in explicit.items() if not url)
        raise ValueError(f"MESH_UI_OIDC_ISSUER: set it (for discovery) or set {missing}")
    for name in ("ISSUER", "AUTHORIZATION_ENDPOINT", "TOKEN_ENDPOINT", "USERINFO_ENDPOINT", "JWKS_URI"):
        url = get(name)
        if url and not url.startswith(("https://", "http://")):
            raise ValueError(f"MESH_UI_OIDC_{name}: expected an http(s) URL, got {url!r}")
    sign_algo = get("SIGN_ALGO") or "RS256"
    if sign_algo not in _SIGN_ALGORITHMS:
        raise ValueError(f"MESH_UI_OIDC_SIGN_ALGO: expected one of {', '.join(_SIGN_ALGORITHMS)}, got {sign_algo!r}")
    scopes = get("SCOPES") or "openid email profile"
    if "openid" not in scopes.split():
        raise ValueError(f"MESH_UI_OIDC_SCOPES: must include openid, got {scopes!r}")
    try:
        timeout = float(get("TIMEOUT") or 10)
    except ValueError:
        raise ValueError(f"MESH_UI_OIDC_TIMEOUT: expected a number of seconds, got {get('TIMEOUT')!r}") from None
    if not timeout > 0:
        raise ValueError(f"MESH_UI_OIDC_TIMEOUT: must be above 0, got {get('TIMEOUT')!r}")
    try:
        role_map = parse_role_map(get("ROLE_MAP"))
    except ValueError as exc:
        raise ValueError(f"MESH_UI_OIDC_ROLE_MAP: {exc}") from None
    return OidcConfig(
        client_id=client_id,
        client_secret=get("CLIENT_SECRET"),
        issuer=get("ISSUER"),  # kept exactly: an id_token's iss must equal it
        authorization_endpoint=explicit["AUTHORIZATION_ENDPOINT"],
        token_endpoint=explicit["TOKEN_ENDPOINT"],
        userinfo_endpoint=get("USERINFO_ENDPOINT"),
        jwks_uri=explicit["JWKS_URI"],
        scopes=scopes,
        sign_algo=sign_algo,
        username_claim=get("USERNAME_CLAIM") or "preferred_username",
        groups_claim=get("GROUPS_CLAIM") or "groups",
        role_map=role_map,
        ca_file=get("CA_FILE"),
        timeout=timeout,
        button_label=get("BUTTON_LABEL") or "Sign in with SSO",
    )
