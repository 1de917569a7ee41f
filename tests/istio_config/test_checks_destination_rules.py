"""DestinationRule checks: each case that triggers a check beside a near-identical case that does not."""

from __future__ import annotations

from typing import Any

from istio_config.checks import IstioConfig, Severity, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


def dr(name: str, host: str, *subsets: dict[str, Any], namespace: str = "bookinfo") -> IstioConfig:
    spec: dict[str, Any] = {"host": host}
    if subsets:
        spec["subsets"] = list(subsets)
    return obj("DestinationRule", name, spec, namespace)


def subset(name: str, version: str | None = None) -> dict[str, Any]:
    return {"name": name, "labels": {"version": version or name}}


def test_host_that_matches_nothing() -> None:
    findings = check_config(bookinfo_inventory([dr("reviews", "reveiws")]))
    assert codes_at(findings) == [("KIA0202", "reviews", "spec.host")]
    assert findings[0].severity == Severity.ERROR
    assert codes_at(check_config(bookinfo_inventory([dr("reviews", "reviews")]))) == []


def test_host_in_the_wrong_namespace_matches_nothing() -> None:
    assert codes_at(check_config(bookinfo_inventory([dr("reviews", "reviews", namespace="default")]))) == [
        ("KIA0202", "reviews", "spec.host")
    ]
    fqdn = dr("reviews", "reviews.bookinfo.svc.cluster.local", namespace="default")
    assert codes_at(check_config(bookinfo_inventory([fqdn]))) == []


def test_wildcard_host_and_service_entry_host_are_found() -> None:
    entry = obj("ServiceEntry", "googleapis", {"hosts": ["www.googleapis.com"]})
    objects = [dr("all", "*.bookinfo.svc.cluster.local"), dr("google", "www.googleapis.com"), entry]
    assert codes_at(check_config(bookinfo_inventory(objects))) == []
    assert codes_at(check_config(bookinfo_inventory([dr("google", "www.googleapis.com")]))) == [
        ("KIA0202", "google", "spec.host")
    ]


def test_subset_whose_labels_select_no_workload_of_the_service() -> None:
    findings = check_config(bookinfo_inventory([dr("reviews", "reviews", subset("v1"), subset("v4"))]))
    assert codes_at(findings) == [("KIA0203", "reviews", "spec.subsets[1].labels")]
    assert findings[0].severity == Severity.INFO
    assert codes_at(check_config(bookinfo_inventory([dr("reviews", "reviews", subset("v1"), subset("v3"))]))) == []


def test_empty_subset_is_an_error_once_a_virtual_service_routes_to_it() -> None:
    route = obj(
        "VirtualService",
        "reviews",
        {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v4"}}]}]},
    )
    findings = check_config(bookinfo_inventory([dr("reviews", "reviews", subset("v1"), subset("v4")), route]))
    assert [(f.code, f.severity) for f in findings] == [("KIA0203", Severity.ERROR)]


def test_subset_labels_of_another_service_workload_do_not_count() -> None:
    # ratings has a v2-mysql workload, reviews does not.
    assert codes_at(check_config(bookinfo_inventory([dr("reviews", "reviews", subset("v2-mysql"))]))) == [
        ("KIA0203", "reviews", "spec.subsets[0].labels")
    ]
    assert codes_at(check_config(bookinfo_inventory([dr("ratings", "ratings", subset("v2-mysql"))]))) == []


def test_subset_without_labels() -> None:
    findings = check_config(bookinfo_inventory([dr("reviews", "reviews", {"name": "all"})]))
    assert codes_at(findings) == [("KIA0209", "reviews", "spec.subsets[0]")]
    assert findings[0].severity == Severity.WARNING
    beside_a_real_subset = check_config(bookinfo_inventory([dr("reviews", "reviews", subset("v1"), {"name": "all"})]))
    assert [(f.code, f.path, f.severity) for f in beside_a_real_subset] == [
        ("KIA0209", "spec.subsets[1]", Severity.INFO)
    ]
    assert check_config(bookinfo_inventory([dr("reviews", "reviews", subset("v1"))])) == []


def test_two_rules_for_one_host_sharing_a_subset() -> None:
    first = dr("reviews", "reviews", subset("v1"), subset("v2"))
    overlapping = dr("reviews-2", "reviews.bookinfo.svc.cluster.local", subset("v2"), subset("v3"))
    disjoint = dr("reviews-2", "reviews.bookinfo.svc.cluster.local", subset("v3"))
    findings = check_config(bookinfo_inventory([first, overlapping]))
    assert codes_at(findings) == [("KIA0201", "reviews", "spec.host"), ("KIA0201", "reviews-2", "spec.host")]
    assert "v2" in findings[0].message
    assert codes_at(check_config(bookinfo_inventory([first, disjoint]))) == []


def test_two_rules_for_one_host_without_subsets() -> None:
    both_bare = [dr("reviews", "reviews"), dr("reviews-tls", "reviews")]
    assert codes_at(check_config(bookinfo_inventory(both_bare))) == [
        ("KIA0201", "reviews", "spec.host"),
        ("KIA0201", "reviews-tls", "spec.host"),
    ]
    other_hosts = [dr("reviews", "reviews"), dr("ratings", "ratings")]
    assert codes_at(check_config(bookinfo_inventory(other_hosts))) == []


def test_wildcard_rule_overlaps_the_rules_it_covers() -> None:
    objects = [dr("all", "*.bookinfo.svc.cluster.local", subset("v1")), dr("reviews", "reviews", subset("v1"))]
    assert codes_at(check_config(bookinfo_inventory(objects))) == [
        ("KIA0201", "all", "spec.host"),
        ("KIA0201", "reviews", "spec.host"),
    ]
    objects = [dr("all", "*.bookinfo.svc.cluster.local", subset("v1")), dr("reviews", "reviews", subset("v2"))]
    assert codes_at(check_config(bookinfo_inventory(objects))) == []
