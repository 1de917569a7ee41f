// Find / hide expressions: a tiny language over node and edge data.
//
//   term  := "rt" OP n | "%error" OP n | "rps" OP n | "label:" KEY "=" GLOB | "name=" GLOB | "node=" TYPE
//          | "healthy" | "!healthy" | "mtls" | "!mtls" | "idle" | "!idle"
//   expr  := term { AND term } { OR term { AND term } }
//
// compileExpression() returns a predicate (element data, isNode) -> boolean, or throws ExpressionError with a
// message meant for the user. isServerEvaluable() tells whether /api/v1/graph?hide= can apply an expression itself
// (topology/graph/expressions.py: label:, name, node, healthy, !healthy, idle, !idle terms only).

export class ExpressionError extends Error {}

const LABEL_KEYS = ["app", "version", "workload", "service", "namespace", "cluster"];
const NODE_TYPES = ["app", "workload", "service", "unknown", "box"];
const METRICS = { rt: "_rt", "%error": "_err", rps: "_rps" };
const COMPARATORS = {
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  "=": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};
const UNHEALTHY = new Set(["Degraded", "Failure", "Not Ready"]);

function globToRegExp(glob) {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i");
}

function compileTerm(text) {
  const term = text.trim();
  const lower = term.toLowerCase();
  if (!term) throw new ExpressionError("empty term (check AND / OR)");
  if (lower === "healthy") return (d) => d.healthStatus === "Healthy";
  if (lower === "!healthy") return (d) => UNHEALTHY.has(d.healthStatus);
  if (lower === "mtls") return (d, isNode) => !isNode && Number(d.isMTLS || 0) > 0;
  if (lower === "!mtls") return (d, isNode) => !isNode && !(Number(d.isMTLS || 0) > 0);
  if (lower === "idle") return (d, isNode) => isNode && Boolean(d.isIdle);
  if (lower === "!idle") return (d, isNode) => isNode && !d.isIdle;

  const metric = /^(rt|%error|rps)\s*(>=|<=|!=|>|<|=)\s*(-?\d+(?:\.\d+)?)$/i.exec(term);
  if (metric) {
    const field = METRICS[metric[1].toLowerCase()];
    const compare = COMPARATORS[metric[2]];
    const limit = Number(metric[3]);
    // Elements without the measure (e.g. tcp edges for rt) never match.
    return (d) => typeof d[field] === "number" && compare(d[field], limit);
  }
  const label = /^label:([a-z]+)\s*(!?=)\s*(\S+)$/i.exec(term);
  if (label) {
    const key = label[1].toLowerCase();
    if (!LABEL_KEYS.includes(key)) throw new ExpressionError(`unknown label "${label[1]}": use ${LABEL_KEYS.join(", ")}`);
    const re = globToRegExp(label[3]);
    const negate = label[2] === "!=";
    // A service node stands for its app: "label:app=ratings" matches the ratings service too.
    const value = (d) => d[key] || (key === "app" && d.nodeType === "service" ? d.service : "") || "";
    return (d, isNode) => isNode && re.test(value(d)) !== negate;
  }
  const name = /^name\s*(!?=)\s*(\S+)$/i.exec(term);
  if (name) {
    const re = globToRegExp(name[2]);
    const negate = name[1] === "!=";
    return (d, isNode) => isNode && re.test(d._name || "") !== negate;
  }
  const node = /^node\s*(!?=)\s*(\S+)$/i.exec(term);
  if (node) {
    const type = node[2].toLowerCase();
    if (!NODE_TYPES.includes(type)) throw new ExpressionError(`unknown node type "${node[2]}": use ${NODE_TYPES.join(", ")}`);
    const negate = node[1] === "!=";
    return (d, isNode) => isNode && (d.nodeType === type) !== negate;
  }
  throw new ExpressionError(
    `cannot read "${term}": try rt > 500, %error > 5, rps > 1, label:app=reviews, name=reviews*, healthy, !healthy`,
  );
}

const OR = /\s+OR\s+|\s*\|\|\s*/i;
const AND = /\s+AND\s+|\s*&&\s*/i;
const SERVER_KEYWORDS = ["healthy", "!healthy", "idle", "!idle"];
const SERVER_TERMS = [/^label:[a-z]+\s*!?=\s*\S+$/i, /^name\s*!?=\s*\S+$/i, /^node\s*!?=\s*\S+$/i];

/** Compiles an expression; an empty one gives null (nothing to find or hide). */
export function compileExpression(text) {
  if (!text || !text.trim()) return null;
  const alternatives = text.split(OR).map((part) => {
    const terms = part.split(AND).map(compileTerm);
    return (d, isNode) => terms.every((t) => t(d, isNode));
  });
  return (d, isNode) => alternatives.some((alt) => alt(d, isNode));
}

/** True for a valid, non-empty expression made only of terms the server evaluates from stored data. */
export function isServerEvaluable(text) {
  try {
    if (!compileExpression(text)) return false;
  } catch (error) {
    if (error instanceof ExpressionError) return false;
    throw error;
  }
  const terms = text.split(OR).flatMap((part) => part.split(AND)).map((term) => term.trim());
  return terms.every((term) => SERVER_KEYWORDS.includes(term.toLowerCase()) || SERVER_TERMS.some((re) => re.test(term)));
}
