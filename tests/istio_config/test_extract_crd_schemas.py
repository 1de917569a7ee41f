"""Tests of scripts/extract_crd_schemas.py on a small synthetic CRD (no upstream files read)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extract_crd_schemas.py"

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: A widget.
        type: object
        properties:
          spec:
            description: The spec.
            type: object
            required: [description]
            properties:
              description: {type: string, description: a field named description}
              port:
                type: integer
                x-kubernetes-validations:
                - {rule: "self > 0", message: "port must be positive"}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        description: Same schema, other prose.
        type: object
        properties:
          spec:
            type: object
            required: [description]
            properties:
              description: {type: string}
              port:
                type: integer
                x-kubernetes-validations:
                - {rule: "self > 0", message: "port must be positive"}
"""


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extract_crd_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["extract_crd_schemas"] = module
    spec.loader.exec_module(module)
    return module


def test_extract_strips_descriptions_and_dedupes(tmp_path: Path) -> None:
    module = _load()
    src = tmp_path / "crd.yaml"
    src.write_text(CRD, encoding="utf-8")
    out = tmp_path / "out.json"
    assert module.main([str(src), "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    entry = data["kinds"]["example.com/Widget"]
    assert entry["servedVersions"] == ["v1", "v1beta1"] and entry["storageVersion"] == "v1"
    assert entry["versions"]["v1"]["schema"] == entry["versions"]["v1beta1"]["schema"]
    schema = data["schemas"][entry["versions"]["v1"]["schema"]]
    assert "description" not in schema
    spec = schema["properties"]["spec"]
    assert spec["properties"]["description"] == {"type": "string"}
    assert spec["properties"]["port"]["x-kubernetes-validations"][0]["rule"] == "self > 0"


def _schema_nodes(node: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(node, dict):
        if "type" in node or "properties" in node:
            found.append(node)
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    found.extend(_schema_nodes(sub))
            elif key not in ("enum", "x-kubernetes-validations", "required"):
                found.extend(_schema_nodes(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_schema_nodes(item))
    return found


def test_committed_data_file_is_compact() -> None:
    data_file = SCRIPT.parent.parent / "istio_config" / "data" / "istio-crd-schemas.json"
    data = json.loads(data_file.read_text(encoding="utf-8"))
    assert data["stats"]["kinds"] == len(data["kinds"]) >= 15
    assert "networking.istio.io/VirtualService" in data["kinds"]
    nodes = _schema_nodes(data["schemas"])
    assert len(nodes) > 1000
    assert not [n for n in nodes if "description" in n]
