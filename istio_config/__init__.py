"""Istio configuration: schema validation of Istio objects, the configuration checks of ``checks/`` (Kiali's and
``istioctl analyze``'s), and, next, the routing editors and write-back."""
