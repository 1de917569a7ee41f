"""Synthetic large clusters for benchmarks (e.g. 500 namespaces, 2,000 services, 10,000 pods).

Objects are generated directly (bypassing the reconcile loop, for speed) with the
controller's own builders, so they have exactly the shapes the controller would
produce and a later reconcile pass finds nothing to change.
"""

from __future__ import annotations

import random
import string
import uuid

from simulator.bookinfo import deployment, namespace, service
from simulator.replicas import (
    NODES,
    build_endpoints,
    build_pod,
    build_replicaset,
    deployment_status,
    replicaset_status,
    template_hash,
)
from simulator.resources import Obj
from simulator.store import ObjectStore, now_rfc3339

SYNTHETIC_PORT = 8080


def _spread(total: int, buckets: int) -> list[int]:
    """Split ``total`` into ``buckets`` near-equal non-negative parts."""
    base, extra = divmod(total, buckets)
    return [base + (1 if i < extra else 0) for i in range(buckets)]


def populate_synthetic(store: ObjectStore, namespaces: int, services: int, pods: int, seed: int = 1) -> int:
    """Fill ``store`` with a big injected mesh; returns the number of objects created.

    Namespaces ``mesh-0000``... (``istio-injection=enabled``) get ``services`` Services spread
    round-robin, each backed by one Deployment ``{service}-v1`` whose ReplicaSet owns an even
    share of the ``pods`` pods (sidecars included), plus Endpoints and filled-in statuses.
    """
    if namespaces <= 0 or services < 0 or pods < 0:
        raise ValueError("namespaces must be positive; services and pods non-negative")
    rng = random.Random(seed)
    now = now_rfc3339()
    alphabet = string.ascii_lowercase + string.digits
    objects: list[Obj] = []
    ns_objects = []
    for index in range(namespaces):
        ns_obj = namespace(f"mesh-{index:04d}", {"istio-injection": "enabled"})
        ns_objects.append(ns_obj)
        objects.append(ns_obj)
    replicas_per_service = _spread(pods, services) if services else []
    ip_counter = 0
    for index in range(services):
        ns_obj = ns_objects[index % namespaces]
        ns = ns_obj["metadata"]["name"]
        app = f"svc-{index:05d}"
        labels = {"app": app, "version": "v1"}
        svc = service(
            app,
            ns,
            {"app": app},
            [{"name": "http", "port": SYNTHETIC_PORT, "targetPort": SYNTHETIC_PORT, "protocol": "TCP"}],
            cluster_ip=f"10.{100 + index // 62500}.{(index // 250) % 250}.{index % 250 + 2}",
        )
        deploy = deployment(
            f"{app}-v1",
            ns,
            labels,
            f"registry.local/{app}:1.0",
            [{"containerPort": SYNTHETIC_PORT, "protocol": "TCP"}],
            app,
            replicas=replicas_per_service[index],
        )
        deploy["metadata"].update(uid=str(uuid.UUID(int=rng.getrandbits(128))), generation=1, creationTimestamp=now)
        pod_hash = template_hash(deploy["spec"]["template"])
        rs = build_replicaset(deploy, pod_hash)
        rs["metadata"].update(uid=str(uuid.UUID(int=rng.getrandbits(128))), generation=1, creationTimestamp=now)
        service_pods = []
        for _ in range(replicas_per_service[index]):
            ip_counter += 1
            name = f"{rs['metadata']['name']}-{''.join(rng.choice(alphabet) for _ in range(5))}"
            pod = build_pod(
                name=name,
                namespace=ns,
                template=rs["spec"]["template"],
                owner=rs,
                extra_labels={},
                inject=True,
                pod_ip=f"10.{16 + ip_counter // 62500}.{(ip_counter // 250) % 250}.{ip_counter % 250 + 2}",
                node=NODES[ip_counter % len(NODES)],
                now=now,
            )
            pod["metadata"]["uid"] = str(uuid.UUID(int=rng.getrandbits(128)))
            service_pods.append(pod)
        count = len(service_pods)
        rs["status"] = replicaset_status(rs, count, count)
        deploy["status"] = deployment_status(deploy, rs["metadata"]["name"], count, count, count, now=now)
        objects.extend((svc, deploy, rs, *service_pods, build_endpoints(svc, service_pods)))
    return store.create_many(objects)
