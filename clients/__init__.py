"""The clients layer: all network I/O of mesh-ui (Kubernetes API, Prometheus) goes through here."""
