"""Fixtures of the fault suite; its probes and the syncing worker are in ``tests.faults.probes``."""

from __future__ import annotations

from typing import Any

import pytest

from inventory.models import Cluster


@pytest.fixture
def fault_cluster(transactional_db: None, simulator: Any) -> Cluster:
    return Cluster.objects.create(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))
