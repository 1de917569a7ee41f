"""The real ``kubectl`` against the simulator, as against a cluster: validation from the OpenAPI documents,
``get`` tables, server-side and client-side apply, edit/replace, describe, explain and delete."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from simulator import Simulator
from tests.simulator.kubectl_support import SAMPLES, Kubectl, find_kubectl, table_rows

NS = ("-n", "bookinfo")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    binary = find_kubectl()
    sim = Simulator(namespace="bookinfo").start(port=0)
    tmp = tmp_path_factory.mktemp("kubectl")
    try:
        yield Kubectl(binary, sim.write_kubeconfig(tmp / "kubeconfig"), tmp / "cache")
    finally:
        sim.stop()


def test_get_prints_the_servers_columns(kubectl: Kubectl) -> None:
    pods = table_rows(kubectl("get", "pods", *NS))
    assert list(pods[0]) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert {p["NAME"].rsplit("-", 2)[0] for p in pods} >= {"productpage-v1", "reviews-v2"}
    assert all(p["READY"] == "2/2" and p["STATUS"] == "Running" and p["RESTARTS"] == "0" for p in pods)
    wide = table_rows(kubectl("get", "pods", *NS, "-o", "wide"))
    assert list(wide[0])[5:7] == ["IP", "NODE"] and wide[0]["IP"].count(".") == 3

    services = table_rows(kubectl("get", "services", *NS))
    assert list(services[0]) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    reviews = next(s for s in services if s["NAME"] == "reviews")
    assert (reviews["TYPE"], reviews["EXTERNAL-IP"], reviews["PORT(S)"]) == ("ClusterIP", "<none>", "9080/TCP")

    deployments = table_rows(kubectl("get", "deployments", *NS))
    assert list(deployments[0]) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert {(d["NAME"], d["READY"], d["AVAILABLE"]) for d in deployments} >= {("reviews-v3", "1/1", "1")}

    [gateway_route] = table_rows(kubectl("get", "virtualservices", *NS))
    assert gateway_route == {**gateway_route, "NAME": "bookinfo", "GATEWAYS": '["bookinfo-gateway"]', "HOSTS": '["*"]'}
    assert list(gateway_route) == ["NAME", "GATEWAYS", "HOSTS", "AGE"]

    everything = table_rows(kubectl("get", "virtualservices,pods", "-A", "--no-headers=false").split("\n\n")[0])
    assert everything[0]["NAMESPACE"] == "bookinfo"


def test_apply_validates_against_the_servers_schema(kubectl: Kubectl) -> None:
    typo = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "typo"},
        "spec": {"hosts": ["reviews"], "htpp": []},
    }
    result = kubectl.run("apply", *NS, "-f", "-", stdin=json.dumps(typo), check=False)
    assert result.returncode == 1
    assert "failed to download openapi" not in result.stderr
    if kubectl.minor >= 27:  # the server validates (fieldValidation=Strict, advertised in OpenAPI v3)
        assert 'strict decoding error: unknown field "spec.htpp"' in result.stderr
    else:  # kubectl validates with the OpenAPI v2 document (protobuf)
        assert 'unknown field "htpp" in io.istio.networking.v1.VirtualService.spec' in result.stderr
    invalid = {**typo, "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {}}]}]}}
    result = kubectl.run("apply", *NS, "-f", "-", stdin=json.dumps(invalid), check=False)
    assert result.returncode == 1
    if kubectl.minor >= 27:
        assert "spec.http[0].route[0].destination.host: Required value" in result.stderr
    else:
        assert 'missing required field "host"' in result.stderr
    assert kubectl.run("get", "virtualservice", "typo", *NS, check=False).returncode == 1


def managed(kubectl: Kubectl) -> list[str]:
    """The flag that shows managedFields (kubectl hides them from 1.21 on; 1.20 always shows them)."""
    return ["--show-managed-fields"] if kubectl.minor >= 21 else []


def _managers(obj: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    entries = obj["metadata"]["managedFields"]  # type: ignore[index]
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in entries}


def test_server_side_apply_owns_fields_and_reports_conflicts(kubectl: Kubectl) -> None:
    rule = yaml.safe_load((SAMPLES / "destination-rule-reviews.yaml").read_text())
    rule["metadata"]["labels"] = {"team": "a", "tier": "x"}
    out = kubectl("apply", "--server-side", *NS, "-f", "-", stdin=json.dumps(rule))
    assert out.strip() == "destinationrule.networking.istio.io/reviews serverside-applied"
    stored = json.loads(kubectl("get", "destinationrule", "reviews", *NS, "-o", "json", *managed(kubectl)))
    owned = _managers(stored)[("kubectl", "Apply")]
    assert owned["f:spec"] == {"f:host": {}, "f:subsets": {}, "f:trafficPolicy": {"f:loadBalancer": {"f:simple": {}}}}

    # Another manager changes a field: the next apply of a different value conflicts, unless forced.
    kubectl("patch", "destinationrule", "reviews", *NS, "--type=merge", "-p", '{"spec":{"host":"ratings"}}')
    result = kubectl.run("apply", "--server-side", *NS, "-f", "-", stdin=json.dumps(rule), check=False)
    assert result.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl-patch": .spec.host' in result.stderr
    kubectl("apply", "--server-side", "--force-conflicts", *NS, "-f", "-", stdin=json.dumps(rule))
    stored = json.loads(kubectl("get", "destinationrule", "reviews", *NS, "-o", "json", *managed(kubectl)))
    assert stored["spec"]["host"] == "reviews"
    assert ("kubectl-patch", "Update") not in _managers(stored)  # its only field moved to the applier

    # A field the applier stops applying, which nobody else owns, goes; a label another manager set stays.
    kubectl("label", "destinationrule", "reviews", *NS, "owner=ops")
    del rule["metadata"]["labels"]["tier"]
    del rule["spec"]["trafficPolicy"]
    kubectl("apply", "--server-side", *NS, "-f", "-", stdin=json.dumps(rule))
    stored = json.loads(kubectl("get", "destinationrule", "reviews", *NS, "-o", "json"))
    assert stored["metadata"]["labels"] == {"team": "a", "owner": "ops"}
    assert "trafficPolicy" not in stored["spec"]
    kubectl("delete", "destinationrule", "reviews", *NS)


def test_client_side_apply_merges_containers_by_name(kubectl: Kubectl, tmp_path: Path) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "bookinfo"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "version": "v1"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}, {"name": "B"}]},
                        {"name": "side", "image": "busybox"},
                    ]
                },
            },
        },
    }
    manifest = tmp_path / "web.yaml"
    manifest.write_text(yaml.safe_dump(deployment))
    assert kubectl("apply", "-f", str(manifest)).strip() == "deployment.apps/web created"
    web = deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    web["image"], web["env"] = "nginx:2", [{"name": "A", "value": "1"}]
    manifest.write_text(yaml.safe_dump(deployment))
    assert kubectl("apply", "-f", str(manifest)).strip() == "deployment.apps/web configured"
    containers = json.loads(kubectl("get", "deployment", "web", *NS, "-o", "jsonpath={.spec.template.spec.containers}"))
    assert containers == [
        {"name": "web", "image": "nginx:2", "env": [{"name": "A", "value": "1"}]},
        {"name": "side", "image": "busybox"},
    ]
    assert kubectl("scale", "deployment", "web", *NS, "--replicas=2").strip() == "deployment.apps/web scaled"
    assert 'deployment.apps "web" deleted' in kubectl("delete", "-f", str(manifest))


def test_edit_replace_describe_explain_and_delete(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl("apply", *NS, "-f", str(SAMPLES / "virtual-service-reviews-test-v2.yaml"))
    exported = yaml.safe_load(kubectl("get", "virtualservice", "reviews", *NS, "-o", "yaml"))
    exported["spec"]["http"][1]["route"][0]["destination"]["subset"] = "v3"
    assert "replaced" in kubectl("replace", "-f", "-", stdin=yaml.safe_dump(exported))

    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\np.write_text(p.read_text().replace('v3', 'v1'))\n"
    )
    result = kubectl.run(
        "edit", "virtualservice", "reviews", *NS, check=False, env={"KUBE_EDITOR": f"{sys.executable} {editor}"}
    )
    assert result.returncode == 0, result.stderr
    assert "edited" in result.stdout
    routes = json.loads(kubectl("get", "virtualservice", "reviews", *NS, "-o", "jsonpath={.spec.http}"))
    assert [r["route"][0]["destination"]["subset"] for r in routes] == ["v2", "v1"]

    described = kubectl("describe", "virtualservice", "reviews", *NS)
    assert "Kind:         VirtualService" in described and "Exact:  jason" in described
    pod = kubectl("get", "pods", *NS, "-l", "app=ratings", "-o", "name").split()[0]
    assert re.search(r"^Status:\s+Running$", kubectl("describe", pod, *NS), re.MULTILINE)
    assert "Replicas:" in kubectl("describe", "deployment", "reviews-v1", *NS)

    explained = kubectl("explain", "virtualservice.spec.http.fault.delay")
    assert "fixedDelay" in explained and "percentage" in explained
    v2 = ["--output=plaintext-openapiv2"] if kubectl.minor >= 27 else []  # older kubectl explains from v2 only
    assert "containers" in kubectl("explain", *v2, "deployment.spec.template.spec")

    assert 'virtualservice.networking.istio.io "reviews" deleted' in kubectl("delete", "virtualservice", "reviews", *NS)
    assert kubectl("get", "virtualservices", *NS, "-o", "name").split() == [
        "virtualservice.networking.istio.io/bookinfo"
    ]


def test_discovery_categories(kubectl: Kubectl) -> None:
    everything = kubectl("get", "all", *NS)
    assert "pod/productpage-v1-" in everything and "deployment.apps/reviews-v3" in everything
    assert "service/reviews" in everything
    istio = kubectl("get", "istio-io", *NS, "-o", "name").split()
    assert set(istio) >= {"virtualservice.networking.istio.io/bookinfo", "gateway.networking.istio.io/bookinfo-gateway"}
    assert all(".networking.istio.io/" in name for name in istio)
