// The what-if preview's hand-over between the page that proposes a routing change (a wizard, the YAML editor) and
// the graph page that previews it: sessionStorage["mesh-ui.whatif"] holds
//   {cluster, namespace, objects: [YAML text | object | {action: "delete", kind, namespace, name}], source}
// and the graph page (graph-whatif.js) adds `prediction` (what it predicted before the change was applied) and
// `appliedAt` (when it first saw the cluster hold the change). Plain functions over a Storage: the editor bundles
// this file, the graph page imports it, the node tests call it with a fake storage.

export const WHATIF_KEY = "mesh-ui.whatif";

function validContract(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.namespace === "string" &&
    value.namespace !== "" &&
    Array.isArray(value.objects) &&
    value.objects.length > 0
  );
}

/** The stored proposal, or null when there is none or it is not one (never throws). */
export function readWhatIf(storage) {
  let value = null;
  try {
    value = JSON.parse(storage.getItem(WHATIF_KEY) || "null");
  } catch {
    return null;
  }
  return validContract(value) ? value : null;
}

/** Store a new proposal (forgetting an earlier one's prediction); returns what was stored. */
export function writeWhatIf(storage, { cluster = "", namespace, objects, source = "" }) {
  const contract = { cluster, namespace, objects, source };
  if (!validContract(contract)) throw new Error("a what-if proposal needs a namespace and at least one object");
  storage.setItem(WHATIF_KEY, JSON.stringify(contract));
  return contract;
}

/** Store the graph page's additions (prediction, appliedAt) to the current proposal. */
export function updateWhatIf(storage, changes) {
  const current = readWhatIf(storage);
  if (!current) return null;
  const next = { ...current, ...changes };
  storage.setItem(WHATIF_KEY, JSON.stringify(next));
  return next;
}

/** The graph page URL that previews a proposal: its namespace, the versioned-app graph, the overlay on. */
export function whatIfGraphUrl(graphPath, contract) {
  const params = new URLSearchParams({ namespaces: contract.namespace, whatif: "1" });
  if (contract.cluster) params.set("cluster", contract.cluster);
  return `${graphPath}?${params}`;
}
