// The side panel for a tapped node or edge. Everything from the cluster goes in through textContent.

import { edgeRates, formatBytes, nodeRates } from "./graph-data.js";
import { gettext, interpolate } from "./i18n.js";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function table(rows, headers) {
  const t = el("table", null, "grid panel-table");
  if (headers) {
    const tr = t.createTHead().insertRow();
    for (const h of headers) tr.appendChild(el("th", h));
  }
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((cell) => tr.appendChild(el("td", cell)));
  }
  return t;
}

function healthBlock(d) {
  const status = d.healthStatus || "No health information";
  const box = el("div", null, "panel-health");
  const badge = el("span", status, `badge health-${status.toLowerCase().replace(/\s+/g, "-")}`);
  badge.dataset.health = status;
  box.appendChild(badge);
  if (d.healthReason) box.appendChild(el("div", d.healthReason, "panel-reason"));
  for (const warning of d.healthWarnings || []) box.appendChild(el("div", warning, "footnote"));
  return box;
}

// A name is percent-encoded twice, as Django's reverse() writes it for the pages' objname converter: once into one
// path segment (a "/" or "%" in an untrusted name stays inside it), once more for the URL. Encoded once, the
// server's decoding of the path would split such a name, or decode it twice.
const enc = (part) => encodeURIComponent(encodeURIComponent(part));

// URL patterns of the detail pages, from Django's reverse() (the page passes them through json_script), with
// __namespace__ and __name__ standing for the parts.
let detailUrls = {};

// Renders a node's Istio-config badges (graph-badges.js's badgeList, bound to the icons' URL by the page).
let renderBadges = null;

/** Sets the function that lists a node's config badges in the panel. */
export function setBadgeList(render) {
  renderBadges = render;
}

/** Sets the detail-page URL patterns: `{workload, service, application}`. */
export function setDetailUrls(urls) {
  detailUrls = urls || {};
}

/** A detail page's URL: `kind` is workload, service or application; "" when the page passed no pattern. */
export function detailUrl(kind, namespace, name) {
  const pattern = detailUrls[kind];
  return pattern ? pattern.replace("__namespace__", enc(namespace)).replace("__name__", enc(name)) : "";
}

/** Detail-page links for a node: its workload, service and app pages. */
export function detailLinks(d) {
  const links = [];
  const ns = d.namespace;
  if (!ns || ns === "unknown" || d.nodeType === "unknown") return links;
  if (d.workload) links.push([`Workload ${d.workload}`, detailUrl("workload", ns, d.workload)]);
  if (d.service && !d.isServiceEntry) links.push([`Service ${d.service}`, detailUrl("service", ns, d.service)]);
  for (const s of d.destServices || []) {
    if (s.name !== d.service && s.namespace) {
      links.push([`Service ${s.name}`, detailUrl("service", s.namespace, s.name)]);
    }
  }
  if (d.app) links.push([interpolate(gettext("Application %(name)s"), { name: d.app }), detailUrl("application", ns, d.app)]);
  return links.filter(([, href]) => href);
}

function linkList(links) {
  const ul = el("ul", null, "panel-links");
  for (const [text, href] of links) {
    const a = el("a", text);
    a.href = href;
    const li = el("li");
    li.appendChild(a);
    ul.appendChild(li);
  }
  return ul;
}

function responsesRows(edges) {
  // Aggregate response codes over edges, weighted by each edge's request rate.
  const totals = new Map();
  let all = 0;
  edges.forEach((edge) => {
    const d = edge.data();
    const rate = d._rps || 0;
    for (const [code, info] of Object.entries(d.traffic?.responses || {})) {
      let share = 0;
      for (const pct of Object.values(info.flags || {})) share += Number(pct);
      const value = (rate * share) / 100;
      totals.set(code, (totals.get(code) || 0) + value);
      all += value;
    }
  });
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([code, value]) => [code, `${value.toFixed(2)} rps`, all ? `${((100 * value) / all).toFixed(1)}%` : "-"]);
}

function nodeTitle(d) {
  return d.nodeType === "app" && d.version ? `${d._name} ${d.version}` : d._name;
}

function nodePanel(node) {
  const d = node.data();
  const frag = document.createDocumentFragment();
  const title = el("h2", nodeTitle(d), "panel-title");
  title.prepend(el("span", d.nodeType === "box" ? `${d.isBox} box` : d.nodeType, "badge muted"));
  frag.appendChild(title);
  const facts = [["Namespace", d.namespace], [gettext("Cluster"), d.cluster]];
  if (d.app) facts.push([gettext("App"), d.app]);
  if (d.version) facts.push([gettext("Version"), d.version]);
  if (d.workload) facts.push(["Workload", d.workload]);
  if (d.service) facts.push(["Service", d.service]);
  if (d._badges) facts.push([gettext("Badges"), d._badges]);
  if (d._config) facts.push([gettext("Config findings"), d._config]);
  frag.appendChild(table(facts.filter(([, v]) => v)));
  if (d._badgeCount && renderBadges) {
    frag.appendChild(el("h3", gettext("Istio config")));
    frag.appendChild(renderBadges(d));
  }
  frag.appendChild(el("h3", gettext("Health")));
  frag.appendChild(healthBlock(d));

  const rates = nodeRates(d);
  frag.appendChild(el("h3", gettext("Traffic")));
  const rateRows = [
    [gettext("Inbound"), `${rates.in.toFixed(2)} rps`, interpolate(gettext("%(percent)s errors"), { percent: `${(rates.in ? (100 * rates.errIn) / rates.in : 0).toFixed(1)}%` })],
    [gettext("Outbound"), `${rates.out.toFixed(2)} rps`, ""],
  ];
  if (rates.tcpIn || rates.tcpOut) rateRows.push(["TCP", interpolate(gettext("in %(bytes)s"), { bytes: formatBytes(rates.tcpIn) }), interpolate(gettext("out %(bytes)s"), { bytes: formatBytes(rates.tcpOut) })]);
  const rateTable = table(rateRows);
  rateTable.classList.add("panel-rates");
  frag.appendChild(rateTable);

  const incoming = node.incomers("edge");
  const codes = responsesRows(incoming);
  if (codes.length) {
    frag.appendChild(el("h3", gettext("Inbound responses")));
    frag.appendChild(table(codes, [gettext("Code"), gettext("Rate"), gettext("Share")]));
  }
  const latencyRows = [];
  incoming.forEach((edge) => {
    const t = edge.data().responseTimes;
    if (t) latencyRows.push([edge.source().data("_name"), t.avg ?? "-", t.p50 ?? "-", t.p95 ?? "-", t.p99 ?? "-"]);
  });
  if (latencyRows.length) {
    frag.appendChild(el("h3", gettext("Inbound latency (ms)")));
    frag.appendChild(table(latencyRows, [gettext("From"), "avg", "p50", "p95", "p99"]));
  }
  const links = detailLinks(d);
  if (links.length) {
    frag.appendChild(el("h3", gettext("Details")));
    frag.appendChild(linkList(links));
  }
  return frag;
}

function edgePanel(edge) {
  const d = edge.data();
  const frag = document.createDocumentFragment();
  const title = el("h2", `${nodeTitle(edge.source().data())} → ${nodeTitle(edge.target().data())}`, "panel-title");
  title.prepend(el("span", d.traffic?.protocol || "edge", "badge muted"));
  frag.appendChild(title);
  frag.appendChild(el("h3", gettext("Health")));
  frag.appendChild(healthBlock(d));
  const rates = edgeRates(d);
  const rows = [];
  if (rates.protocol === "tcp") rows.push([gettext("Throughput"), formatBytes(rates.bytes)]);
  else {
    rows.push([gettext("Request rate"), `${rates.rps.toFixed(2)} rps`]);
    rows.push([gettext("Errors"), `${rates.err.toFixed(1)}%`]);
    rows.push([gettext("Share of source's requests"), `${rates.share.toFixed(1)}%`]);
    if (rates.requestBytes > 0) rows.push([gettext("Request throughput"), formatBytes(rates.requestBytes)]);
    if (rates.responseBytes > 0) rows.push([gettext("Response throughput"), formatBytes(rates.responseBytes)]);
  }
  rows.push(["mTLS", d._mtls ? interpolate(gettext("%(percent)s of traffic"), { percent: `${d.isMTLS}%` }) : gettext("no")]);
  if (d.sourcePrincipal) rows.push([gettext("Source principal"), d.sourcePrincipal]);
  if (d.destPrincipal) rows.push([gettext("Destination principal"), d.destPrincipal]);
  frag.appendChild(el("h3", gettext("Traffic")));
  const rateTable = table(rows);
  rateTable.classList.add("panel-rates");
  frag.appendChild(rateTable);
  const responses = Object.entries(d.traffic?.responses || {});
  if (responses.length) {
    frag.appendChild(el("h3", gettext("Responses")));
    const codeRows = [];
    for (const [code, info] of responses) {
      for (const [flags, pct] of Object.entries(info.flags || {})) codeRows.push([code, flags, `${pct}%`]);
    }
    frag.appendChild(table(codeRows, [gettext("Code"), gettext("Flags"), gettext("Share")]));
  }
  if (d.responseTimes) {
    frag.appendChild(el("h3", gettext("Latency (ms)")));
    const t = d.responseTimes;
    frag.appendChild(table([[t.avg ?? "-", t.p50 ?? "-", t.p95 ?? "-", t.p99 ?? "-"]], ["avg", "p50", "p95", "p99"]));
  }
  const links = [...detailLinks(edge.source().data()), ...detailLinks(edge.target().data())];
  if (links.length) {
    frag.appendChild(el("h3", gettext("Details")));
    frag.appendChild(linkList(links));
  }
  return frag;
}

/** Shows the panel for an element (or hides it for null). */
export function showPanel(panel, body, element) {
  body.replaceChildren();
  if (!element) {
    panel.hidden = true;
    return;
  }
  body.appendChild(element.isNode() ? nodePanel(element) : edgePanel(element));
  panel.dataset.elementId = element.id();
  panel.hidden = false;
}
