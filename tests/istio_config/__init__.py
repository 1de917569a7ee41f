"""Tests of the istio_config package."""
