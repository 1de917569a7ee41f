// Turns the API's Kiali-shaped elements into Cytoscape elements: adds display names, badges and the numbers
// that edge labels, find/hide and the traffic animation read (fields starting with "_").

import { badgeData } from "./graph-badges.js";

const num = (value) => (value === undefined || value === null || value === "" ? 0 : Number(value));

/** Requests/s in and out of a node, and its inbound error percentage (http 4xx+5xx, grpc errors). */
export function nodeRates(data) {
  const rates = { in: 0, out: 0, errIn: 0, tcpIn: 0, tcpOut: 0 };
  for (const entry of data.traffic || []) {
    const r = entry.rates || {};
    if (entry.protocol === "http") {
      rates.in += num(r.httpIn);
      rates.out += num(r.httpOut);
      rates.errIn += num(r.httpIn4xx) + num(r.httpIn5xx);
    } else if (entry.protocol === "grpc") {
      rates.in += num(r.grpcIn);
      rates.out += num(r.grpcOut);
      rates.errIn += num(r.grpcInErr);
    } else if (entry.protocol === "tcp") {
      rates.tcpIn += num(r.tcpIn);
      rates.tcpOut += num(r.tcpOut);
    }
  }
  return rates;
}

/**
 * Request rate, error percentage, throughput and the protocol of an edge. An http edge's throughput is its request
 * body bytes/s (Kiali's default throughputType=request) unless the API set `throughput` (throughputType=response).
 */
export function edgeRates(data) {
  const traffic = data.traffic || {};
  const r = traffic.rates || {};
  const protocol = traffic.protocol || "";
  if (protocol === "tcp") return { protocol, rps: 0, err: 0, share: 0, bytes: num(r.tcp) };
  const rps = protocol === "grpc" ? num(r.grpc) : num(r.http);
  const err = protocol === "grpc" ? num(r.grpcPercentErr) : num(r.httpPercentErr);
  const share = protocol === "grpc" ? num(r.grpcPercentReq) : num(r.httpPercentReq);
  const bytes = data.throughput !== undefined ? num(data.throughput) : num(r.httpRequestBytes);
  const requestBytes = num(r.httpRequestBytes);
  const responseBytes = num(r.httpResponseBytes);
  return { protocol, rps, err, share, bytes, requestBytes, responseBytes };
}

export function displayName(d) {
  switch (d.nodeType) {
    case "box":
      return d.isBox === "app" ? d.app : d.isBox === "namespace" ? d.namespace : d.cluster;
    case "service":
      return d.service || "service";
    case "unknown":
      return d.isRestricted ? "restricted" : "unknown"; // isRestricted: namespaces the user may not read
    case "app":
      return d.app || d.workload || "";
    default:
      return d.workload || d.app || "";
  }
}

function badges(d) {
  const list = [];
  if (d.isGateway) list.push("GW");
  if (d.isWaypoint) list.push("WP");
  if (d.isServiceEntry) list.push("SE");
  if (d.hasMissingSC) list.push("!SC");
  return list.join(" ");
}

function nodeLabel(d, graphType) {
  if (d.nodeType === "box") return d._name;
  const lines = [d._name];
  const versioned = graphType !== "app" && d.nodeType === "app" && d.version;
  if (versioned) lines.push(d.version);
  if (d._badges) lines.push(d._badges);
  return lines.join("\n");
}

export function formatRate(value) {
  return value >= 10 ? value.toFixed(1) : value >= 0.01 ? value.toFixed(2) : value.toPrecision(1);
}

export function formatBytes(value) {
  if (value >= 1048576) return `${(value / 1048576).toFixed(1)} MB/s`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} kB/s`;
  return `${Math.round(value)} B/s`;
}

/** The text on an edge for an edge-label mode (graph-icons.js draws the mTLS lock beside it, whatever the mode). */
export function edgeLabel(d, mode) {
  let text = "";
  if (mode === "rps" && d._rps > 0) text = `${formatRate(d._rps)} rps`;
  else if (mode === "rps" && d._bytes > 0) text = formatBytes(d._bytes);
  else if (mode === "share" && d._share > 0) text = `${d._share.toFixed(1)}%`;
  else if (mode === "rt" && typeof d._rt === "number") text = `${Math.round(d._rt)} ms`;
  else if (mode === "err" && d._err > 0) text = `${d._err.toFixed(1)}% err`;
  else if (mode === "throughput" && d._bytes > 0) text = formatBytes(d._bytes);
  else if (mode === "throughputResponse" && d._responseBytes > 0) text = formatBytes(d._responseBytes);
  return text;
}

/** An edge's response time in ms for a statistic (avg, p50, p95, p99); the API's responseTime without the stat. */
export function responseTimeOf(d, stat = "p95") {
  const chosen = d.responseTimes?.[stat];
  if (chosen !== undefined) return num(chosen);
  return d.responseTime !== undefined && !d.responseTimes ? num(d.responseTime) : undefined;
}

/**
 * Cytoscape elements from an API answer; the API's data objects are copied, never changed. `options.rtStat` picks
 * the response-time statistic edges show, `options.badgeBase` is the URL of the badge icons.
 */
export function buildElements(graph, edgeLabelMode, large = false, options = {}) {
  const rtStat = options.rtStat || "p95";
  const elements = graph.elements || { nodes: [], edges: [] };
  const nodes = new Map();
  const inboundRt = new Map();
  const edges = (elements.edges || []).map(({ data: raw }) => {
    const d = { ...raw };
    const rates = edgeRates(d);
    d._rps = rates.rps;
    d._err = rates.err;
    d._share = rates.share;
    d._bytes = rates.bytes;
    d._responseBytes = rates.protocol === "tcp" ? rates.bytes : rates.responseBytes;
    d._protocol = rates.protocol;
    d._mtls = num(d.isMTLS) > 0;
    // On large graphs 3,000 lock icons cost more than they tell; the panel still says mTLS.
    d._lock = d._mtls && !large;
    const rt = responseTimeOf(d, rtStat);
    if (rt !== undefined) {
      d._rt = rt;
      inboundRt.set(d.target, Math.max(inboundRt.get(d.target) || 0, d._rt));
    }
    d.label = edgeLabel(d, edgeLabelMode);
    return { group: "edges", data: d };
  });
  for (const { data: raw } of elements.nodes || []) {
    const d = { ...raw };
    const rates = nodeRates(d);
    d._name = displayName(d) || "";
    d._badges = badges(d);
    Object.assign(d, badgeData(d, options.badgeBase || ""));
    d._rps = Math.max(rates.in, rates.out);
    d._err = rates.in > 0 ? (100 * rates.errIn) / rates.in : 0;
    if (inboundRt.has(d.id)) d._rt = inboundRt.get(d.id);
    d.label = nodeLabel(d, graph.graphType);
    nodes.set(d.id, { group: "nodes", data: d });
  }
  // A dangling edge would make Cytoscape throw; the API never sends one, but a partial answer must not break the page.
  const kept = edges.filter((e) => nodes.has(e.data.source) && nodes.has(e.data.target));
  return [...nodes.values(), ...kept];
}
