"""Istio's own Bookinfo routing samples through the configuration checks, applied as the Istio docs apply them."""

from __future__ import annotations

from dataclasses import replace

from istio_config.checks import IstioConfig, MeshConfig, Severity, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, peer_authentication, read_sample

# What samples/bookinfo/platform/kube/bookinfo.yaml deploys, without the extra versions of the other tasks.
PLAIN_BOOKINFO_WORKLOADS = {
    "productpage-v1",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "ratings-v1",
    "details-v1",
    "istio-ingressgateway",
}

# The order of the Istio docs' tasks: request routing, fault injection, traffic shifting, then the samples of the
# other tasks (databases, VMs, egress) and the fault injection of ``istioctl describe``'s walkthrough.
DOCS_ORDER = [
    "bookinfo-gateway.yaml",
    "destination-rule-all.yaml",
    "virtual-service-all-v1.yaml",
    "virtual-service-reviews-test-v2.yaml",
    "virtual-service-ratings-test-delay.yaml",
    "virtual-service-ratings-test-abort.yaml",
    "virtual-service-all-v1.yaml",
    "virtual-service-reviews-50-v3.yaml",
    "virtual-service-reviews-v3.yaml",
    "virtual-service-reviews-80-20.yaml",
    "virtual-service-reviews-90-10.yaml",
    "virtual-service-reviews-v2-v3.yaml",
    "virtual-service-reviews-jason-v2-v3.yaml",
    "virtual-service-ratings-db.yaml",
    "virtual-service-ratings-mysql.yaml",
    "virtual-service-ratings-mysql-vm.yaml",
    "virtual-service-details-v2.yaml",
    "egress-rule-google-apis.yaml",
    "destination-rule-all-mtls.yaml",
    "fault-injection-details-v1.yaml",
]


def test_every_routing_sample_applied_in_docs_order_raises_no_error() -> None:
    applied: dict[tuple[str, str, str], IstioConfig] = {}
    for filename in DOCS_ORDER:
        for item in read_sample(filename):
            applied[(item.kind, item.namespace, item.name)] = item  # kubectl apply replaces by name
        errors = [f for f in check_config(bookinfo_inventory(list(applied.values()))) if f.severity == Severity.ERROR]
        assert errors == [], filename


def test_fault_injection_sample_has_a_route_istioctl_calls_unreachable() -> None:
    findings = check_config(bookinfo_inventory(read_sample("fault-injection-details-v1.yaml")))
    assert [(f.code, f.istio_code, f.path) for f in findings] == [("MUI1102", "IST0130", "spec.http[1]")]


def test_all_v1_without_destination_rules_raises_subset_not_found_for_each_route() -> None:
    findings = check_config(bookinfo_inventory(read_sample("virtual-service-all-v1.yaml")))
    assert codes_at(findings) == [
        ("KIA1107", name, "spec.http[0].route[0].destination.subset")
        for name in ["details", "productpage", "ratings", "reviews"]
    ]
    assert {f.istio_code for f in findings} == {"IST0101"}


def test_all_v1_with_destination_rules_is_clean() -> None:
    objects = read_sample("destination-rule-all.yaml") + read_sample("virtual-service-all-v1.yaml")
    assert check_config(bookinfo_inventory(objects)) == []


def test_all_v1_in_default_namespace_raises_host_not_found() -> None:
    objects = read_sample("destination-rule-all.yaml") + read_sample("virtual-service-all-v1.yaml", "default")
    findings = [f for f in check_config(bookinfo_inventory(objects)) if f.namespace == "default"]
    assert codes_at(findings) == [
        (code, name, f"spec.http[0].route[0].destination.{field}")
        for name in ["details", "productpage", "ratings", "reviews"]
        for code, field in [("KIA1101", "host"), ("KIA1107", "subset")]
    ]


def test_misspelt_host_raises_host_not_found() -> None:
    misspelt = IstioConfig(
        "VirtualService",
        "bookinfo",
        "reviews",
        {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reveiws", "subset": "v1"}}]}]},
    )
    objects = [*read_sample("destination-rule-all.yaml"), misspelt]
    findings = check_config(bookinfo_inventory(objects))
    assert codes_at(findings) == [
        ("KIA1101", "reviews", "spec.http[0].route[0].destination.host"),
        ("KIA1107", "reviews", "spec.http[0].route[0].destination.subset"),
    ]
    assert findings[0].severity == Severity.ERROR
    assert "reveiws" in findings[0].message


def test_unused_subsets_of_plain_bookinfo_are_information_until_routed() -> None:
    # bookinfo.yaml alone runs no ratings v2 or details v2: destination-rule-all's subsets for them select nothing.
    plain = bookinfo_inventory(read_sample("destination-rule-all.yaml") + read_sample("virtual-service-all-v1.yaml"))
    plain = replace(plain, workloads=tuple(w for w in plain.workloads if w.name in PLAIN_BOOKINFO_WORKLOADS))
    findings = check_config(plain)
    assert [(f.code, f.name, f.path, f.severity) for f in findings] == [
        ("KIA0203", "details", "spec.subsets[1].labels", Severity.INFO),
        ("KIA0203", "ratings", "spec.subsets[1].labels", Severity.INFO),
        ("KIA0203", "ratings", "spec.subsets[2].labels", Severity.INFO),
        ("KIA0203", "ratings", "spec.subsets[3].labels", Severity.INFO),
    ]
    routed = replace(plain, istio_objects=plain.istio_objects + tuple(read_sample("virtual-service-ratings-db.yaml")))
    errors = [(f.code, f.name, f.path) for f in check_config(routed) if f.severity == Severity.ERROR]
    assert errors == [("KIA0203", "ratings", "spec.subsets[1].labels")]


def test_mtls_rules_with_istios_strict_mesh_policy_raise_no_error() -> None:
    # Istio's mTLS tasks lock the mesh down with a STRICT PeerAuthentication named default in istio-system.
    strict = peer_authentication("default", "STRICT", "istio-system")
    inventory = bookinfo_inventory([strict, *read_sample("destination-rule-all-mtls.yaml")])
    assert [f for f in check_config(inventory) if f.severity == Severity.ERROR] == []
    # Without automatic mTLS, as Kiali reads it, a strict mesh needs a mesh-wide rule: a Service without a rule of
    # its own would be called in plain text.
    manual = replace(inventory, mesh=MeshConfig(enable_auto_mtls=False))
    errors = [(f.code, f.kind, f.name) for f in check_config(manual) if f.severity == Severity.ERROR]
    assert errors == [("KIA0401", "PeerAuthentication", "default")]


def test_mtls_rules_towards_a_namespace_that_disables_mtls_raise_the_conflict() -> None:
    disable = peer_authentication("default", "DISABLE")
    findings = check_config(bookinfo_inventory([disable, *read_sample("destination-rule-all-mtls.yaml")]))
    assert codes_at(findings) == [
        ("MUI0210", name, "spec.trafficPolicy.tls.mode") for name in ("details", "productpage", "ratings", "reviews")
    ]
    plain = check_config(bookinfo_inventory([disable, *read_sample("destination-rule-all.yaml")]))
    assert [f for f in plain if f.severity == Severity.ERROR] == []
