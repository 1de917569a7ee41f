"""Browser tests: Playwright driving Debian's Chromium against Django's live server, on stored Bookinfo data.

Every test gets a fresh page, logged in as the test user ``alice`` (``anonymous_page`` is not); console errors
fail the test, and a screenshot of the final page is saved under
``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

# Django's live server runs in a thread while Playwright's sync API runs an event loop in this one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("MESH_UI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(os.access(CHROMIUM, os.X_OK), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


#: Chromium logs a blocked inline style or eval as a console error (which fails the test) without saying where it
#: came from; this adds the directive, the source and a sample of what was blocked.
CSP_VIOLATION_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`;
  const what = `${e.blockedURI || "inline"} sample=${JSON.stringify(e.sample)}`;
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${what} at ${where}`);
});
"""


@contextlib.contextmanager
def open_page(
    browser: Any, request: pytest.FixtureRequest, cookies: list[dict[str, Any]], locale: str | None = None
) -> Iterator[Any]:
    """A 1280x800 page that records console errors and leaves a screenshot behind (``locale``: its Accept-Language)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, **({"locale": locale} if locale else {}))
    if cookies:
        context.add_cookies(cookies)
    context.add_init_script(CSP_VIOLATION_REPORTER)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        # A failed screenshot must not hide the test's own result.
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()
    assert not errors, f"console errors: {errors}"


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, live_server: Any, alice: Any) -> Iterator[Any]:
    """A page logged in as ``alice``.

    The test database is emptied after every browser test (the live server needs a transactional one), so the
    login cannot be shared across tests: each gets a session made server-side and handed to the browser as its
    cookie, which costs a row, not a trip through the login form (tests/browser/test_login.py drives the form).
    """
    with open_page(browser, request, [session_cookie(alice, live_server)]) as logged_in:
        yield logged_in


@pytest.fixture
def admin_page(browser: Any, request: pytest.FixtureRequest, live_server: Any, admin_user: Any) -> Iterator[Any]:
    """A page logged in as pytest-django's superuser ``admin``."""
    with open_page(browser, request, [session_cookie(admin_user, live_server)]) as logged_in:
        yield logged_in


def session_cookie(user: Any, live_server: Any) -> dict[str, Any]:
    """A session of ``user`` made server-side, as the browser cookie that carries it."""
    from django.conf import settings
    from django.test import Client

    django_client = Client()
    django_client.force_login(user)
    session = django_client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}


@pytest.fixture
def anonymous_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page with no session."""
    with open_page(browser, request, []) as anonymous:
        yield anonymous


def take_live_snapshot(simulator: Any, cluster: Any, seconds: float = 30.0) -> Any:
    """Advance the simulator's traffic by ``seconds`` and store a snapshot read from its counters.

    The direct source rates counters between two scrapes; the previous scrape is moved back in time by
    ``seconds`` so simulated time and wall time agree without sleeping, and the new scrape is stamped exactly
    ``seconds`` after it (``at``), however long the steps in between take on a loaded machine.
    """
    from topology.models import CounterScrape
    from topology.snapshots import take_snapshot
    from topology.sources import DirectScrapeSource

    url = f"{simulator.url}/metrics"
    if not CounterScrape.objects.filter(cluster=cluster).exists():
        take_snapshot(cluster.pk, source=DirectScrapeSource(cluster, url), force=True)
    simulator.traffic.step(seconds)
    scrapes = list(CounterScrape.objects.filter(cluster=cluster))
    for scrape in scrapes:
        CounterScrape.objects.filter(pk=scrape.pk).update(taken_at=scrape.taken_at - timedelta(seconds=seconds))
    at = max(scrape.taken_at for scrape in scrapes).timestamp()
    outcome = take_snapshot(cluster.pk, source=DirectScrapeSource(cluster, url), force=True, at=at)
    assert outcome.snapshot_id, outcome
    return outcome


def store_edited_snapshot(cluster: Any, edit_node: Callable[[dict[str, Any]], None]) -> Any:
    """Store a copy of ``cluster``'s latest snapshot, one second newer, with ``edit_node`` applied to the data of
    every node of every graph: what a snapshot of a cluster holding those strings would store."""
    from topology.models import GraphSnapshot, SnapshotGraph

    latest = GraphSnapshot.objects.filter(cluster=cluster).order_by("-taken_at").first()
    assert latest is not None
    copy = GraphSnapshot.objects.create(
        cluster=latest.cluster,
        taken_at=latest.taken_at + timedelta(seconds=1),
        source=latest.source,
        namespaces=latest.namespaces,
        windows=latest.windows,
        health_window=latest.health_window,
        health=latest.health,
    )
    for row in latest.graphs.all():
        graph = row.load_graph()
        for node in graph["elements"]["nodes"]:
            edit_node(node["data"])
        SnapshotGraph.create_from_graph(
            graph,
            snapshot=copy,
            graph_type=row.graph_type,
            window=row.window,
            inject_service_nodes=row.inject_service_nodes,
        )
    return copy


@pytest.fixture
def bookinfo(transactional_db: None, tmp_path: Path) -> Iterator[Any]:
    """The Bookinfo simulator (traffic stepped by hand), its inventory synced and one snapshot stored."""
    from inventory.models import Cluster
    from inventory.sync import sync_cluster
    from simulator import Simulator

    sim = Simulator(traffic=True, traffic_autostart=False, rps=20.0).start(host="127.0.0.1", port=0)
    try:
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
        cluster = Cluster.objects.create(name="bookinfo", kubeconfig_path=str(kubeconfig))
        sync_cluster(cluster.pk)
        take_live_snapshot(sim, cluster)
        sim.cluster = cluster  # type: ignore[attr-defined]
        yield sim
    finally:
        sim.stop()
