"""The simulator's ``metrics_down`` fault: ``/metrics`` answers 503 until it is cleared, the API server carries on."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from simulator import Simulator, control


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_metrics_down_answers_503_until_cleared():
    with Simulator(traffic=True, traffic_autostart=False).start() as sim:
        assert _status(f"{sim.url}/metrics") == 200
        assert control.set_faults(sim.url, metrics_down=True)["metrics_down"] is True
        assert _status(f"{sim.url}/metrics") == 503
        assert _status(f"{sim.url}/api/v1/namespaces") == 200  # the Kubernetes API still answers
        assert control.set_faults(sim.url, latency_seconds=0)["metrics_down"] is True  # other fields leave it
        assert control.clear_faults(sim.url)["metrics_down"] is False
        assert _status(f"{sim.url}/metrics") == 200
        control.set_faults(sim.url, metrics_down=True)
        assert control.set_faults(sim.url, metrics_down=False)["metrics_down"] is False
        assert _status(f"{sim.url}/metrics") == 200


def test_metrics_down_must_be_a_boolean():
    with Simulator().start() as sim, pytest.raises(control.SimulatorControlError, match="metrics_down must be true"):
        control._call_simulator(sim.url, "PUT", "/faults", {"metrics_down": "yes"})
