"""Pure tests of the single sign-on settings: the role map, claim values and the variables' checks."""

from __future__ import annotations

import pytest

from accounts.grants import Role
from sso.config import OIDC_VARIABLES, GrantSpec, build_oidc_config, claim_values, parse_role_map
from tests.test_env import _variables_in_env_example, _variables_in_readme_table


def test_the_role_map_reads_roles_scopes_and_groups() -> None:
    role_map = parse_role_map(
        "mesh-admins=admin, mesh-editors=editor:bookinfo, prod-readers=viewer:prod/*,"
        "shop-team=editor:prod/shop, shop-team=viewer:*/*, auditors=group:security, /dev/team=viewer"
    )
    assert role_map.grants == {
        "mesh-admins": {GrantSpec(Role.ADMIN)},
        "mesh-editors": {GrantSpec(Role.EDITOR, None, "bookinfo")},
        "prod-readers": {GrantSpec(Role.VIEWER, "prod", "")},
        "shop-team": {GrantSpec(Role.EDITOR, "prod", "shop"), GrantSpec(Role.VIEWER)},
        "/dev/team": {GrantSpec(Role.VIEWER)},
    }
    assert role_map.groups == {"auditors": {"security"}}
    assert role_map.groups_for({"shop-team", "auditors", "unmapped"}) == {"oidc:shop-team", "security"}
    assert role_map.sso_groups().keys() == {
        "oidc:mesh-admins",
        "oidc:mesh-editors",
        "oidc:prod-readers",
        "oidc:shop-team",
        "oidc:/dev/team",
    }
    assert parse_role_map("").grants == {} and parse_role_map(" , ").groups == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mesh-admins", "must look like"),
        ("=admin", "must look like"),
        ("team=owner", "unknown role 'owner'"),
        ("team=editor:Book_Info", "not a namespace name"),
        ("team=admin:bookinfo", "admin grant covers whole clusters"),
        ("team=viewer:/bookinfo", "empty cluster name"),
        ("team=group:", "name an existing group"),
        ("team=group:oidc:other", "name an existing group"),
        ("x" * 150 + "=viewer", "longer than"),
    ],
)
def test_a_bad_role_map_entry_is_named_in_the_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        parse_role_map(text)
    assert f"entry {text!r}" in str(error.value)


def test_claim_values_follow_dotted_paths_and_keep_only_strings() -> None:
    claims = {"groups": ["a", "b", 3, {"c": 1}], "realm_access": {"roles": ["ops"]}, "team": "shop", "n": 5}
    assert claim_values(claims, "groups") == {"a", "b"}
    assert claim_values(claims, "realm_access.roles") == {"ops"}
    assert claim_values(claims, "team") == {"shop"}
    assert claim_values(claims, "n") == frozenset()
    assert claim_values(claims, "missing.path") == frozenset()
    assert claim_values(claims, "team.deeper") == frozenset()


BASE = {"MESH_UI_OIDC_CLIENT_ID": "mesh-ui", "MESH_UI_OIDC_CLIENT_SECRET": "s3cret"}


def test_sso_is_off_without_a_client_id_and_on_with_an_issuer() -> None:
    assert build_oidc_config({}) is None
    assert build_oidc_config({"MESH_UI_OIDC_ISSUER": "https://id.example.com"}) is None
    config = build_oidc_config(
        {**BASE, "MESH_UI_OIDC_ISSUER": "https://id.example.com/realms/mesh/", "MESH_UI_OIDC_ROLE_MAP": "ops=admin"}
    )
    assert config is not None and config.needs_discovery
    assert config.issuer == "https://id.example.com/realms/mesh/"  # kept exactly: the id_token's iss must match
    assert (config.scopes, config.groups_claim, config.username_claim) == (
        "openid email profile",
        "groups",
        "preferred_username",
    )
    assert config.role_map.grants == {"ops": {GrantSpec(Role.ADMIN)}}


def test_explicit_endpoints_need_no_discovery() -> None:
    config = build_oidc_config(
        {
            **BASE,
            "MESH_UI_OIDC_AUTHORIZATION_ENDPOINT": "https://id.example.com/auth",
            "MESH_UI_OIDC_TOKEN_ENDPOINT": "https://id.example.com/token",
            "MESH_UI_OIDC_JWKS_URI": "https://id.example.com/jwks",
        }
    )
    assert config is not None and not config.needs_discovery


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"MESH_UI_OIDC_CLIENT_SECRET": ""}, "MESH_UI_OIDC_CLIENT_SECRET"),
        ({}, "MESH_UI_OIDC_ISSUER"),
        ({"MESH_UI_OIDC_ISSUER": "id.example.com"}, "MESH_UI_OIDC_ISSUER"),
        ({"MESH_UI_OIDC_ISSUER": "https://x", "MESH_UI_OIDC_SIGN_ALGO": "HS256"}, "MESH_UI_OIDC_SIGN_ALGO"),
        ({"MESH_UI_OIDC_ISSUER": "https://x", "MESH_UI_OIDC_SCOPES": "email"}, "MESH_UI_OIDC_SCOPES"),
        ({"MESH_UI_OIDC_ISSUER": "https://x", "MESH_UI_OIDC_TIMEOUT": "soon"}, "MESH_UI_OIDC_TIMEOUT"),
        ({"MESH_UI_OIDC_ISSUER": "https://x", "MESH_UI_OIDC_TIMEOUT": "0"}, "MESH_UI_OIDC_TIMEOUT"),
        ({"MESH_UI_OIDC_ISSUER": "https://x", "MESH_UI_OIDC_ROLE_MAP": "ops=root"}, "MESH_UI_OIDC_ROLE_MAP"),
    ],
)
def test_a_bad_variable_is_named(extra: dict[str, str], variable: str) -> None:
    with pytest.raises(ValueError, match=f"^{variable}: "):
        build_oidc_config({**BASE, **extra})


def test_every_variable_is_documented() -> None:
    assert set(OIDC_VARIABLES) <= _variables_in_env_example()
    assert set(OIDC_VARIABLES) <= _variables_in_readme_table()
