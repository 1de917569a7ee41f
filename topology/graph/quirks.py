"""Kiali's heuristics for known Istio telemetry quirks, applied to a row's labels before its path is resolved.

Istio's standard metrics are not always right.  Kiali (``graph/telemetry/istio/util/util.go`` and ``istio.go``)
works around the known cases, and so does mesh-ui, one pure function per case (each listed with its Kiali counterpart
in ``docs/graph.md``):

- :func:`is_bad_source`: a source with a namespace but neither workload nor app (telemetry of a pod being created or
  deleted), or a source whose ``source_cluster`` label is present but ``unknown`` while its namespace is known: the row
  is dropped (Kiali's ``IsBadSourceTelemetry``).
- :func:`handle_destination`:

  - a request whose destination service *is* the egress gateway's host (``destination_service`` and
    ``destination_service_name`` both ``istio-egressgateway.<istio namespace>.svc.cluster.local``) goes to the egress
    gateway workload in the Istio namespace, in the caller's cluster (Kiali's ``HandleDestination``, kiali#2999);
  - a ``destination_cluster`` reported ``unknown`` (Istio#29373) for a destination with a known service namespace is
    the caller's cluster, when that one is known: the cluster of a node whose telemetry lacks it is inferred from the
    other end of the request (``HandleDestination``).

- :func:`is_bad_destination`: a destination without workload whose service and service name are the same raw IP
  address (``10.1.2.3:80``; pod lifecycle), or a destination whose ``destination_cluster`` label is present but still
  ``unknown`` after the inference while its service namespace is known: the row is dropped (``IsBadDestTelemetry``).
- :func:`injects_service_node`: no service node for ``PassthroughCluster`` (kiali#4488: traffic Envoy passed through
  to an address it has no service for is an edge to the ``PassthroughCluster`` node itself), nor next to an ambient
  waypoint (an L4 hop into or out of a waypoint is workload to workload, as Kiali draws ztunnel rows).

A label that is absent reads ``None`` here and is never "bad" (telemetry of Istio before 1.9 has no cluster labels:
the cluster is ``unknown``).  Pure: no I/O, no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from topology.graph.model import is_known

#: The namespace Istio's control plane and gateways run in (Kiali's ``istio_namespace`` default).
ISTIO_NAMESPACE: Final = "istio-system"
EGRESS_GATEWAY: Final = "istio-egressgateway"
#: Envoy's clusters for traffic to an address without a service (allowed, or blocked by ``REGISTRY_ONLY``).
PASSTHROUGH_CLUSTER: Final = "PassthroughCluster"
BLACKHOLE_CLUSTER: Final = "BlackHoleCluster"
ENVOY_CLUSTERS: Final = frozenset({PASSTHROUGH_CLUSTER, BLACKHOLE_CLUSTER})
#: A physical IP address with an optional port (Kiali's ``badServiceMatcher``).
_RAW_IP: Final = re.compile(r"^\d+\.\d+\.\d+\.\d+(:\d+)?$")


@dataclass(frozen=True, slots=True)
class Destination:
    """The destination side of a row, as the graph reads it."""

    cluster: str
    service_namespace: str
    service: str
    workload_namespace: str
    workload: str
    app: str
    version: str


def is_bad_source(cluster: str | None, namespace: str, workload: str, app: str) -> bool:
    """True for source telemetry Kiali skips (module docstring); ``cluster`` is None when the label is absent."""
    if is_known(namespace) and not is_known(workload) and not is_known(app):
        return True
    return is_known(namespace) and cluster is not None and not is_known(cluster)


def handle_destination(
    source_cluster: str, destination: Destination, host: str, istio_namespace: str = ISTIO_NAMESPACE
) -> Destination:
    """The destination after Kiali's corrections: the egress gateway host, then the cluster inference."""
    if host == destination.service and host == f"{EGRESS_GATEWAY}.{istio_namespace}.svc.cluster.local":
        return Destination(
            source_cluster, istio_namespace, EGRESS_GATEWAY, istio_namespace, EGRESS_GATEWAY, EGRESS_GATEWAY, "latest"
        )
    if not is_known(destination.cluster) and is_known(source_cluster) and is_known(destination.service_namespace):
        return Destination(
            source_cluster,
            destination.service_namespace,
            destination.service,
            destination.workload_namespace,
            destination.workload,
            destination.app,
            destination.version,
        )
    return destination


def is_bad_destination(cluster_label_present: bool, destination: Destination, host: str) -> bool:
    """True for destination telemetry Kiali skips (module docstring), after :func:`handle_destination`."""
    name = destination.service
    if not is_known(destination.workload) and is_known(host) and host == name and _RAW_IP.match(name):
        return True
    return is_known(destination.service_namespace) and cluster_label_present and not is_known(destination.cluster)


def injects_service_node(service: str, source_is_waypoint: bool, destination_is_waypoint: bool) -> bool:
    """Whether a service node goes between the caller and a known destination workload (with service injection on)."""
    return service != PASSTHROUGH_CLUSTER and not source_is_waypoint and not destination_is_waypoint


__all__: list[str] = [
    "BLACKHOLE_CLUSTER",
    "EGRESS_GATEWAY",
    "ENVOY_CLUSTERS",
    "ISTIO_NAMESPACE",
    "PASSTHROUGH_CLUSTER",
    "Destination",
    "handle_destination",
    "injects_service_node",
    "is_bad_destination",
    "is_bad_source",
]
