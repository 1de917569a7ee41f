"""The graph and health against a real Prometheus, and the direct scrape source that must agree with it."""
