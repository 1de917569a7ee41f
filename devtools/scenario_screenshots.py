"""A screenshot of the graph page per simulator scenario: ``python -m devtools.scenario_screenshots [NAME ...]``.

For each scenario the demo (``scripts/demo.py``) runs with ``MESH_UI_SCENARIO=NAME`` in a var folder of its own, on
``PORT`` / ``MESH_UI_SIMULATOR_PORT`` / ``MESH_UI_PROMETHEUS_PORT`` (defaults 8700, 16743, 19790); Chromium logs in
as the demo's ``admin``, waits until a stored graph shows what the scenario adds, opens the graph page and saves
``test-artifacts/scenarios/<name>.png``; then the demo is stopped (SIGTERM to the demo process this script started).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devtools.browser_wait import wait_for_js
from simulator.scenarios import SCENARIO_NAMES

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "scenarios"
CHROMIUM = "/usr/bin/chromium"
WAIT_SECONDS = 300


def _has(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    def check(graph: dict[str, Any]) -> bool:
        return any(predicate(item["data"]) for kind in ("nodes", "edges") for item in graph["elements"][kind])

    return check


#: What tells that the stored graph shows the scenario (the graph page is then worth a screenshot).
MARKERS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "no-sidecar": _has(lambda d: d.get("service") == "legacy-reports"),
    "egress": _has(lambda d: d.get("service") == "api.weather.example.com"),
    "unknown-host": _has(lambda d: d.get("service") == "PassthroughCluster"),
    "aborted": _has(lambda d: isinstance(d.get("traffic"), dict) and "httpNoResponse" in d["traffic"].get("rates", {})),
    "ambient": _has(lambda d: bool(d.get("isWaypoint"))),
    "east-west": _has(lambda d: d.get("cluster") == "west"),
}


def _wait_http(url: str, seconds: float) -> bool:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(1)
    return False


def screenshot(name: str, browser: Any, work: Path) -> Path:
    """Run the demo with scenario ``name`` and save the graph page; returns the PNG's path."""
    port = os.environ.get("PORT", "8700")
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "PORT": port,
        "MESH_UI_SIMULATOR_PORT": os.environ.get("MESH_UI_SIMULATOR_PORT", "16743"),
        "MESH_UI_PROMETHEUS_PORT": os.environ.get("MESH_UI_PROMETHEUS_PORT", "19790"),
        "MESH_UI_VAR_DIR": str(work / name),
        "MESH_UI_SCENARIO": name,
        "MESH_UI_ADMIN_PASSWORD": password,
    }
    log = (work / f"{name}.log").open("wb")
    demo = subprocess.Popen([sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        if not _wait_http(f"{base}/login/", 180):
            raise RuntimeError(f"the demo did not start (see {log.name})")
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", password)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            response = page.request.get(f"{base}/api/v1/graph?graphType=versionedApp&duration=1m")
            if response.ok and MARKERS[name](json.loads(response.text())):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no stored graph showed scenario {name} within {WAIT_SECONDS}s")
            time.sleep(5)
        page.goto(f"{base}/graph/?graphType=versionedApp&duration=1m&edgeLabels=rps")
        wait_for_js(page, "window.graphReady === true")
        page.wait_for_timeout(3000)  # the layout settles
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        context.close()
        return path
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(60)
        except subprocess.TimeoutExpired:
            demo.kill()
        log.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Screenshot every scenario named (default: all); print the PNG paths."""
    parser = argparse.ArgumentParser(prog="python -m devtools.scenario_screenshots", description=__doc__)
    names_help = f"scenarios: {', '.join(SCENARIO_NAMES)} (default: all)"
    parser.add_argument("names", nargs="*", metavar="NAME", help=names_help)
    names = parser.parse_args(argv).names or list(SCENARIO_NAMES)
    if unknown := sorted(set(names) - set(SCENARIO_NAMES)):
        parser.error(f"unknown scenario: {', '.join(unknown)}")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="scenario-demo-") as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            for name in names:
                print(screenshot(name, browser, Path(tmp)), flush=True)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
