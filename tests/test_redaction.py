"""Credentials in text: passwords in URLs, secret query parameters and Authorization headers are masked."""

from __future__ import annotations

import io
import logging

import pytest

from clients.kubernetes import KubeError
from clients.metrics_scrape import ScrapeError, fetch_exposition
from clients.prometheus import PrometheusError, PrometheusSettings
from clients.redaction import RedactingFilter, redact_text, redact_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot reach http://user:s3cret@prom:9090: refused", "cannot reach http://user:***@prom:9090: refused"),
        ("https://TOKEN123@prom.example/api", "https://***@prom.example/api"),
        # A raw "@" in the password: the userinfo runs to the last "@" before the host, as urllib splits it.
        ("http://user:p@ss@prom:9090/x", "http://user:***@prom:9090/x"),
        ("GET /metrics?x=1&token=abc&access_token=def#top", "GET /metrics?x=1&token=***&access_token=***#top"),
        (
            "postgres://app:pw@db/mesh?PASSWORD=pw2&sslmode=require",
            "postgres://app:***@db/mesh?PASSWORD=***&sslmode=require",
        ),
        ("{'Authorization': 'Bearer abc.def'}", "{'Authorization': 'Bearer ***'}"),
        ("Proxy-Authorization: Basic dXNlcjpzM2NyZXQ=\r\nHost: x", "Proxy-Authorization: Basic ***\r\nHost: x"),
    ],
)
def test_it_masks_each_kind_of_credential(text, expected):
    assert redact_text(text) == expected
    assert redact_text(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "mail alice@example.com about http://prom:9090/graph?query=up",
        "the Authorization header is missing",
        "tokens=3 spent",
        "",
    ],
)
def test_text_without_credentials_comes_back_unchanged(text):
    assert redact_text(text) == text


def test_the_clients_errors_never_carry_the_password():
    message = "cannot reach Prometheus at http://user:s3cret@prom:9090/?token=t0k"
    for error in (PrometheusError(message), ScrapeError(message), KubeError(0, message)):
        assert "s3cret" not in str(error) and "t0k" not in str(error), type(error)
        assert "http://user:***@prom:9090" in str(error)
    assert "s3cret" not in repr(PrometheusSettings(url="http://user:s3cret@prom:9090"))
    assert redact_url("http://user:s3cret@prom:9090") == "http://user:***@prom:9090"


def test_a_failed_scrape_names_the_endpoint_without_its_password():
    from devtools.prometheus_server import find_free_port

    closed = f"http://scraper:s3cret@127.0.0.1:{find_free_port()}/metrics?token=t0k"
    with pytest.raises(ScrapeError) as raised:
        fetch_exposition(closed, timeout=2)
    assert "s3cret" not in str(raised.value) and "t0k" not in str(raised.value)
    assert "scraper:***@127.0.0.1" in str(raised.value)


def _log_through_filter(logger_name: str, *args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        if exc is None:
            logger.warning(*args)
        else:
            try:
                raise exc
            except BaseException:
                logger.exception(*args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_the_logging_filter_masks_messages_arguments_and_tracebacks():
    line = _log_through_filter("tests.redaction", "fetching %s failed", "http://u:s3cret@prom:9090")
    assert "s3cret" not in line and "http://u:***@prom:9090" in line
    line = _log_through_filter(
        "tests.redaction", "unexpected", exc=RuntimeError("Authorization: Bearer s3cret-token from http://u:pw2@h")
    )
    assert "RuntimeError" in line and "Traceback" in line
    assert "s3cret-token" not in line and "pw2" not in line and "Authorization: Bearer ***" in line


def test_the_configured_log_handlers_redact(settings):
    # LOGGING puts the filter on the console handler every logger propagates to (Django configured it at setup).
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactingFilter) for f in h.filters)]
    assert handlers, "no root handler redacts credentials"
    stream = io.StringIO()
    original = handlers[0].setStream(stream)
    try:
        logging.getLogger("topology.snapshots").warning("snapshot failed: %s", "http://u:s3cret@prom:9090")
    finally:
        handlers[0].setStream(original)
    assert "u:***@prom:9090" in stream.getvalue() and "s3cret" not in stream.getvalue()
