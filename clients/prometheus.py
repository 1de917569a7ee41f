"""Prometheus access for mesh-ui: instant PromQL queries through ``prometheus-api-client``, answered as plain rows.

Every query goes through the library's ``PrometheusConnect.custom_query`` (its session, retries, TLS settings and
errors) and comes back as instant-vector rows (``{"metric": {...}, "value": [ts, "1.5"]}``).  The queries of one
graph window are sent together on a small thread pool (:meth:`PrometheusClient.start_graph_rows`), each as the
parts the caller split it into, and their rows land in a :class:`GraphRows`: the request and TCP rows can be read
while Prometheus still computes the latency histogram.  This module knows nothing of the graph; turning rows into
graph samples is :mod:`topology.telemetry`'s job.  Every failure (connection refused, timeout, HTTP 4xx/5xx, an
answer that is not an instant vector) comes out as :class:`PrometheusError`, with any credentials in its text
redacted (:mod:`clients.redaction`), and every HTTP call has a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import PrometheusConnect
from urllib3.util.retry import Retry

from clients.redaction import redact_text, redact_url
from clients.url_credentials import UrlCredentials, join_url_credentials

Row = dict[str, Any]

#: Threads used by :meth:`PrometheusClient.start_graph_rows`: queries of this client in flight at once.  More than the
#: latency histogram's 6 parts (per scope side: destination, waypoint and source reports), so request and TCP rows
#: are read while Prometheus computes the histogram.
GRAPH_QUERY_WORKERS = 8

#: The :class:`GraphRows` fields holding the traffic (rates, codes, mTLS), and those completing the graphs: response
#: times and the traffic by direction (gRPC messages, HTTP body bytes), which the traffic maps are built without.
TRAFFIC_QUERIES: tuple[str, ...] = ("requests", "tcp_sent", "tcp_received")
LATENCY_QUERIES: tuple[str, ...] = (
    "latency_buckets",
    "latency_sum",
    "grpc_sent",
    "grpc_received",
    "http_request_bytes",
    "http_response_bytes",
)
#: Every row field of :class:`GraphRows`: the keys of the query map :meth:`PrometheusClient.start_graph_rows` takes.
GRAPH_ROW_FIELDS: tuple[str, ...] = TRAFFIC_QUERIES + LATENCY_QUERIES

#: Queries sent first: the largest answers, so they do not end up alone at the end of the fetch.
_FIRST = frozenset({"latency_buckets", "requests"})


class PrometheusError(Exception):
    """Any failure talking to Prometheus; the message says what went wrong (and Prometheus' own error text).

    Credentials in the message (a password in the URL, a token parameter) are redacted here, where the error is
    made, so no stored error, page or log line that quotes it carries them.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(message))


@dataclass(frozen=True)
class PrometheusSettings:
    """Where Prometheus is and how to reach it.

    ``url`` may carry credentials (an operator's ``PROMETHEUS_URL``) or have them apart in ``credentials`` (a
    cluster's, stored encrypted): they are joined only here, where the client connects; the bearer token of
    ``credentials`` wins over ``bearer_token``. A bearer token is sent as ``Authorization: Bearer ...``; ``ca_file``
    (a PEM bundle) replaces the system CAs when set; ``verify_tls=False`` disables certificate checks; ``timeout``
    (seconds) bounds every HTTP call.  ``gzip`` asks Prometheus to compress query answers: off by default, since the
    graph's answers (megabytes) cost Prometheus more CPU to gzip than they take to send over a data-centre link.
    """

    url: str
    bearer_token: str = ""
    credentials: UrlCredentials = field(default_factory=UrlCredentials)
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
            f"PrometheusSettings(url={redact_url(self.url)!r}, bearer_token={token!r}, verify_tls={self.verify_tls}, "
            f"ca_file={self.ca_file!r}, timeout={self.timeout}, gzip={self.gzip})"
        )


@dataclass(frozen=True)
class GraphRows:
    """The instant-vector rows of a graph window's queries, one list per query, and the wall time spent on them.

    ``latency_buckets`` and ``latency_sum`` are the rows of the duration histogram's summed bucket and sum rates;
    ``grpc_sent``/``grpc_received`` the gRPC message rates, ``http_request_bytes``/``http_response_bytes`` the body
    byte rates of request edges.
    Plain rows as Prometheus returns them; :mod:`topology.telemetry` parses them into graph samples.
    """

    requests: list[Row] = field(default_factory=list)
    tcp_sent: list[Row] = field(default_factory=list)
    tcp_received: list[Row] = field(default_factory=list)
    latency_buckets: list[Row] = field(default_factory=list)
    latency_sum: list[Row] = field(default_factory=list)
    grpc_sent: list[Row] = field(default_factory=list)
    grpc_received: list[Row] = field(default_factory=list)
    http_request_bytes: list[Row] = field(default_factory=list)
    http_response_bytes: list[Row] = field(default_factory=list)
    elapsed_seconds: float = 0.0


def build_graph_rows(fetched: Mapping[str, list[Row]], elapsed_seconds: float = 0.0) -> GraphRows:
    """:class:`GraphRows` from the rows of each of :data:`GRAPH_ROW_FIELDS` (the rows by direction may be absent: rows
    captured before they were fetched)."""
    return GraphRows(
        requests=fetched["requests"],
        tcp_sent=fetched["tcp_sent"],
        tcp_received=fetched["tcp_received"],
        latency_buckets=fetched["latency_buckets"],
        latency_sum=fetched["latency_sum"],
        grpc_sent=fetched.get("grpc_sent", []),
        grpc_received=fetched.get("grpc_received", []),
        http_request_bytes=fetched.get("http_request_bytes", []),
        http_response_bytes=fetched.get("http_response_bytes", []),
        elapsed_seconds=elapsed_seconds,
    )


class PendingGraphRows:
    """The graph queries of one window, in flight (:meth:`PrometheusClient.start_graph_rows`).

    A failure of any query cancels those not started yet and is raised (as :class:`PrometheusError`) by the call
    that waits for it.
    """

    def __init__(self, futures: dict[str, list[Future[list[Row]]]], started: float) -> None:
        """Wrap the queries' futures (parts by :class:`GraphRows` field) sent at ``started`` (monotonic clock)."""
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
        self._wait(GRAPH_ROW_FIELDS)
        return build_graph_rows(self._rows, elapsed_seconds=time.monotonic() - self._started)


class PrometheusClient:
    """Instant queries against one Prometheus server (thread-safe for the concurrent graph fetch)."""

    def __init__(self, settings: PrometheusSettings) -> None:
        """Prepare the library's connection for ``settings`` (nothing is sent until a ``fetch_*`` call)."""
        self.settings = settings
        self._url = settings.url.rstrip("/")
        # The library applies ``disable_ssl`` only to a session it creates itself: this one is set up here.
        session = requests.Session()
        if not settings.verify_tls:
            session.verify = False
        elif settings.ca_file:
            session.verify = settings.ca_file
        headers = {"Accept-Encoding": "gzip, deflate" if settings.gzip else "identity"}
        credentials = settings.credentials
        bearer_token = credentials.bearer_token or settings.bearer_token
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        # Userinfo in the URL the library connects with (requests sends it as Basic auth); secret parameters with
        # each query (the library appends paths to its URL, so a query string there would end up in the path).
        connect_url = join_url_credentials(self._url, UrlCredentials(userinfo=credentials.userinfo))
        self._secret_params = dict(credentials.secret_query)
        # One quick retry of refused connections and gateway hiccups, none of read timeouts (a slow query would only
        # run twice): the snapshot task retries on its own schedule, so the library's default (3 retries with
        # exponential back-off) would only make failures slow.
        retry = Retry(total=1, read=False, backoff_factor=0, status_forcelist=(502, 503, 504), raise_on_status=False)
        self._connect = PrometheusConnect(
            url=connect_url,
            headers=headers,
            disable_ssl=not settings.verify_tls,
            retry=retry,
            session=session,
            timeout=settings.timeout,  # type: ignore[arg-type]  # annotated int; passed on to requests as is
        )
        # One pool for the graph queries of every start_graph_rows call (one per window, concurrently): it caps the
        # queries in flight (more would only make each slower on a busy Prometheus, towards its timeout, and
        # overflow the connection pool), and its FIFO queue answers the first window's queries first, so the
        # caller can build that window's graphs while the others are computed.
        self._graph_pool = ThreadPoolExecutor(max_workers=GRAPH_QUERY_WORKERS, thread_name_prefix="prometheus")

    def close(self) -> None:
        """Release the HTTP connection pool and the query threads."""
        self._graph_pool.shutdown(wait=False, cancel_futures=True)
        self._connect.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch_instant(self, query: str, at: float | None = None) -> list[Row]:
        """Run an instant query at ``at`` (unix seconds; now when None) and return its instant-vector rows."""
        params = dict(self._secret_params) if at is None else {**self._secret_params, "time": f"{at:.3f}"}
        try:
            result = self._connect.custom_query(query, params=params)
        except requests.Timeout as exc:
            raise PrometheusError(f"Prometheus at {self._url} did not answer within {self.settings.timeout}s") from exc
        except requests.JSONDecodeError as exc:  # a 200 whose body is not JSON (a login page, a proxy's error)
            raise PrometheusError(f"Prometheus at {self._url} returned an unreadable answer: {exc}") from exc
        except requests.RequestException as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self._url}: {exc}") from exc
        except PrometheusApiClientException as exc:  # any status but 200: the library's message has Prometheus' own
            raise PrometheusError(f"Prometheus at {self._url} refused the query: {exc}") from exc
        except (KeyError, TypeError) as exc:  # a 200 with JSON that has no data.result
            raise PrometheusError(f"Prometheus at {self._url} returned an unreadable answer: {exc!r}") from exc
        if not isinstance(result, list) or not all(isinstance(row, dict) for row in result):
            raise PrometheusError(f"expected an instant vector from {query!r}, got {str(result)[:200]}")
        return result

    def fetch_scrape_health(self, selector: str, window: int, at: float | None = None) -> tuple[list[Row], list[Row]]:
        """The rows of ``up{selector}`` and of ``sum_over_time(up{selector}[window s])`` at ``at``: whether each
        scrape target of the matched jobs answers now, and how many of its scrapes succeeded within the window.

        ``selector`` is label matchers without braces (``job=~"kubernetes-pods|envoy-stats"``); Prometheus refuses
        a malformed one (:class:`PrometheusError` with its message).
        """
        up = f"up{{{selector}}}"
        return self.fetch_instant(up, at), self.fetch_instant(f"sum_over_time({up}[{window}s])", at)

    def fetch_graph_rows(self, queries: Mapping[str, Sequence[str]], at: float | None = None) -> GraphRows:
        """Run a graph window's queries concurrently at the same instant and collect their rows.

        ``queries`` maps each of :data:`GRAPH_ROW_FIELDS` to the queries whose rows, concatenated, are that field's
        rows (the caller may split a query into disjoint parts that Prometheus answers faster).  ``at`` defaults to
        now, fixed once so all queries see the same instant.  The first failure cancels the queries not started
        yet and is raised as :class:`PrometheusError`.  Calls may run concurrently (one per window); at most
        ``GRAPH_QUERY_WORKERS`` queries of this client are in flight at once.
        """
        return self.start_graph_rows(queries, at).complete()

    def start_graph_rows(self, queries: Mapping[str, Sequence[str]], at: float | None = None) -> PendingGraphRows:
        """Send the queries as :meth:`fetch_graph_rows` does, the latency buckets and requests (the largest answers)
        first, and return at once: the caller reads the request and TCP rows (:meth:`PendingGraphRows.traffic`)
        while the latency histogram is still computed."""
        if set(queries) != set(GRAPH_ROW_FIELDS):
            raise ValueError(f"graph queries must be keyed by {GRAPH_ROW_FIELDS}, got {tuple(queries)}")
        instant = time.time() if at is None else at
        started = time.monotonic()
        order = sorted(GRAPH_ROW_FIELDS, key=lambda name: name not in _FIRST)
        pool = self._graph_pool
        futures: dict[str, list[Future[list[Row]]]] = {
            name: [pool.submit(self.fetch_instant, query, instant) for query in queries[name]] for name in order
        }
        return PendingGraphRows(futures, started)


__all__: list[str] = [
    "GRAPH_QUERY_WORKERS",
    "GRAPH_ROW_FIELDS",
    "LATENCY_QUERIES",
    "TRAFFIC_QUERIES",
    "GraphRows",
    "PendingGraphRows",
    "PrometheusClient",
    "PrometheusError",
    "PrometheusSettings",
    "build_graph_rows",
]
