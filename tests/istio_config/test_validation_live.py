"""The learner's story, end to end: Celery beat and a real worker sync the simulator through the real Kubernetes
client, and the validation runs the sync triggers store and clear the findings.

Applying Istio's ``virtual-service-all-v1.yaml`` before ``destination-rule-all.yaml`` routes to subsets no
DestinationRule defines; the subset-not-found finding must appear within seconds, and clear once the rules arrive.
"""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from inventory.models import Cluster, IstioObject
from istio_config.models import ConfigFinding, ValidationRun
from tests.istio_config.checks_support import BOOKINFO_NETWORKING
from tests.support.celery_worker import running_worker, worker_env
from tests.support.wait import wait_until

PLURALS = {"VirtualService": "virtualservices", "DestinationRule": "destinationrules"}


def apply_sample(api: Any, filename: str, namespace: str = "bookinfo") -> None:
    custom = k8s.CustomObjectsApi(api)
    for document in filter(None, yaml.safe_load_all((BOOKINFO_NETWORKING / filename).read_text())):
        group, version = document["apiVersion"].split("/")
        custom.create_namespaced_custom_object(group, version, namespace, PLURALS[document["kind"]], document)


def subset_findings() -> list[tuple[str, str]]:
    return list(ConfigFinding.objects.filter(code="KIA1107").values_list("name", "path").order_by("name"))


def test_subset_not_found_appears_after_the_routes_and_clears_with_the_rules(transactional_db, simulator, tmp_path):
    env = worker_env(
        tmp_path,
        CELERY_BROKER_URL="filesystem://",
        MESH_UI_CLUSTERS=f"sim={simulator.kubeconfig_path}",
        MESH_UI_SYNC_INTERVAL="1",
        MESH_UI_RELIST_INTERVAL="60",
    )
    options = ("-B", "--concurrency", "3", "--schedule", str(tmp_path / "beat-schedule"))
    with running_worker(env, tmp_path / "worker.log", *options):
        wait_until(
            lambda: ValidationRun.objects.filter(finished_at__isnull=False, object_count__gte=2).exists(),
            "the first sync was validated",
            timeout=60,
        )
        assert subset_findings() == []
        api = k8s_config.new_client_from_config(config_file=str(simulator.kubeconfig_path))

        apply_sample(api, "virtual-service-all-v1.yaml")
        found = wait_until(subset_findings, "the subset-not-found findings appeared", timeout=20)
        assert ("reviews", "spec.http[0].route[0].destination.subset") in found
        assert {name for name, _ in found} == {"productpage", "reviews", "ratings", "details"}
        assert (
            ConfigFinding.objects.get(name="reviews", code="KIA1107")
            .targets.filter(target_kind="service", namespace="bookinfo", name="reviews")
            .exists()
        )

        apply_sample(api, "destination-rule-all.yaml")
        wait_until(lambda: not subset_findings(), "the findings cleared once the rules arrived", timeout=20)
        wait_until(lambda: IstioObject.objects.filter(kind="DestinationRule").count() == 4, "the rules were synced", 5)
    run = ValidationRun.objects.get(cluster=Cluster.objects.get(name="sim"))
    assert run.last_error == ""
    assert run.error_count == 0
