"""The "Done when" walk-throughs of issues 14 and 15, done in Chromium against a running ``make demo``.

Not a test: a script that does what a new user would, times how long the graph (1-minute window) takes to show
each change, and leaves screenshots in ``test-artifacts/walkthrough/`` with a ``results.json`` and a table on
stdout. Run it against a demo that has served traffic for a couple of minutes::

    make demo                                # another terminal; PORT=... moves it
    .venv/bin/python devtools/walkthrough.py --base http://127.0.0.1:8000 [--part A|B|all]

It logs in as ``admin`` with the password in ``var/admin-password`` (``--password`` overrides it) and runs
``kubectl`` with the kubeconfig the demo writes (``var/simulator.kubeconfig``).

- **A** (issue 14): Istio's ``destination-rule-all.yaml`` and ``virtual-service-reviews-50-v3.yaml`` by
  ``kubectl``; the reviews VirtualService edited in the YAML editor to send everything to v1 while a second tab
  edits it too (refused with a three-way diff); the same in the admin form (all to v2, a second tab refused);
  a rollback to the first version from the history page. The graph is polled after each write.
- **B** (issue 15): the six Bookinfo tasks and their cleanup through the wizards, then again with ``kubectl
  apply -f`` of Istio's sample files; after each step the graph API is polled until it shows what the Istio docs
  describe.

Each check reads ``/api/v1/graph?namespaces=bookinfo&graphType=versionedApp&duration=1m`` (the session's
cookie); it also records boxes drawn twice and the ingress → productpage rate next to Prometheus' own figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.browser_wait import wait_for_js  # noqa: E402

SAMPLES = ROOT / "simulator" / "samples" / "bookinfo" / "networking"
OUT = ROOT / "test-artifacts" / "walkthrough"
GRAPH_QUERY = "/api/v1/graph?namespaces=bookinfo&graphType=versionedApp&duration=1m"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
POLL_SECONDS = 5.0

Graph = dict[str, Any]
Check = Callable[["GraphView"], bool]


class Expect(NamedTuple):
    """What a step should bring on the graph: its first sign (the new edge or flag) and the complete picture (the
    old traffic gone from the 1-minute window too)."""

    sign: Check
    done: Check


class GraphView:
    """The few things the walk-through reads from a graph answer: reviews' shares, ratings' flags, boxes."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
        self.edges = [e["data"] for e in graph["elements"]["edges"]]

    def rate(self, edge: dict[str, Any]) -> float:
        return float(edge.get("traffic", {}).get("rates", {}).get("http", 0) or 0)

    def reviews_versions(self) -> dict[str, float]:
        """Requests per second from the reviews service node to each reviews version."""
        found = {"v1": 0.0, "v2": 0.0, "v3": 0.0}
        for edge in self.edges:
            source, target = self.nodes[edge["source"]], self.nodes[edge["target"]]
            from_reviews = source.get("nodeType") == "service" and source.get("service") == "reviews"
            if from_reviews and target.get("app") == "reviews" and target.get("version") in found:
                found[target["version"]] += self.rate(edge)
        return found

    def share(self, version: str) -> float:
        rates = self.reviews_versions()
        total = sum(rates.values())
        return rates[version] / total if total else 0.0

    def ratings_flags(self) -> set[str]:
        """Response flags (and codes) seen on edges into ratings (the service node and the workloads behind it)."""
        flags: set[str] = set()
        for edge in self.edges:
            target = self.nodes[edge["target"]]
            if (target.get("service") or target.get("app")) != "ratings":
                continue
            for code, response in edge.get("traffic", {}).get("responses", {}).items():
                for flag in response.get("flags", {}):
                    flags.update(f"{code}:{one}" for one in flag.split(","))
        return flags

    def has(self, flag: str) -> bool:
        return any(f.endswith(":" + flag) for f in self.ratings_flags())

    def ingress_rate(self) -> float:
        for edge in self.edges:
            source, target = self.nodes[edge["source"]], self.nodes[edge["target"]]
            if source.get("app") == "istio-ingressgateway" and target.get("service") == "productpage":
                return self.rate(edge)
        return 0.0

    def duplicate_boxes(self) -> list[str]:
        """Boxes drawn more than once (the same namespace or app twice), and nodes outside their namespace's box."""
        seen: dict[tuple[str, str, str], int] = {}
        for node in self.nodes.values():
            if node.get("isBox"):
                key = (node["isBox"], node.get("namespace", ""), node.get("app", "") or "")
                seen[key] = seen.get(key, 0) + 1
        problems = [f"{kind} box {ns}/{app} drawn {n} times" for (kind, ns, app), n in seen.items() if n > 1]
        for node in self.nodes.values():
            parent = self.nodes.get(node.get("parent") or "")
            while parent is not None and parent.get("isBox") != "namespace":
                parent = self.nodes.get(parent.get("parent") or "")
            if parent is not None and parent.get("namespace") != node.get("namespace"):
                problems.append(
                    f"{node.get('nodeType')} {node.get('namespace')}/{node.get('app')} in the "
                    f"{parent.get('namespace')} box"
                )
        return problems

    def summary(self) -> str:
        rates = self.reviews_versions()
        shares = "/".join(f"{rates[v]:.2f}" for v in ("v1", "v2", "v3"))
        return f"reviews v1/v2/v3 {shares} rps; ratings {sorted(self.ratings_flags())}"


def only(version: str) -> Expect:
    return Expect(lambda g: g.share(version) >= 0.75, lambda g: g.share(version) >= 0.99)


JASON_TO_V2 = Expect(
    lambda g: g.share("v2") >= 0.02 and g.share("v3") < 0.2,
    lambda g: g.share("v3") < 0.01 and 0.04 <= g.share("v2") <= 0.2,
)
FIFTY_V1_V3 = Expect(
    lambda g: g.share("v2") < 0.2 and g.share("v3") >= 0.2,
    lambda g: g.share("v2") < 0.01 and 0.4 <= g.share("v1") <= 0.6,
)
DELAY_FOR_JASON = Expect(lambda g: g.has("DI"), lambda g: g.share("v3") >= 0.99 and g.has("DI") and not g.has("FI"))
ABORT_FOR_JASON = Expect(lambda g: g.has("FI"), lambda g: g.share("v3") >= 0.99 and g.has("FI") and not g.has("DI"))
SPREAD = Expect(
    lambda g: all(g.share(v) >= 0.15 for v in ("v1", "v2", "v3")),
    lambda g: all(0.25 <= g.share(v) <= 0.42 for v in ("v1", "v2", "v3")) and not (g.has("DI") or g.has("FI")),
)


@dataclass
class Step:
    part: str
    name: str
    seconds: float | None = None
    first_sign: float | None = None
    screenshot: str = ""
    graph: str = ""
    problems: list[str] = field(default_factory=list)


def editor_text(page: Any) -> str:
    """The YAML the editor opened with (the page's config; the rendered lines' text doubles blank lines)."""
    text: str = page.evaluate("JSON.parse(document.getElementById('editor-config').textContent).yaml")
    return text


class Walk:
    """One logged-in browser context (and a second tab on demand) against the demo."""

    def __init__(self, playwright: Any, base: str, password: str, kubeconfig: Path, timeout: float) -> None:
        self.base, self.kubeconfig, self.timeout = base.rstrip("/"), kubeconfig, timeout
        self.browser = playwright.chromium.launch(
            executable_path=os.environ.get("MESH_UI_CHROMIUM", "/usr/bin/chromium"),
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        self.context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(self.base + "/login/")
        self.page.fill("input[name=username]", "admin")
        self.page.fill("input[name=password]", password)
        self.page.locator("form button[type=submit], form input[type=submit]").first.click()
        self.page.wait_for_load_state("load")
        if "/login/" in self.page.url:
            raise SystemExit("login refused: check --password / var/admin-password")
        self.steps: list[Step] = []

    # --- helpers -----------------------------------------------------------------------------------------------
    def shot(self, name: str, page: Any = None) -> str:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=True)
        return str(path.relative_to(ROOT))

    def graph(self) -> GraphView:
        answer = self.page.request.get(self.base + GRAPH_QUERY)
        if answer.status != 200:
            raise RuntimeError(f"graph API answered {answer.status}: {answer.text()[:300]}")
        return GraphView(answer.json())

    def kubectl(self, *args: str) -> str:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        done = subprocess.run(["kubectl", *args], env=env, cwd=ROOT, capture_output=True, text=True)
        print(f"  $ kubectl {' '.join(args)}\n    {(done.stdout + done.stderr).strip()}", flush=True)
        if done.returncode:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def wait_graph(self, part: str, name: str, expect: Expect, started: float) -> Step:
        """Poll the graph API until it shows ``expect`` (the seconds to its first sign and to all of it);
        screenshot the graph page; record the step."""
        step = Step(part, name)
        view = self.graph()
        while True:
            if step.first_sign is None and expect.sign(view):
                step.first_sign = round(time.monotonic() - started, 1)
            if expect.done(view):
                break
            if time.monotonic() - started > self.timeout:
                step.problems.append(f"graph never showed it within {self.timeout:.0f} s: {view.summary()}")
                break
            time.sleep(POLL_SECONDS)
            view = self.graph()
        if expect.done(view):
            step.seconds = round(time.monotonic() - started, 1)
        step.graph = view.summary()
        step.problems += view.duplicate_boxes()
        self.page.goto(self.base + "/graph/?namespaces=bookinfo&graphType=versionedApp&duration=1m")
        try:
            wait_for_js(self.page, "window.graphReady === true", timeout=30)
            self.page.wait_for_timeout(1500)  # the layout settles
        except TimeoutError as exc:
            step.problems.append(str(exc))
        step.screenshot = self.shot(f"{part}_{len(self.steps) + 1:02d}_{name.replace(' ', '_').replace('/', '-')}")
        self.steps.append(step)
        print(
            f"[{part}] {name}: {step.first_sign} s / {step.seconds} s — {step.graph} {step.problems or ''}", flush=True
        )
        return step

    def note(self, part: str, name: str, page: Any, problems: list[str] | None = None) -> None:
        step = Step(
            part, name, screenshot=self.shot(f"{part}_{len(self.steps) + 1:02d}_{name.replace(' ', '_')}", page)
        )
        step.problems = problems or []
        self.steps.append(step)
        print(f"[{part}] {name}: {step.screenshot} {step.problems or ''}", flush=True)

    def compare_with_prometheus(self, prometheus: str) -> None:
        """The graph's ingress → productpage rate next to Prometheus' own (the simulator sends 10 rps)."""
        import urllib.parse
        import urllib.request

        query = 'sum(rate(istio_requests_total{reporter="destination",destination_service_name="productpage"}[1m]))'
        url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": query})
        with urllib.request.urlopen(url, timeout=5) as answer:
            result = json.load(answer)["data"]["result"]
        from_prometheus = float(result[0]["value"][1]) if result else 0.0
        from_graph = self.graph().ingress_rate()
        step = Step(
            "check", "ingress→productpage rps", graph=f"graph {from_graph:.2f}, Prometheus {from_prometheus:.2f}"
        )
        if from_prometheus and abs(from_graph - from_prometheus) > 0.2 * from_prometheus:
            step.problems.append("the graph's rate differs from Prometheus' by more than 20 %")
        self.steps.append(step)
        print(f"[check] {step.graph} {step.problems or ''}", flush=True)

    # --- the YAML editor, the admin, history (issue 14) -------------------------------------------------------
    def open_editor(self, page: Any) -> None:
        page.goto(self.base + "/namespaces/bookinfo/istio/VirtualService/reviews/?cluster=bookinfo")
        wait_for_js(page, "document.body.dataset.editorReady === 'true'")
        page.get_by_role("button", name="Edit", exact=True).click()
        page.locator(".cm-content").wait_for()

    def set_text(self, page: Any, text: str) -> None:
        """Replace the editor's whole text, as a paste does (no auto-indent)."""
        page.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(text)

    def save(self, page: Any) -> str:
        page.get_by_role("button", name="Review changes").click()
        page.locator("[data-editor-save]").click()
        wait_for_js(
            page,
            """() => document.querySelector('[data-yaml-editor]').dataset.saved
              || !document.querySelector('[data-editor-outcome]').hidden
              || !document.querySelector('[data-editor-conflict]').hidden""",
        )
        if page.evaluate("document.querySelector('[data-yaml-editor]').dataset.saved"):
            return "saved"
        if page.locator("[data-editor-conflict]").is_visible():
            return "conflict"
        return "refused: " + page.locator("[data-editor-outcome]").inner_text()[:300]

    def part_a(self) -> None:
        self.kubectl("apply", "-f", str(SAMPLES / "destination-rule-all.yaml"))
        started = time.monotonic()
        self.kubectl("apply", "-f", str(SAMPLES / "virtual-service-reviews-50-v3.yaml"))
        self.wait_graph("A", "kubectl 50-50 v1-v3 (first version)", FIFTY_V1_V3, started)

        second = self.context.new_page()
        self.open_editor(self.page)
        self.open_editor(second)
        routes_50_50 = "weight: 50"
        text = editor_text(self.page)
        # All traffic to v1: the v1 destination takes 100, the v3 one goes.
        lines = text.split("\n")
        v3 = next(i for i, line in enumerate(lines) if "subset: v3" in line)
        start = v3 - 2 if lines[v3 - 2].strip().startswith("- destination") else v3 - 1
        kept = lines[:start] + [line for line in lines[v3 + 2 :]]
        new = "\n".join(kept).replace(routes_50_50, "weight: 100", 1)
        self.set_text(self.page, new)
        started = time.monotonic()
        outcome = self.save(self.page)
        self.note("A", "YAML editor saved all to v1", self.page, [] if outcome == "saved" else [outcome])
        self.wait_graph("A", "YAML editor all to v1", only("v1"), started)

        # The second tab still holds the 50/50 version: 60/40 there.
        self.set_text(
            second, editor_text(second).replace("weight: 50", "weight: 60", 1).replace("weight: 50", "weight: 40", 1)
        )
        outcome = self.save(second)
        problems = [] if outcome == "conflict" else [f"second tab not refused with a diff: {outcome}"]
        second.locator("[data-editor-conflict]").scroll_into_view_if_needed()
        self.note("A", "second tab refused with diff", second, problems)

        # The admin: all to v2 in one tab; a second admin tab is refused with the diff.
        self.page.goto(self.base + "/admin/istio_config/virtualserviceobject/?q=reviews")
        self.page.locator("#result_list a", has_text="reviews").first.click()
        self.page.wait_for_load_state("load")
        admin_url = self.page.url
        second.goto(admin_url)
        self.page.fill("#id_route-0-dest0_subset", "v2")
        started = time.monotonic()
        self.page.locator("input[name=_save]").click()
        self.page.wait_for_load_state("load")
        saved = (
            self.page.locator(".messagelist").count()
            and "successfully" in self.page.locator(".messagelist").inner_text()
        )
        self.note("A", "admin saved all to v2", self.page, [] if saved else ["admin save not confirmed"])
        self.wait_graph("A", "admin form all to v2", only("v2"), started)
        second.fill("#id_route-0-timeout", "5s")
        second.locator("input[name=_continue]").click()
        second.wait_for_load_state("load")
        refused = second.locator("[data-conflict]").count() > 0 and second.locator("[data-conflict]").is_visible()
        self.note("A", "admin second tab refused with diff", second, [] if refused else ["no conflict shown"])

        # History: roll back to the first version (what kubectl applied).
        self.page.goto(self.base + "/namespaces/bookinfo/istio/VirtualService/reviews/history/?cluster=bookinfo")
        self.note("A", "history page", self.page)
        links = self.page.locator("[data-rollback-link]")
        if links.count() == 0:
            self.note("A", "no rollback link", self.page, ["the history page offers no rollback"])
            return
        links.last.click()
        self.page.wait_for_load_state("load")
        self.note("A", "rollback page", self.page)
        started = time.monotonic()
        self.page.locator("[data-rollback-form] button[type=submit]").click()
        self.page.wait_for_load_state("load")
        self.wait_graph("A", "rolled back to 50-50 v1-v3", FIFTY_V1_V3, started)
        second.close()
        started = time.monotonic()
        self.kubectl("delete", "-f", str(SAMPLES / "virtual-service-reviews-50-v3.yaml"))
        self.kubectl("delete", "-f", str(SAMPLES / "destination-rule-all.yaml"))
        self.wait_graph("A", "cleaned up", SPREAD, started)

    # --- the wizards and kubectl (issue 15) -------------------------------------------------------------------
    def wizard(self, service: str, wizard: str, fill: dict[str, str], sliders: dict[str, str] | None = None) -> None:
        page = self.page
        page.goto(f"{self.base}/namespaces/bookinfo/services/{service}/?cluster=bookinfo#wizards")
        wait_for_js(page, "document.getElementById('wizards')?.open === true")
        page.locator(f'#wizards [data-wizard-link="{wizard}"]').click()
        wait_for_js(page, "document.body?.dataset.wizardReady === 'true'")
        for subset, value in (sliders or {}).items():
            page.locator(f'input[data-weight-slider="{subset}"]').fill(value)
        for selector, value in fill.items():
            if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                page.locator(selector).select_option(value)
            else:
                page.locator(selector).fill(value)
        page.locator("[data-wizard-preview]").click()
        wait_for_js(
            page, "!!document.querySelector('[data-wizard-plan]') && document.body.dataset.wizardReady === 'true'"
        )
        if page.locator("[data-confirm-replace]").count():
            page.locator("[data-confirm-replace]").check()
        page.locator("[data-wizard-apply]").click()
        page.wait_for_load_state("load")
        message = page.locator("[data-message]")
        if not (message.count() and "applied" in message.first.inner_text()):
            self.note("B", f"wizard {wizard} on {service} not applied", page, ["wizard apply failed"])

    def remove_routing(self, service: str) -> None:
        page = self.page
        page.goto(f"{self.base}/namespaces/bookinfo/services/{service}/routing/remove/?cluster=bookinfo")
        if page.locator("[data-remove-routing]").count():
            page.locator("[data-remove-routing]").click()
            page.wait_for_load_state("load")

    def part_b_wizards(self) -> None:
        jason = {
            "#id_match_field": "header",
            "#id_match_name": "end-user",
            "#id_match_kind": "exact",
            "#id_match_value": "jason",
            "#id_route_subset": "v1",
        }
        started = time.monotonic()
        for service in ("productpage", "reviews", "ratings", "details"):
            self.wizard(service, "request-routing", {"#id_default_subset": "v1"})
        self.wait_graph("B-wizard", "all to v1", only("v1"), started)
        started = time.monotonic()
        self.wizard(
            "reviews",
            "request-routing",
            {
                "#id_rule0_field": "header",
                "#id_rule0_name": "end-user",
                "#id_rule0_kind": "exact",
                "#id_rule0_value": "jason",
                "#id_rule0_subset": "v2",
                "#id_default_subset": "v1",
            },
        )
        self.wait_graph("B-wizard", "jason to v2", JASON_TO_V2, started)
        started = time.monotonic()
        self.wizard("reviews", "traffic-shifting", {}, {"v1": "50", "v2": "0", "v3": "50"})
        self.wait_graph("B-wizard", "50-50 v1-v3", FIFTY_V1_V3, started)
        started = time.monotonic()
        self.wizard("reviews", "traffic-shifting", {}, {"v1": "0", "v2": "0", "v3": "100"})
        self.wait_graph("B-wizard", "all to v3", only("v3"), started)
        started = time.monotonic()
        self.wizard("ratings", "fault-injection", {**jason, "#id_delay_percent": "100", "#id_delay": "7s"})
        self.wait_graph("B-wizard", "7s delay for jason", DELAY_FOR_JASON, started)
        started = time.monotonic()
        self.wizard(
            "ratings",
            "fault-injection",
            {**jason, "#id_delay_percent": "", "#id_delay": "", "#id_abort_percent": "100", "#id_abort_status": "500"},
        )
        self.wait_graph("B-wizard", "abort for jason", ABORT_FOR_JASON, started)
        started = time.monotonic()
        for service in ("productpage", "reviews", "ratings", "details"):
            self.remove_routing(service)
        self.wait_graph("B-wizard", "removed", SPREAD, started)

    def part_b_kubectl(self) -> None:
        steps: list[tuple[str, list[str], Expect]] = [
            ("all to v1", ["destination-rule-all.yaml", "virtual-service-all-v1.yaml"], only("v1")),
            ("jason to v2", ["virtual-service-reviews-test-v2.yaml"], JASON_TO_V2),
            ("50-50 v1-v3", ["virtual-service-reviews-50-v3.yaml"], FIFTY_V1_V3),
            ("all to v3", ["virtual-service-reviews-v3.yaml"], only("v3")),
            ("7s delay for jason", ["virtual-service-ratings-test-delay.yaml"], DELAY_FOR_JASON),
            ("abort for jason", ["virtual-service-ratings-test-abort.yaml"], ABORT_FOR_JASON),
        ]
        for name, files, check in steps:
            started = time.monotonic()
            for file in files:
                self.kubectl("apply", "-f", str(SAMPLES / file))
            self.wait_graph("B-kubectl", name, check, started)
        started = time.monotonic()
        self.kubectl("delete", "-f", str(SAMPLES / "virtual-service-all-v1.yaml"))
        self.kubectl("delete", "-f", str(SAMPLES / "destination-rule-all.yaml"))
        self.wait_graph("B-kubectl", "removed", SPREAD, started)


def table(steps: list[Step]) -> str:
    lines = [
        "| part | step | s to first sign | s until all of it | screenshot | graph / problems |",
        "|---|---|---|---|---|---|",
    ]
    for s in steps:
        seconds = "" if s.seconds is None else f"{s.seconds:g}"
        first = "" if s.first_sign is None else f"{s.first_sign:g}"
        lines.append(
            f"| {s.part} | {s.name} | {first} | {seconds} | {s.screenshot} | {s.graph} {'; '.join(s.problems)} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--var", default=os.environ.get("MESH_UI_VAR_DIR", str(ROOT / "var")))
    parser.add_argument("--password", default="")
    parser.add_argument(
        "--prometheus", default=f"http://127.0.0.1:{os.environ.get('MESH_UI_PROMETHEUS_PORT', '19090')}"
    )
    parser.add_argument("--part", choices=["A", "B", "B-wizard", "B-kubectl", "all"], default="all")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the graph per step")
    args = parser.parse_args()
    var = Path(args.var)
    password = args.password or (var / "admin-password").read_text().strip()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        walk = Walk(playwright, args.base, password, var / "simulator.kubeconfig", args.timeout)
        try:
            walk.compare_with_prometheus(args.prometheus)
            if args.part in ("A", "all"):
                walk.part_a()
            if args.part in ("B", "B-wizard", "all"):
                walk.part_b_wizards()
            if args.part in ("B", "B-kubectl", "all"):
                walk.part_b_kubectl()
            walk.compare_with_prometheus(args.prometheus)
        finally:
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / "results.json").write_text(json.dumps([asdict(s) for s in walk.steps], indent=1))
            print(table(walk.steps))
            walk.browser.close()
    return 0 if not any(s.problems for s in walk.steps) else 1


if __name__ == "__main__":
    sys.exit(main())
