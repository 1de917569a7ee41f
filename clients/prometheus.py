"""Prometheus access for mesh-ui: instant queries for the graph, through ``prometheus-api-client``.

All Prometheus network I/O goes through this module.  ``PrometheusClient.fetch_graph_rows`` runs the 5 queries of
:func:`topology.graph.queries.build_graph_queries` concurrently on a small thread pool and returns the
instant-vector rows (``{"metric": {...}, "value": [ts, "1.5"]}``) in a :class:`GraphRows`; the graph pipeline's
parsers turn the rows into samples, the latency samples straight from the bucket and sum rows
(:func:`clients.promql_math.derive_latency_samples`: the average, count and quantiles ``sum / count``, the ``+Inf``
bucket and ``histogram_quantile`` would return; :meth:`GraphRows.latency_rows` gives them as PromQL rows).
Instant queries go through the library's HTTP session but their (large) answers are parsed with
orjson.  Every failure (connection refused, timeout, HTTP 4xx/5xx, a body that is not
Prometheus JSON) comes out as :class:`PrometheusError`, and every HTTP call has a timeout.
"""

from __future__ import annotations

import ast
import json
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import requests
from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import PrometheusConnect
from urllib3.util.retry import Retry

from clients.promql_math import derive_latency_rows, derive_latency_samples
from topology.graph.health_step import GraphHealthInputs
from topology.graph.pipeline import GraphInputs
from topology.graph.queries import GraphQueries, split_sum_rate_query
from topology.graph.samples import LatencySample, MeshContext, build_tcp_samples, parse_request_samples
from topology.graph.traffic_map import is_counted_row

Row = dict[str, Any]

#: Threads used by :meth:`PrometheusClient.fetch_graph_rows`: one per query of a graph snapshot.
GRAPH_QUERY_WORKERS = 6

#: Queries sent first: the largest answers, so they do not end up alone at the end of the fetch.
_FIRST = frozenset({"latency_buckets", "requests"})

_STATUS_MESSAGE = re.compile(r"^HTTP Status Code (\d+) \((b(?:'.*'|\".*\"))\)$", re.DOTALL)


class PrometheusError(Exception):
    """Any failure talking to Prometheus; the message says what went wrong (and Prometheus' own error text)."""


@dataclass(frozen=True)
class PrometheusSettings:
    """Where Prometheus is and how to reach it.

    ``bearer_token`` is sent as ``Authorization: Bearer ...`` when set; ``ca_file`` (a PEM bundle) replaces the
    system CAs when set; ``verify_tls=False`` disables certificate checks; ``timeout`` (seconds) bounds every
    HTTP call.  ``gzip`` asks Prometheus to compress query answers: off by default, since the graph's answers
    (megabytes) cost Prometheus more CPU to gzip than they take to send over a data-centre link.
    """

    url: str
    bearer_token: str = ""
    verify_tls: bool = True
    ca_file: str = ""
    timeout: float = 10.0
    gzip: bool = False

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: {self.url!r} must start with http:// or https://")
        if self.timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")

    def __repr__(self) -> str:  # never print the token
        token = "***" if self.bearer_token else ""
        return (
            f"PrometheusSettings(url={self.url!r}, bearer_token={token!r}, verify_tls={self.verify_tls}, "
            f"ca_file={self.ca_file!r}, timeout={self.timeout}, gzip={self.gzip})"
        )


@dataclass(frozen=True)
class GraphRows:
    """The instant-vector rows a graph reads, and the wall time spent fetching them.

    ``latency_buckets`` and ``latency_sum`` are the rows of the duration histogram's summed bucket and sum rates;
    the latency samples are derived from them (:meth:`build_inputs`), and :meth:`latency_rows` derives the rows of
    ``sum / count``, ``histogram_quantile(q, ...)`` and the count.
    """

    requests: list[Row] = field(default_factory=list)
    tcp_sent: list[Row] = field(default_factory=list)
    tcp_received: list[Row] = field(default_factory=list)
    latency_buckets: list[Row] = field(default_factory=list)
    latency_sum: list[Row] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def latency_rows(self) -> dict[str, list[Row]]:
        """The rows PromQL returns for the average, the quantiles and the count (keys: ``LATENCY_ROW_FIELDS``).

        ``latency_avg`` and the quantile rows are what ``sum / count`` and ``histogram_quantile(q, ...)`` return
        (NaN where nothing was observed); ``latency_count`` is the request rate behind them (the ``+Inf`` bucket).
        Values are Prometheus-style strings; the graph does not read these rows (see :meth:`build_inputs`).
        """
        return derive_latency_rows(self.latency_buckets, self.latency_sum)

    def build_inputs(self, mesh: MeshContext | None = None, health: GraphHealthInputs | None = None) -> GraphInputs:
        """Parse the rows into the graph pipeline's :class:`~topology.graph.pipeline.GraphInputs`.

        Rows of the reporter the graph does not count are dropped here, before parsing: the pipeline would skip
        them anyway (:func:`~topology.graph.traffic_map.is_counted_row`), once per graph type built.  The latency
        samples come straight from the bucket and sum rows (:func:`~clients.promql_math.derive_latency_samples`).
        """
        return replace(self.build_traffic_inputs(mesh, health), latencies=self.build_latency_samples())

    def build_traffic_inputs(
        self, mesh: MeshContext | None = None, health: GraphHealthInputs | None = None
    ) -> GraphInputs:
        """:meth:`build_inputs` without the latency samples: what the request and TCP rows give."""
        return GraphInputs(
            requests=parse_request_samples(_counted(self.requests)),
            tcp=build_tcp_samples(_counted(self.tcp_sent), _counted(self.tcp_received)),
            mesh=mesh or MeshContext(),
            health=health,
        )

    def build_latency_samples(self) -> list[LatencySample]:
        """The latency samples :meth:`build_inputs` derives from the bucket and sum rows (counted reporter only)."""
        return derive_latency_samples(self.latency_buckets, self.latency_sum, is_counted_row)


def _counted(rows: list[Row]) -> list[Row]:
    return [row for row in rows if is_counted_row(row.get("metric", {}))]


def build_graph_query_map(queries: GraphQueries) -> dict[str, str]:
    """The 5 queries keyed by the :class:`GraphRows` field that holds their rows."""
    return {
        "requests": queries.requests,
        "tcp_sent": queries.tcp.sent,
        "tcp_received": queries.tcp.received,
        "latency_buckets": queries.latency.buckets,
        "latency_sum": queries.latency.sum,
    }


def build_graph_rows(fetched: dict[str, list[Row]], elapsed_seconds: float = 0.0) -> GraphRows:
    """:class:`GraphRows` from the rows of :func:`build_graph_query_map`'s queries."""
    return GraphRows(
        requests=fetched["requests"],
        tcp_sent=fetched["tcp_sent"],
        tcp_received=fetched["tcp_received"],
        latency_buckets=fetched["latency_buckets"],
        latency_sum=fetched["latency_sum"],
        elapsed_seconds=elapsed_seconds,
    )


def _status_error(exc: PrometheusApiClientException) -> PrometheusError:
    """Turn the library's ``HTTP Status Code 400 (b'{...}')`` into a message carrying Prometheus' error text."""
    text = str(exc)
    match = _STATUS_MESSAGE.match(text)
    if match is None:
        return PrometheusError(f"Prometheus query failed: {text}")
    status = match.group(1)
    try:
        body = ast.literal_eval(match.group(2))
        payload = json.loads(body)
        detail = f"{payload.get('errorType', 'error')}: {payload['error']}"
    except (ValueError, SyntaxError, KeyError, TypeError, AttributeError):
        detail = text
    return PrometheusError(f"Prometheus answered HTTP {status}: {detail}")


#: The queries whose rows give the traffic (rates, codes, mTLS), and those that give the response times.
TRAFFIC_QUERIES: tuple[str, ...] = ("requests", "tcp_sent", "tcp_received")
LATENCY_QUERIES: tuple[str, ...] = ("latency_buckets", "latency_sum")


class PendingGraphRows:
    """The graph queries of one window, in flight (:meth:`PrometheusClient.start_graph_rows`).

    A failure of any query cancels those not started yet and is raised (as :class:`PrometheusError`) by the call
    that waits for it.
    """

    def __init__(self, futures: dict[str, list[Future[list[Row]]]], started: float) -> None:
        """Wrap the queries' futures (parts by query name, see :func:`build_graph_query_map`) sent at ``started``."""
        self._futures = futures
        self._started = started
        self._rows: dict[str, list[Row]] = {}

    def _wait(self, names: tuple[str, ...]) -> None:
        try:
            for name in names:
                if name not in self._rows:
                    self._rows[name] = [row for part in self._futures[name] for row in part.result()]
        except PrometheusError:
            for parts in self._futures.values():
                for future in parts:
                    future.cancel()
            raise

    def traffic(self) -> GraphRows:
        """The rows of :data:`TRAFFIC_QUERIES` (the latency fields empty), once they have arrived."""
        self._wait(TRAFFIC_QUERIES)
        rows = self._rows
        return GraphRows(requests=rows["requests"], tcp_sent=rows["tcp_sent"], tcp_received=rows["tcp_received"])

    def complete(self) -> GraphRows:
        """Every query's rows, once all have arrived; ``elapsed_seconds`` counts from the queries' start."""
        self._wait(TRAFFIC_QUERIES + LATENCY_QUERIES)
        return build_graph_rows(self._rows, elapsed_seconds=time.monotonic() - self._started)


class PrometheusClient:
    """Instant queries against one Prometheus server (thread-safe for the concurrent graph fetch)."""

    def __init__(self, settings: PrometheusSettings) -> None:
        """Prepare an HTTP session for ``settings`` (nothing is sent until a ``fetch_*`` call)."""
        self.settings = settings
        self._url = settings.url.rstrip("/")
        session = requests.Session()
        if not settings.verify_tls:
            session.verify = False
        elif settings.ca_file:
            session.verify = settings.ca_file
        headers = {"Authorization": f"Bearer {settings.bearer_token}"} if settings.bearer_token else {}
        # One quick retry of refused connections and gateway hiccups, none of read timeouts (a slow query would only
        # run twice): the snapshot task retries on its own schedule, so the library's default (3 retries with
        # exponential back-off) would only make failures slow.
        retry = Retry(total=1, read=False, backoff_factor=0, status_forcelist=(502, 503, 504), raise_on_status=False)
        self._session = session
        self._query_headers = {**headers, "Accept-Encoding": "gzip, deflate" if settings.gzip else "identity"}
        # One pool for the graph queries of every fetch_graph_rows call (one per window, concurrently): it caps the
        # queries in flight (more would only make each slower on a busy Prometheus, towards its timeout, and
        # overflow the connection pool), and its FIFO queue answers the first window's queries first, so the
        # caller can build that window's graphs while the others are computed.
        self._graph_pool = ThreadPoolExecutor(max_workers=GRAPH_QUERY_WORKERS, thread_name_prefix="prometheus")
        self._connect = PrometheusConnect(
            url=self._url, headers=headers, disable_ssl=not settings.verify_tls, retry=retry, session=session
        )

    def close(self) -> None:
        """Release the HTTP connection pool and the query threads."""
        self._graph_pool.shutdown(wait=False, cancel_futures=True)
        self._connect.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch_instant(self, query: str, at: float | None = None) -> list[Row]:
        """Run an instant query at ``at`` (unix seconds; now when None) and return its instant-vector rows.

        The request is the one ``PrometheusConnect.custom_query`` sends (same session, retries, headers and TLS
        settings); the answer is parsed with orjson, several times faster than ``json`` on the graph's answers.
        """
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        try:
            response = self._session.get(
                f"{self._url}/api/v1/query", params=params, headers=self._query_headers, timeout=self.settings.timeout
            )
        except requests.Timeout as exc:
            raise PrometheusError(f"Prometheus at {self._url} did not answer within {self.settings.timeout}s") from exc
        except requests.RequestException as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self._url}: {exc}") from exc
        if response.status_code != 200:
            raise _status_error(
                PrometheusApiClientException(f"HTTP Status Code {response.status_code} ({response.content!r})")
            )
        try:
            result = orjson.loads(response.content)["data"]["result"]
        except (ValueError, KeyError, TypeError) as exc:  # 200 with a body that is not Prometheus JSON
            raise PrometheusError(f"Prometheus at {self._url} returned an unreadable answer: {exc!r}") from exc
        if not isinstance(result, list) or not all(isinstance(row, dict) for row in result):
            raise PrometheusError(f"expected an instant vector from {query!r}, got {str(result)[:200]}")
        return result

    def fetch_graph_rows(self, queries: GraphQueries, at: float | None = None) -> GraphRows:
        """Run the 5 graph queries concurrently at the same instant and collect their rows.

        Each query runs as its disjoint parts (:func:`~topology.graph.queries.split_sum_rate_query`), the latency
        buckets (the largest answers) first.  ``at`` defaults to now, fixed once so all queries see the same
        instant.  The first failure cancels the queries not started yet and is raised as :class:`PrometheusError`.
        Calls may run concurrently (one per window); at most ``GRAPH_QUERY_WORKERS`` queries of this client are in
        flight at once.
        """
        return self.start_graph_rows(queries, at).complete()

    def start_graph_rows(self, queries: GraphQueries, at: float | None = None) -> PendingGraphRows:
        """Send the 5 graph queries as :meth:`fetch_graph_rows` does, and return at once: the caller reads the
        request and TCP rows (:meth:`PendingGraphRows.traffic`) while the latency histogram is still computed."""
        instant = time.time() if at is None else at
        started = time.monotonic()
        query_map = build_graph_query_map(queries)
        order = sorted(query_map, key=lambda name: name not in _FIRST)
        pool = self._graph_pool
        futures: dict[str, list[Future[list[Row]]]] = {
            name: [pool.submit(self.fetch_instant, part, instant) for part in split_sum_rate_query(query_map[name])]
            for name in order
        }
        return PendingGraphRows(futures, started)

    def check_ready(self) -> bool:
        """True when Prometheus answers ``/-/ready`` with 200 (never raises)."""
        try:
            response = self._session.get(
                f"{self._url}/-/ready", headers=self._connect.headers, timeout=self.settings.timeout
            )
        except requests.RequestException:
            return False
        return response.status_code == 200


__all__: list[str] = [
    "GRAPH_QUERY_WORKERS",
    "LATENCY_QUERIES",
    "TRAFFIC_QUERIES",
    "GraphRows",
    "PendingGraphRows",
    "PrometheusClient",
    "PrometheusError",
    "PrometheusSettings",
    "build_graph_query_map",
    "build_graph_rows",
]
