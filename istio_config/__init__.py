"""Istio configuration: schema validation of Istio objects (and, next, the routing editors and write-back)."""
