"""Fixtures: a running simulator and official-client API objects pointed at it via a kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from simulator import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(namespace="bookinfo", seed=1, bookmark_interval=0.2).start(port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def kubeconfig(sim: Simulator, tmp_path: Path) -> Path:
    return sim.write_kubeconfig(tmp_path / "simulator.kubeconfig", context="simulator")


@pytest.fixture
def api(kubeconfig: Path) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(kubeconfig), context="simulator")
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)
