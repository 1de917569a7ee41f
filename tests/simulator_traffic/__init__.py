"""Tests of the simulated Istio traffic and sidecar metrics."""
