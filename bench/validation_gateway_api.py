"""Benchmark: ``check_config`` over ``bench/validation.py``'s synthetic inventory plus the Gateway API and Secrets.

On top of that inventory (500 namespaces, 6,605 Istio objects at the defaults), each namespace gets a Gateway API
``Gateway`` with an HTTPS listener whose certificate Secret exists and two ``HTTPRoute``s to one of its Services
(1,500 objects more), and the Secret names are readable (500 Secrets), so the credential and reference checks all
run. Prints the machine-speed reference of the run, the median and spread of ``check_config``'s wall time over
``--runs`` runs, and the time of the Gateway checks of this branch alone (credentials and the Gateway API).

    .venv/bin/python bench/validation_gateway_api.py [--namespaces 500 --services 5 --runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine_speed import describe_machine_speed  # noqa: E402
from validation import build_synthetic_inventory  # noqa: E402

from istio_config.checks import ConfigInventory, IstioConfig, check_config  # noqa: E402
from istio_config.checks.gateways import check_gateway_credentials  # noqa: E402
from istio_config.checks.k8s_gateways import K8sGatewayChecker  # noqa: E402
from istio_config.checks.model import SecretInfo  # noqa: E402


def add_gateway_api(inventory: ConfigInventory) -> ConfigInventory:
    """``inventory`` with a Gateway, two HTTPRoutes and a certificate Secret per namespace."""
    first_service: dict[str, str] = {}
    for service in inventory.services:
        first_service.setdefault(service.namespace, service.name)
    objects: list[IstioConfig] = []
    secrets: list[SecretInfo] = []
    for namespace in (ns.name for ns in inventory.namespaces):
        listener = {
            "name": "https",
            "hostname": f"{namespace}.example.com",
            "port": 443,
            "protocol": "HTTPS",
            "tls": {"certificateRefs": [{"name": f"{namespace}-cert"}]},
        }
        objects.append(
            IstioConfig("K8sGateway", namespace, "gw", {"gatewayClassName": "istio", "listeners": [listener]})
        )
        backend = {"name": first_service.get(namespace, "missing"), "port": 9080}
        for index in range(2):
            spec = {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [backend]}]}
            objects.append(IstioConfig("K8sHTTPRoute", namespace, f"route-{index}", spec))
        secrets.append(SecretInfo(namespace, f"{namespace}-cert"))
    return replace(inventory, istio_objects=(*inventory.istio_objects, *objects), secrets=tuple(secrets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--services", type=int, default=5, help="services (VS + DR each) per namespace")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine_speed(), flush=True)
    inventory = add_gateway_api(build_synthetic_inventory(args.namespaces, args.services))
    kinds = Counter(obj.kind for obj in inventory.istio_objects)
    print(
        f"inventory: {len(inventory.istio_objects)} objects ({dict(sorted(kinds.items()))}), "
        f"{len(inventory.secrets or ())} Secrets"
    )
    times, findings = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        findings = check_config(inventory)
        times.append(time.perf_counter() - started)
    print(f"findings: {len(findings)} ({dict(sorted(Counter(f.code for f in findings).items()))})")
    print(
        f"check_config: median {statistics.median(times):.3f} s over {args.runs} runs "
        f"(min {min(times):.3f} s, max {max(times):.3f} s)"
    )
    started = time.perf_counter()
    K8sGatewayChecker(inventory).check()
    check_gateway_credentials(inventory)
    print(f"gateway credential and Gateway API checks alone: {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    main()
