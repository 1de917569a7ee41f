"""istio_config.mesh_config: the ``istio`` ConfigMap's ``mesh`` key into the checks' MeshConfig."""

from __future__ import annotations

import pytest

from istio_config.checks.model import MeshConfig
from istio_config.mesh_config import MeshConfigError, parse_mesh_config


def test_istio_defaults_without_a_mesh_config() -> None:
    assert parse_mesh_config(None, "istio-system") == MeshConfig()
    assert parse_mesh_config({"meshNetworks": "networks: {}"}, "istio-prod").root_namespace == "istio-prod"
    assert parse_mesh_config({"mesh": ""}, "istio-system") == MeshConfig()


def test_the_fields_the_checks_read() -> None:
    mesh = parse_mesh_config(
        {
            "mesh": "rootNamespace: mesh-root\n"
            "enableAutoMtls: false\n"
            "defaultServiceExportTo: ['.']\n"
            "defaultVirtualServiceExportTo: ['.', istio-system]\n"
            "defaultDestinationRuleExportTo: ['*']\n"
            "accessLogFile: /dev/stdout\n"
        },
        "istio-system",
    )
    assert mesh == MeshConfig(
        root_namespace="mesh-root",
        enable_auto_mtls=False,
        default_service_export_to=(".",),
        default_virtual_service_export_to=(".", "istio-system"),
        default_destination_rule_export_to=("*",),
    )


@pytest.mark.parametrize(
    ("mesh", "named"),
    [
        ("rootNamespace: [unclosed", "not valid YAML"),
        ("- a list", "must be a mapping"),
        ("enableAutoMtls: 'no'", "enableAutoMtls"),
        ("defaultServiceExportTo: '.'", "defaultServiceExportTo"),
        ("rootNamespace: 42", "rootNamespace"),
    ],
)
def test_a_bad_mesh_config_is_an_error_naming_the_problem(mesh: str, named: str) -> None:
    with pytest.raises(MeshConfigError, match=named):
        parse_mesh_config({"mesh": mesh}, "istio-system")
