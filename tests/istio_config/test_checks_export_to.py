"""The exportTo check shared by VirtualServices, DestinationRules and ServiceEntries."""

from __future__ import annotations

import pytest

from istio_config.checks import Severity, check_config
from tests.istio_config.checks_support import bookinfo_inventory, codes_at, obj


@pytest.mark.parametrize("kind", ["VirtualService", "DestinationRule", "ServiceEntry"])
def test_export_to_a_missing_namespace(kind: str) -> None:
    spec = {"host": "reviews", "hosts": ["reviews"], "exportTo": [".", "istio-sytem"]}
    findings = check_config(bookinfo_inventory([obj(kind, "reviews", spec)]))
    [finding] = [f for f in findings if f.code == "KIA0005"]
    assert (finding.path, finding.severity) == ("spec.exportTo[1]", Severity.ERROR)
    assert finding.message.endswith(": istio-sytem")


@pytest.mark.parametrize("targets", [["."], ["*"], [".", "istio-system"], ["default", "bookinfo"]])
def test_export_to_existing_namespaces(targets: list[str]) -> None:
    spec = {"host": "reviews", "subsets": [], "exportTo": targets}
    assert codes_at(check_config(bookinfo_inventory([obj("DestinationRule", "reviews", spec)]))) == []
