// View state of the graph page, kept in the query string so every view is bookmarkable.

export const DEFAULTS = Object.freeze({
  cluster: "",
  namespaces: [],
  graphType: "versionedApp",
  duration: "",
  edgeLabels: "none",
  layout: "dagre",
  refresh: "30",
  boxBy: "cluster,namespace,app",
  idle: false,
  traffic: true,
  find: "",
  hide: "",
  at: "",
  node: "",
  services: true,
  rtStat: "p95",
  rateHttp: "requests",
  rateGrpc: "requests",
  rateTcp: "total", // what snapshots store (the API's default); Kiali's default is sent
  ambientTraffic: "total", // Kiali's default: waypoint and ztunnel telemetry both
  queryTime: "",
  whatif: "", // "1": the what-if preview (graph-whatif.js) is open
});

function pick(name, value, choices) {
  const allowed = choices[name];
  return allowed && !allowed.includes(value) ? DEFAULTS[name] : value;
}

/**
 * Reads the state from a query string; a value outside `choices` (name → allowed values, taken from the toolbar the
 * server rendered) falls back to the default.
 */
export function readState(search, defaults = {}, choices = {}) {
  const params = new URLSearchParams(search);
  const state = { ...DEFAULTS, ...defaults };
  for (const key of Object.keys(DEFAULTS)) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    if (key === "namespaces") state.namespaces = raw.split(",").map((s) => s.trim()).filter(Boolean);
    else if (key === "idle" || key === "traffic" || key === "services") state[key] = raw === "true" || raw === "1";
    else state[key] = pick(key, raw, choices);
  }
  // "replay" is accepted as a synonym of "at".
  if (!state.at && params.get("replay")) state.at = params.get("replay");
  return state;
}

/** The query string for a state: only what differs from the defaults. */
export function buildQuery(state, defaults = {}) {
  const base = { ...DEFAULTS, ...defaults };
  const params = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    const value = key === "namespaces" ? state.namespaces.join(",") : String(state[key]);
    const fallback = key === "namespaces" ? base.namespaces.join(",") : String(base[key]);
    if (value !== fallback) params.set(key, value);
  }
  // Commas and colons are legal in a query string and keep bookmarked URLs readable.
  return params.toString().replace(/%2C/gi, ",").replace(/%3A/gi, ":");
}

/** Replaces the current history entry so reloading or bookmarking restores this view. */
export function saveState(state, defaults = {}) {
  const query = buildQuery(state, defaults);
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, "", url);
}

/** The API query for a state (the graph endpoint's own parameter names). */
export function graphApiQuery(state) {
  const params = new URLSearchParams({ graphType: state.graphType, boxBy: state.boxBy || "none" });
  if (state.namespaces.length) params.set("namespaces", state.namespaces.join(","));
  if (state.duration) params.set("duration", state.duration);
  if (state.idle) params.set("idleNodes", "true");
  if (state.cluster) params.set("cluster", state.cluster);
  if (state.at) params.set("at", state.at);
  if (state.queryTime) params.set("queryTime", state.queryTime);
  if (state.services === false) params.set("injectServiceNodes", "false");
  if (state.rateHttp && state.rateHttp !== "requests") params.set("rateHttp", state.rateHttp);
  if (state.rateGrpc && state.rateGrpc !== "requests") params.set("rateGrpc", state.rateGrpc);
  if (state.rateTcp && state.rateTcp !== "total") params.set("rateTcp", state.rateTcp);
  if (state.ambientTraffic && state.ambientTraffic !== "total") params.set("ambientTraffic", state.ambientTraffic);
  return params.toString();
}
