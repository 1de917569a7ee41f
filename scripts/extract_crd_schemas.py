"""Extract compact OpenAPI schemas from Istio's generated CRD bundle.

Usage::

    python scripts/extract_crd_schemas.py PATH/TO/crd-all.gen.yaml [-o istio_config/data/istio-crd-schemas.json]

Reads every ``CustomResourceDefinition`` in the given multi-document YAML file and writes one
JSON file holding, per kind, its group, names, scope, served/storage versions and the
``openAPIV3Schema`` of each version with every ``description`` removed.  Identical schemas of
different versions are stored once and referenced by id.  The output is what
:mod:`istio_config.schema` loads at run time, so the project never needs the CRD bundle itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "istio_config" / "data" / "istio-crd-schemas.json"

# Schema keywords whose value is a mapping of *names* to sub-schemas: the names are data, not keywords.
_NAMED_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
# Keywords holding literal instance data: copied verbatim, never walked.
_LITERAL_KEYWORDS = ("enum", "default", "example", "x-kubernetes-validations", "required")
# Keywords dropped from the output: prose only, not needed for validation.
_DROPPED_KEYWORDS = ("description", "example", "externalDocs", "title")


def strip_schema(node: Any) -> Any:
    """Return a copy of one OpenAPI schema node without documentation-only keywords."""
    if isinstance(node, list):
        return [strip_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key in sorted(node):
        value = node[key]
        if key in _DROPPED_KEYWORDS:
            continue
        if key in _NAMED_SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_schema(sub) for name, sub in sorted(value.items())}
        elif key in _LITERAL_KEYWORDS:
            out[key] = value
        else:
            out[key] = strip_schema(value)
    return out


def _schema_id(schema: dict[str, Any]) -> str:
    blob = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def extract(documents: list[Any], source: str) -> dict[str, Any]:
    """Build the compact data structure from parsed CRD documents."""
    kinds: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    rule_count = 0
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        names = spec["names"]
        group = spec["group"]
        versions: dict[str, Any] = {}
        storage = None
        for version in spec["versions"]:
            raw = (version.get("schema") or {}).get("openAPIV3Schema") or {}
            schema = strip_schema(raw)
            sid = _schema_id(schema)
            if sid not in schemas:
                schemas[sid] = schema
                rule_count += json.dumps(schema).count('"rule"')
            entry: dict[str, Any] = {
                "served": bool(version.get("served", False)),
                "storage": bool(version.get("storage", False)),
                "schema": sid,
            }
            if version.get("deprecated"):
                entry["deprecated"] = True
            versions[version["name"]] = entry
            if entry["storage"]:
                storage = version["name"]
        kinds[f"{group}/{names['kind']}"] = {
            "group": group,
            "kind": names["kind"],
            "plural": names["plural"],
            "singular": names.get("singular", names["kind"].lower()),
            "listKind": names.get("listKind", names["kind"] + "List"),
            "shortNames": names.get("shortNames", []),
            "categories": names.get("categories", []),
            "scope": spec.get("scope", "Namespaced"),
            "servedVersions": [v for v, e in versions.items() if e["served"]],
            "storageVersion": storage,
            "versions": versions,
        }
    return {
        "format": 1,
        "source": source,
        "kinds": dict(sorted(kinds.items())),
        "schemas": schemas,
        "stats": {"kinds": len(kinds), "schemas": len(schemas), "celRules": rule_count},
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: read the CRD bundle, write the JSON data file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crd_yaml", type=Path, help="path to Istio's crd-all.gen.yaml")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="output JSON file")
    args = parser.parse_args(argv)
    with args.crd_yaml.open(encoding="utf-8") as fh:
        documents = list(yaml.safe_load_all(fh))
    data = extract(documents, "istio/istio manifests/charts/base/files/crd-all.gen.yaml")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, sort_keys=False, separators=(",", ":"))
    args.output.write_text(text + "\n", encoding="utf-8")
    stats = data["stats"]
    print(
        f"wrote {args.output}: {stats['kinds']} kinds, {stats['schemas']} distinct schemas, "
        f"{stats['celRules']} CEL rules, {len(text)} bytes",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
