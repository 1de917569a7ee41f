"""The dashboard's browser pages: overview, topology graph, lists and detail pages (server-rendered + htmx)."""
