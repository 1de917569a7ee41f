"""The check every exportable kind shares: ``exportTo`` naming a namespace that does not exist (Kiali's
``generic.exportto.namespacenotfound``)."""

from __future__ import annotations

from istio_config.checks import codes
from istio_config.checks.model import ConfigInventory, Finding

EXPORTABLE_KINDS = ("VirtualService", "DestinationRule", "ServiceEntry")
SPECIAL_TARGETS = (".", "*", "~")


def check_export_to(inventory: ConfigInventory) -> list[Finding]:
    """KIA0005: an ``exportTo`` entry that is neither ``.``, ``*`` nor an existing namespace."""
    namespaces = {ns.name for ns in inventory.namespaces}
    findings = []
    for obj in inventory.istio_objects:
        if obj.kind not in EXPORTABLE_KINDS:
            continue
        targets = obj.spec.get("exportTo")
        for index, target in enumerate(targets if isinstance(targets, list) else ()):
            if str(target) not in SPECIAL_TARGETS and str(target) not in namespaces:
                findings.append(
                    codes.make_finding(codes.EXPORT_TO_NAMESPACE_NOT_FOUND, obj, f"spec.exportTo[{index}]", str(target))
                )
    return findings
