"""The cluster inventory: clusters, namespaces, services, workloads, pods and Istio objects, synced by Celery."""
