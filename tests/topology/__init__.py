"""Tests for the pure service-graph pipeline and health calculators (no DB, no network)."""
