// Kiali's node graphs on the page: which node a double-click (or a "mesh-ui:node-graph" event) drills into, how
// that is written in the page's URL (node=kind:namespace:name[:version]) and which API URL serves it.

import { gettext } from "./i18n.js";

const KINDS = { workload: "workloads", app: "applications", service: "services" };

/** The node-graph reference of a node's data ("" when it has none: boxes, unknown, restricted, outside a namespace). */
export function nodeRefOf(d, graphType) {
  const ns = d.namespace;
  if (!ns || ns === "unknown" || d.isBox || d.isRestricted) return "";
  if (d.nodeType === "service" && d.service) return `service:${ns}:${d.service}`;
  if (d.nodeType === "app" && d.app) {
    const versioned = graphType !== "app" && d.version && d.version !== "unknown";
    return versioned ? `app:${ns}:${d.app}:${d.version}` : `app:${ns}:${d.app}`;
  }
  if (d.nodeType === "workload" && d.workload) return `workload:${ns}:${d.workload}`;
  return "";
}

/** `{kind, namespace, name, version}` of a reference, or null when it is not one. */
export function parseNodeRef(ref) {
  const [kind, namespace, name, version = "", ...rest] = String(ref || "").split(":");
  if (!KINDS[kind] || !namespace || !name || rest.length) return null;
  return { kind, namespace, name, version };
}

/** The API URL of a node graph (`apiRoot` is /api/v1/). */
export function nodeGraphUrl(apiRoot, ref) {
  const node = parseNodeRef(ref);
  if (!node) return "";
  const enc = encodeURIComponent;
  let path = `${apiRoot}namespaces/${enc(node.namespace)}/${KINDS[node.kind]}/${enc(node.name)}`;
  if (node.version) path += `/versions/${enc(node.version)}`;
  return `${path}/graph`;
}

/** A short human name of a reference, for the breadcrumb. */
export function nodeRefLabel(ref) {
  const node = parseNodeRef(ref);
  if (!node) return "";
  // workload and service stay English (docs/dashboard.md, "Language"); an app is translated.
  const what = node.kind === "app" ? gettext("app") : node.kind;
  return `${what} ${node.namespace}/${node.name}${node.version ? ` ${node.version}` : ""}`;
}

/** The Cytoscape style of a node graph's focus (the API marks it isFocus). */
export function focusStyle() {
  return [{ selector: "node[?isFocus]", style: { "border-width": 4, "underlay-color": "#0066cc", "underlay-opacity": 0.15, "underlay-padding": 6 } }];
}
