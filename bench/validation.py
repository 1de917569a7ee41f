"""Benchmark: ``istio_config.checks.check_config`` over a synthetic inventory of 500 namespaces.

Each namespace holds 5 services with two versioned workloads each, a VirtualService and a DestinationRule per
service (every other VirtualService splits traffic between subsets, every tenth is bound to a shared ingress
Gateway); 50 Gateways and 50 ServiceEntries are spread over the namespaces, and about 1% of the routes point at a
misspelt host so the checks have findings to report: 5,100 Istio objects in all at the defaults. Each namespace also
holds a STRICT PeerAuthentication, a Sidecar and an AuthorizationPolicy (1,500 objects more), every tenth
DestinationRule sends ISTIO_MUTUAL, every hundredth namespace disables mTLS for one app (so the mTLS checks
conflict), and every workload runs one pod (5,001 pods). Prints the
machine-speed reference of the run (``bench/machine_speed.py``), then the median and spread of the wall time of
``check_config`` over ``--runs`` runs. The issue's goal is < 5 s for 500 namespaces / 5,000 Istio objects.

    .venv/bin/python bench/validation.py [--namespaces 500 --services 5 --runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine_speed import describe_machine_speed  # noqa: E402

from istio_config.checks import (  # noqa: E402
    ConfigInventory,
    IstioConfig,
    NamespaceInfo,
    PodInfo,
    ServiceInfo,
    WorkloadInfo,
    check_config,
)

GATEWAYS = 50
SERVICE_ENTRIES = 50


def build_synthetic_inventory(namespaces: int, services: int) -> ConfigInventory:
    """The inventory described in the module docstring."""
    ns_names = [f"ns-{i:03d}" for i in range(namespaces)]
    service_rows: list[ServiceInfo] = []
    workload_rows: list[WorkloadInfo] = []
    pod_rows: list[PodInfo] = []
    objects: list[IstioConfig] = []
    gateway_homes = ns_names[:: max(1, namespaces // GATEWAYS)][:GATEWAYS]
    for gw_index, ns in enumerate(gateway_homes):
        gateway_spec = {
            "selector": {"istio": "ingressgateway"},
            "servers": [
                {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [f"app{gw_index}.example.com"]}
            ],
        }
        objects.append(IstioConfig("Gateway", ns, f"gateway-{gw_index}", gateway_spec))
    for se_index, ns in enumerate(ns_names[1 :: max(1, namespaces // SERVICE_ENTRIES)][:SERVICE_ENTRIES]):
        objects.append(
            IstioConfig("ServiceEntry", ns, f"external-{se_index}", {"hosts": [f"api{se_index}.external.com"]})
        )
    workload_rows.append(WorkloadInfo("istio-system", "istio-ingressgateway", {"istio": "ingressgateway"}))
    route_count = 0
    for ns_index, ns in enumerate(ns_names):
        objects += security_objects(ns, ns_index)
        for svc_index in range(services):
            app = f"svc-{svc_index}"
            service_rows.append(ServiceInfo(ns, app, ({"name": "http", "port": 8080},), {"app": app}, {"app": app}))
            for version in ("v1", "v2"):
                labels = {"app": app, "version": version}
                workload_rows.append(WorkloadInfo(ns, f"{app}-{version}", labels, True))
                pod_rows.append(PodInfo(ns, f"{app}-{version}-7d9f", labels, f"{app}-{version}", True))
            objects.append(
                IstioConfig(
                    "DestinationRule",
                    ns,
                    app,
                    {
                        "host": app,
                        "subsets": [{"name": v, "labels": {"version": v}} for v in ("v1", "v2")],
                        **({"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}} if route_count % 10 == 0 else {}),
                    },
                )
            )
            route_count += 1
            host = app if route_count % 100 else f"{app}-typo"
            if svc_index % 2:
                route: list[dict[str, Any]] = [
                    {"destination": {"host": host, "subset": "v1"}, "weight": 90},
                    {"destination": {"host": host, "subset": "v2"}, "weight": 10},
                ]
            else:
                route = [{"destination": {"host": host, "subset": "v1"}}]
            spec: dict[str, Any] = {
                "hosts": [app],
                "http": [
                    {
                        "match": [{"headers": {"end-user": {"exact": "jason"}}}],
                        "route": [{"destination": {"host": app, "subset": "v2"}}],
                    },
                    {"route": route},
                ],
            }
            if route_count % 10 == 0:
                gateway = gateway_homes[ns_index % len(gateway_homes)]
                spec["gateways"] = ["mesh", f"{gateway}/gateway-{ns_index % len(gateway_homes)}"]
            objects.append(IstioConfig("VirtualService", ns, app, spec))
    return ConfigInventory(
        namespaces=tuple(NamespaceInfo(ns, "enabled") for ns in ns_names),
        services=tuple(service_rows),
        workloads=tuple(workload_rows),
        istio_objects=tuple(objects),
        pods=tuple(pod_rows),
    )


def security_objects(ns: str, ns_index: int) -> list[IstioConfig]:
    """A namespace's STRICT PeerAuthentication, Sidecar and AuthorizationPolicy, and in every hundredth namespace a
    PeerAuthentication disabling mTLS for ``svc-0``."""
    objects = [
        IstioConfig("PeerAuthentication", ns, "default", {"mtls": {"mode": "STRICT"}}),
        IstioConfig("Sidecar", ns, "default", {"egress": [{"hosts": ["./*", "istio-system/*"]}]}),
        IstioConfig(
            "AuthorizationPolicy",
            ns,
            "svc-0",
            {
                "selector": {"matchLabels": {"app": "svc-0"}},
                "rules": [{"from": [{"source": {"namespaces": [ns]}}], "to": [{"operation": {"methods": ["GET"]}}]}],
            },
        ),
    ]
    if ns_index % 100 == 0:
        spec = {"selector": {"matchLabels": {"app": "svc-0"}}, "mtls": {"mode": "DISABLE"}}
        objects.append(IstioConfig("PeerAuthentication", ns, "svc-0-plain", spec))
    return objects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--services", type=int, default=5, help="services (VS + DR each) per namespace")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine_speed())

    inventory = build_synthetic_inventory(args.namespaces, args.services)
    kinds = Counter(obj.kind for obj in inventory.istio_objects)
    print(
        f"inventory: {len(inventory.namespaces)} namespaces, {len(inventory.services)} services, "
        f"{len(inventory.workloads)} workloads, {len(inventory.pods)} pods, "
        f"{len(inventory.istio_objects)} Istio objects "
        f"({dict(sorted(kinds.items()))})"
    )
    timings = []
    findings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        findings = check_config(inventory)
        timings.append(time.perf_counter() - started)
    codes = Counter(f.code for f in findings)
    print(f"findings: {len(findings)} ({dict(sorted(codes.items()))})")
    print(
        f"check_config: median {statistics.median(timings):.3f} s over {args.runs} runs "
        f"(min {min(timings):.3f} s, max {max(timings):.3f} s)"
    )


if __name__ == "__main__":
    main()
