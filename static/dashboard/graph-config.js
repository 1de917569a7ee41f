// Configuration findings on the graph: after each draw ("graph:ready"), services and workloads that an Istio
// object with findings routes to or selects get a "config" line in their label and a class the stylesheet colours
// (graph-icons.js draws an error or warning mark on the node's corner, as Kiali marks nodes). The counts come from
// /api/v1/validations/targets, read at most every few seconds; the graph request itself is never slowed.

const root = document.getElementById("graph-page");
const REFRESH_MS = 5000;
let cached = { key: "", at: 0, body: null };

function query() {
  const page = new URLSearchParams(location.search);
  const params = new URLSearchParams();
  const cluster = page.get("cluster") || root.dataset.cluster || "";
  if (cluster) params.set("cluster", cluster);
  if (page.get("namespaces")) params.set("namespaces", page.get("namespaces"));
  return params.toString();
}

async function fetchTargets() {
  const key = query();
  if (cached.body && cached.key === key && performance.now() - cached.at < REFRESH_MS) return cached.body;
  const response = await fetch(`${root.dataset.apiConfigTargets}?${key}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return null;
  cached = { key, at: performance.now(), body: await response.json() };
  return cached.body;
}

function countsFor(data, body) {
  if (data.nodeType === "service" && data.service) return body.services[`${data.namespace}/${data.service}`];
  if ((data.nodeType === "workload" || data.nodeType === "app") && data.workload) {
    return body.workloads[`${data.namespace}/${data.workload}`];
  }
  return undefined;
}

function describe(counts) {
  const parts = [];
  if (counts.error) parts.push(`${counts.error} error${counts.error > 1 ? "s" : ""}`);
  if (counts.warning) parts.push(`${counts.warning} warning${counts.warning > 1 ? "s" : ""}`);
  return parts.join(", ");
}

/** Mark the nodes of ``cy`` with the findings of ``body``; returns how many were marked. */
export function decorateNodes(cy, body) {
  let marked = 0;
  cy.batch(() => {
    cy.nodes().forEach((node) => {
      const data = node.data();
      const base = data._labelBase ?? data.label ?? "";
      const counts = countsFor(data, body);
      const status = counts && (counts.error ? "error" : counts.warning ? "warning" : "");
      node.removeClass("config-error config-warning");
      if (!status) {
        if (data._labelBase !== undefined) node.data({ label: base, _labelBase: undefined, _config: undefined });
        return;
      }
      node.addClass(`config-${status}`);
      node.data({ _labelBase: base, label: `${base}\nconfig`, _config: describe(counts) });
      marked += 1;
    });
  });
  return marked;
}

document.addEventListener("graph:ready", async () => {
  const cy = window.cy;
  if (!cy || !root.dataset.apiConfigTargets) return;
  let body = null;
  try {
    body = await fetchTargets();
  } catch (error) {
    return; // the graph stays as drawn; the next draw asks again
  }
  if (!body || window.cy !== cy) return;
  document.body.dataset.configBadges = String(decorateNodes(cy, body));
});
