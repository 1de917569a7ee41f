"""mTLS checks of DestinationRules and PeerAuthentications: each case that triggers a check beside a near-identical
case that does not, from Istio's semantics (the most specific PeerAuthentication and DestinationRule win)."""

from __future__ import annotations

from dataclasses import replace

from istio_config.checks import ConfigInventory, IstioConfig, MeshConfig, Severity, check_config
from tests.istio_config.checks_support import (
    bookinfo_inventory,
    codes_at,
    destination_rule_tls,
    obj,
    peer_authentication,
)

NS_WIDE = "*.bookinfo.svc.cluster.local"
MESH_STRICT = peer_authentication("default", "STRICT", "istio-system")


def run(objects: list[IstioConfig], auto_mtls: bool = True) -> list[tuple[str, str, str]]:
    inventory: ConfigInventory = bookinfo_inventory(objects)
    if not auto_mtls:
        inventory = replace(inventory, mesh=MeshConfig(enable_auto_mtls=False))
    return codes_at(check_config(inventory))


def without_multi_match(found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``found`` without KIA0201, which the existing DestinationRule check raises for a wildcard rule beside a rule
    for a host it covers (see test_checks_destination_rules.py)."""
    return [item for item in found if item[0] != "KIA0201"]


def test_mesh_wide_rule_sending_mtls_without_a_mesh_policy_accepting_it() -> None:
    rule = destination_rule_tls("default", "*.local", "ISTIO_MUTUAL", "istio-system")
    assert run([rule]) == [("KIA0205", "default", "spec.trafficPolicy.tls.mode")]
    assert run([rule, peer_authentication("default", "PERMISSIVE", "istio-system")]) == []
    assert run([rule, MESH_STRICT]) == []


def test_namespace_wide_rule_sending_mtls_without_a_policy_accepting_it() -> None:
    rule = destination_rule_tls("default", NS_WIDE, "ISTIO_MUTUAL")
    assert run([rule]) == [("KIA0206", "default", "spec.trafficPolicy.tls.mode")]
    assert run([rule, peer_authentication("default", "STRICT")]) == []
    assert run([rule, MESH_STRICT]) == []


def test_namespace_wide_rule_disabling_tls_against_a_strict_namespace_policy() -> None:
    rule = destination_rule_tls("default", NS_WIDE, "DISABLE")
    findings = check_config(bookinfo_inventory([rule, peer_authentication("default", "STRICT")]))
    assert codes_at(findings) == [("KIA0207", "default", "spec.trafficPolicy.tls.mode")]
    assert findings[0].severity == Severity.ERROR
    assert run([rule, peer_authentication("default", "PERMISSIVE")]) == []


def test_rule_disabling_tls_against_a_strict_mesh_policy() -> None:
    namespace_rule = destination_rule_tls("default", NS_WIDE, "DISABLE")
    mesh_rule = destination_rule_tls("mesh", "*.local", "DISABLE", "istio-system")
    assert run([namespace_rule, MESH_STRICT]) == [("KIA0208", "default", "spec.trafficPolicy.tls.mode")]
    assert run([mesh_rule, MESH_STRICT]) == [("KIA0208", "mesh", "spec.trafficPolicy.tls.mode")]
    # A permissive namespace policy overrides the mesh's strict one for the namespace.
    assert run([namespace_rule, MESH_STRICT, peer_authentication("default", "PERMISSIVE")]) == []
    assert run([mesh_rule, peer_authentication("default", "PERMISSIVE", "istio-system")]) == []


def test_specific_rule_without_tls_overrides_a_wider_rule_sending_mtls() -> None:
    mesh_rule = destination_rule_tls("default", "*.local", "ISTIO_MUTUAL", "istio-system")
    plain = obj(
        "DestinationRule", "reviews", {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}
    )
    findings = check_config(bookinfo_inventory([mesh_rule, MESH_STRICT, plain]))
    assert codes_at(findings) == [("KIA0204", "reviews", "spec.trafficPolicy")]
    assert (findings[0].severity, "istio-system/default" in findings[0].message) == (Severity.WARNING, True)
    with_tls = obj("DestinationRule", "reviews", {**plain.spec, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}})
    assert run([mesh_rule, MESH_STRICT, with_tls]) == []


def test_rule_sending_mtls_to_workloads_whose_policy_disables_it() -> None:
    rule = destination_rule_tls("reviews", "reviews", "ISTIO_MUTUAL")
    disable = peer_authentication("reviews", "DISABLE", selector={"app": "reviews"})
    findings = check_config(bookinfo_inventory([rule, disable]))
    assert codes_at(findings) == [("MUI0210", "reviews", "spec.trafficPolicy.tls.mode")]
    assert (findings[0].severity, findings[0].istio_code) == (Severity.ERROR, "IST0113")
    assert "reviews-v1 port 9080 (bookinfo/reviews)" in findings[0].message
    assert run([rule, peer_authentication("reviews", "PERMISSIVE", selector={"app": "reviews"})]) == []
    # The same policy selecting another app leaves reviews on Istio's default, PERMISSIVE.
    assert run([rule, peer_authentication("reviews", "DISABLE", selector={"app": "ratings"})]) == []


def test_namespace_policy_disabling_mtls_conflicts_with_a_host_rule() -> None:
    rule = destination_rule_tls("reviews", "reviews", "ISTIO_MUTUAL")
    assert run([rule, peer_authentication("default", "DISABLE")]) == [
        ("MUI0210", "reviews", "spec.trafficPolicy.tls.mode")
    ]
    assert run([rule, peer_authentication("default", "DISABLE", "default")]) == []


def test_rule_disabling_tls_to_workloads_that_require_strict_mtls() -> None:
    rule = destination_rule_tls("reviews", "reviews", "DISABLE")
    assert run([rule, peer_authentication("default", "STRICT")]) == [
        ("MUI0211", "reviews", "spec.trafficPolicy.tls.mode")
    ]
    assert run([rule, peer_authentication("default", "PERMISSIVE")]) == []


def test_port_level_policy_decides_the_port_it_names() -> None:
    rule = destination_rule_tls("reviews", "reviews", "DISABLE")
    strict_on_9080 = peer_authentication(
        "reviews", "PERMISSIVE", selector={"app": "reviews"}, port_level={9080: "STRICT"}
    )
    strict_on_other = peer_authentication(
        "reviews", "PERMISSIVE", selector={"app": "reviews"}, port_level={8080: "STRICT"}
    )
    assert run([rule, strict_on_9080]) == [("MUI0211", "reviews", "spec.trafficPolicy.tls.mode")]
    assert run([rule, strict_on_other]) == []


def port_level_rule(port: int) -> IstioConfig:
    """A ``reviews`` rule sending ISTIO_MUTUAL, except to ``port``, where it disables TLS."""
    policy = {
        "tls": {"mode": "ISTIO_MUTUAL"},
        "portLevelSettings": [{"port": {"number": port}, "tls": {"mode": "DISABLE"}}],
    }
    return obj("DestinationRule", "reviews", {"host": "reviews", "trafficPolicy": policy})


def test_port_level_rule_setting_is_reported_at_its_own_path() -> None:
    strict = peer_authentication("default", "STRICT")
    assert run([port_level_rule(9080), strict]) == [
        ("MUI0211", "reviews", "spec.trafficPolicy.portLevelSettings[0].tls.mode")
    ]
    assert run([port_level_rule(9090), strict]) == []


def test_wildcard_rule_conflicts_only_where_it_is_the_most_specific_rule() -> None:
    wide = destination_rule_tls("default", NS_WIDE, "ISTIO_MUTUAL")
    accept = peer_authentication("default", "PERMISSIVE")
    ratings_plain = peer_authentication("ratings", "DISABLE", selector={"app": "ratings"})
    findings = check_config(bookinfo_inventory([wide, accept, ratings_plain]))
    assert codes_at(findings) == [("MUI0210", "default", "spec.trafficPolicy.tls.mode")]
    assert "ratings-v1" in findings[0].message and "reviews" not in findings[0].message
    # A rule for ratings itself (disabling TLS, as its workloads expect) takes ratings from the wildcard rule.
    ratings_rule = destination_rule_tls("ratings", "ratings", "DISABLE")
    assert without_multi_match(run([wide, accept, ratings_plain, ratings_rule])) == []


def test_selector_policy_in_the_root_namespace_is_ignored() -> None:
    rule = destination_rule_tls("reviews", "reviews", "ISTIO_MUTUAL")
    ignored = peer_authentication("reviews-plain", "DISABLE", "istio-system", selector={"app": "reviews"})
    findings = check_config(bookinfo_inventory([rule, ignored]))
    assert codes_at(findings) == [("MUI0402", "reviews-plain", "spec.selector.matchLabels")]
    assert findings[0].severity == Severity.WARNING


def test_strict_mesh_policy_without_mesh_rule_when_automatic_mtls_is_off() -> None:
    mesh_rule = destination_rule_tls("default", "*.local", "ISTIO_MUTUAL", "istio-system")
    assert run([MESH_STRICT], auto_mtls=False) == [("KIA0401", "default", "spec.mtls")]
    assert run([MESH_STRICT, mesh_rule], auto_mtls=False) == []
    assert run([MESH_STRICT]) == []


def test_strict_namespace_policy_without_rule_when_automatic_mtls_is_off() -> None:
    strict = peer_authentication("default", "STRICT")
    assert run([strict], auto_mtls=False) == [("KIA0501", "default", "spec.mtls")]
    assert run([strict, destination_rule_tls("default", NS_WIDE, "ISTIO_MUTUAL")], auto_mtls=False) == []
    assert run([strict]) == []


def test_namespace_policy_disabling_mtls_while_a_wide_rule_sends_it() -> None:
    disable = peer_authentication("default", "DISABLE")
    namespace_rule = destination_rule_tls("default", NS_WIDE, "ISTIO_MUTUAL")
    assert ("KIA0505", "default", "spec.mtls") in run([disable, namespace_rule])
    assert run([disable, destination_rule_tls("default", NS_WIDE, "DISABLE")]) == []
    mesh_rule = destination_rule_tls("mesh", "*.local", "ISTIO_MUTUAL", "istio-system")
    accept = peer_authentication("default", "PERMISSIVE", "istio-system")
    assert run([disable, mesh_rule, accept]) == [("KIA0505", "default", "spec.mtls")]
    assert (
        without_multi_match(run([disable, mesh_rule, accept, destination_rule_tls("default", NS_WIDE, "DISABLE")]))
        == []
    )


def test_mesh_policy_disabling_mtls_while_the_mesh_rule_sends_it() -> None:
    disable = peer_authentication("default", "DISABLE", "istio-system")
    assert ("KIA0506", "default", "spec.mtls") in run([disable, destination_rule_tls("m", "*.local", "ISTIO_MUTUAL")])
    assert run([disable, destination_rule_tls("m", "*.local", "DISABLE")]) == []
