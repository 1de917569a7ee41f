"""Telemetry rows -> graph samples: the pure layer between :mod:`clients` (which fetches plain rows) and the graph.

- :mod:`topology.telemetry.rows`: the queries a window sends, and the rows parsed into the pipeline's inputs;
- :mod:`topology.telemetry.promql_math`: the PromQL arithmetic mesh-ui evaluates itself (``histogram_quantile``,
  ``sum / count``), turning the latency histogram's rows into samples;
- :mod:`topology.telemetry.direct`: the rows Prometheus would return, computed from two scrapes of the counters.

No I/O and no Django here.
"""
