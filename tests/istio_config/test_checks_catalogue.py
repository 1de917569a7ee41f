"""The check catalogue: codes unique, every one documented, results independent of the inventory's order."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

from istio_config.checks import check_config
from istio_config.checks.codes import ALL_CODES
from tests.istio_config.checks_support import (
    bookinfo_inventory,
    destination_rule_tls,
    obj,
    peer_authentication,
    read_sample,
)

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "validation.md"


def test_codes_are_unique_and_shaped_like_kiali_or_mesh_ui_codes() -> None:
    codes = [check.code for check in ALL_CODES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"(KIA|MUI)\d{4}", code) for code in codes)
    assert all(re.fullmatch(r"(IST\d{4})?", check.istio_code) for check in ALL_CODES)


def test_every_code_is_documented_with_its_severity_and_message() -> None:
    docs = DOCS.read_text()
    for check in ALL_CODES:
        [row] = [line for line in docs.splitlines() if line.startswith(f"| `{check.code}` |")]
        assert check.message in row
        assert check.severity.value in row
        assert check.istio_code in row


def test_findings_do_not_depend_on_the_inventory_order() -> None:
    objects = [
        *read_sample("destination-rule-all.yaml"),
        *read_sample("virtual-service-all-v1.yaml", "default"),
        *read_sample("bookinfo-gateway.yaml"),
        obj("DestinationRule", "reviews-2", {"host": "reviews", "subsets": [{"name": "v1"}]}),
        obj("Gateway", "other", {"selector": {"istio": "nothing"}, "servers": []}),
        peer_authentication("a", "STRICT"),
        peer_authentication("b", "DISABLE", selector={"app": "reviews"}),
        peer_authentication("c", "STRICT", selector={"version": "v1"}),
        destination_rule_tls("reviews-tls", "reviews", "ISTIO_MUTUAL"),
        obj("Sidecar", "s1", {"workloadSelector": {"labels": {"app": "ratings"}}, "egress": [{"hosts": ["./nope"]}]}),
        obj("Sidecar", "s2", {"workloadSelector": {"labels": {"version": "v1"}}, "egress": [{"hosts": ["*/*"]}]}),
        obj("AuthorizationPolicy", "ap", {"rules": [{"from": [{"source": {"namespaces": ["nowhere"]}}]}]}),
        obj("ServiceEntry", "se", {"hosts": ["db.example.com"], "ports": [{"number": 5432, "name": "db"}]}),
    ]
    expected = check_config(bookinfo_inventory(objects))
    assert len(expected) > 15
    shuffled = list(objects)
    random.Random(13).shuffle(shuffled)
    inventory = bookinfo_inventory(shuffled)
    workloads = list(inventory.workloads)
    random.Random(13).shuffle(workloads)
    assert check_config(replace(inventory, workloads=tuple(workloads))) == expected
