"""The clients layer: all network I/O of mesh-ui (Kubernetes API, Prometheus, metrics endpoints) goes through here.

Clients return plain data (rows, objects, counters) and import nothing from the apps above them.
"""
