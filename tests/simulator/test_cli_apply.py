"""``python -m simulator apply``: namespaces defaulted like kubectl, and API errors printed, not raised."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from simulator import Simulator
from simulator.__main__ import main

SAMPLES = Path(__file__).resolve().parents[2] / "simulator" / "samples" / "bookinfo" / "networking"


@pytest.fixture
def bookinfo_kubeconfig(sim: Simulator, tmp_path: Path) -> Path:
    """A kubeconfig whose context namespace is bookinfo, as ``serve`` writes it."""
    return sim.write_kubeconfig(tmp_path / "bookinfo.kubeconfig", context="simulator", namespace="bookinfo")


def vs_names(api: client.ApiClient, namespace: str) -> set[str]:
    found = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "networking.istio.io", "v1", namespace, "virtualservices"
    )
    return {item["metadata"]["name"] for item in found["items"]}


def test_apply_defaults_to_the_context_namespace_and_takes_dash_n(
    bookinfo_kubeconfig: Path, kubeconfig: Path, api: client.ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = str(SAMPLES / "virtual-service-all-v1.yaml")
    assert main(["--kubeconfig", str(bookinfo_kubeconfig), "apply", sample]) == 0
    assert "VirtualService/bookinfo/reviews created" in capsys.readouterr().out
    assert {"productpage", "reviews", "ratings", "details"} <= vs_names(api, "bookinfo")
    # The fixture's kubeconfig has context namespace "default": -n picks another one.
    assert main(["--kubeconfig", str(kubeconfig), "apply", "-n", "istio-system", sample]) == 0
    assert "VirtualService/istio-system/reviews created" in capsys.readouterr().out
    assert main(["--kubeconfig", str(kubeconfig), "apply", "--namespace", "bookinfo", sample]) == 0
    assert "VirtualService/bookinfo/reviews configured" in capsys.readouterr().out


def test_a_namespace_in_the_file_wins_and_must_match_dash_n(
    kubeconfig: Path, api: client.ApiClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "vs.yaml"
    manifest.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        "metadata: {name: pinned, namespace: bookinfo}\nspec: {hosts: [reviews]}\n"
    )
    assert main(["--kubeconfig", str(kubeconfig), "apply", str(manifest)]) == 0
    assert "pinned" in vs_names(api, "bookinfo")
    capsys.readouterr()
    assert main(["--kubeconfig", str(kubeconfig), "apply", "-n", "default", str(manifest)]) == 1
    assert capsys.readouterr().err.strip() == (
        'error: the namespace from the provided object "bookinfo" does not match the namespace "default". '
        "You must pass '--namespace=bookinfo' to perform this operation."
    )


def test_an_invalid_object_prints_the_servers_message(
    kubeconfig: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bad}\n"
        "spec: {hosts: [reviews], http: [{route: [{destination: {}}]}]}\n"
    )
    assert main(["--kubeconfig", str(kubeconfig), "apply", "-n", "bookinfo", str(manifest)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('Error from server (Invalid): VirtualService.networking.istio.io "bad" is invalid: ')
    assert "spec.http[0].route[0].destination.host: Required value" in err
    assert "Traceback" not in err
    assert main(["--kubeconfig", str(kubeconfig), "apply", str(tmp_path / "missing.yaml")]) == 1
    assert capsys.readouterr().err.startswith("error: [Errno 2] No such file or directory")
