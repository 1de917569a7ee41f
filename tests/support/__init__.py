"""Helpers shared by test packages: real external services (Prometheus) started and stopped by the tests."""
