"""Service graph and health: pure builders plus the stored time series of graph snapshots."""
