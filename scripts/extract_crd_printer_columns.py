"""Extract the ``additionalPrinterColumns`` of Istio's CRDs for the simulator's ``kubectl get`` tables.

Usage::

    python scripts/extract_crd_printer_columns.py PATH/TO/crd-all.gen.yaml [-o OUTPUT.json]

Writes, per ``group/Kind`` and served version, the printer columns of that version (name, type, format, JSONPath,
priority, description),
by default to ``simulator/data/istio-crd-printer-columns.json``: what ``kubectl get virtualservices`` shows
(GATEWAYS, HOSTS, AGE).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "simulator" / "data" / "istio-crd-printer-columns.json"
_COLUMN_KEYS = ("name", "type", "format", "jsonPath", "priority", "description")


def extract(documents: list[Any]) -> dict[str, Any]:
    """``{"group/Kind": {"version": [column, ...]}}`` of every CRD in ``documents``."""
    kinds: dict[str, Any] = {}
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        versions = {
            version["name"]: [
                {key: column[key] for key in _COLUMN_KEYS if key in column}
                for column in version.get("additionalPrinterColumns") or []
            ]
            for version in spec["versions"]
            if version.get("served")
        }
        kinds[f"{spec['group']}/{spec['names']['kind']}"] = versions
    return dict(sorted(kinds.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="Istio's manifests/charts/base/files/crd-all.gen.yaml")
    parser.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args(argv)
    with open(args.bundle, encoding="utf-8") as fh:
        data = {
            "source": "istio/istio manifests/charts/base/files/crd-all.gen.yaml",
            "kinds": extract(list(yaml.safe_load_all(fh))),
        }
    Path(args.output).write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {len(data['kinds'])} kinds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
