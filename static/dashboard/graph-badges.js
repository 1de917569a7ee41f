// Kiali's Istio-config badges on graph nodes (hasCB, hasVS, hasTrafficShifting...): small SVG icons from
// static/dashboard/badges/ drawn in a row above the node (Cytoscape background images, no emoji, no inline style),
// and listed with their names in the side panel.

/** Every badge, in the order they are drawn: the node data flag, its icon file and what it means. */
export const CONFIG_BADGES = Object.freeze([
  { flag: "hasCB", file: "cb.svg", title: "Circuit breaker" },
  { flag: "hasVS", file: "vs.svg", title: "VirtualService" },
  { flag: "hasRequestRouting", file: "rr.svg", title: "Request routing" },
  { flag: "hasTrafficShifting", file: "ts.svg", title: "Traffic shifting" },
  { flag: "hasTCPTrafficShifting", file: "tts.svg", title: "TCP traffic shifting" },
  { flag: "hasFaultInjection", file: "fi.svg", title: "Fault injection" },
  { flag: "hasRequestTimeout", file: "rt.svg", title: "Request timeout" },
  { flag: "hasMirroring", file: "mr.svg", title: "Mirroring" },
]);

const SIZE = 11;
const GAP = 1;
const NODE = 28; // graph-style.js: node width

/** The badges a node's data carries. */
export function configBadges(d) {
  return CONFIG_BADGES.filter((badge) => Boolean(d[badge.flag]));
}

/** Node data fields the badge style reads: how many badges, their icon URLs, their names. */
export function badgeData(d, base) {
  const badges = configBadges(d);
  if (!badges.length) return { _badgeCount: 0 };
  return {
    _badgeCount: badges.length,
    _badgeImages: badges.map((b) => `${base}${b.file}`),
    _badgeTitles: badges.map((b) => b.title).join(", "),
  };
}

/** Offsets of `count` icons in a centred row above the node, as Cytoscape's space-separated list values. */
function row(count) {
  const width = count * SIZE + (count - 1) * GAP;
  const start = (NODE - width) / 2;
  const xs = Array.from({ length: count }, (_, i) => `${start + i * (SIZE + GAP)}px`);
  const each = (value) => xs.map(() => value).join(" ");
  return { x: xs.join(" "), y: each(`${-SIZE - 3}px`), size: each(`${SIZE}px`), each };
}

/** The Cytoscape style entries that draw the badges (appended to graph-style.js's): one per badge count. */
export function badgeStyle() {
  const entries = [
    {
      selector: "node[_badgeCount > 0][!_badgesOff]",
      style: {
        "background-image": (ele) => ele.data("_badgeImages"),
        "bounds-expansion": SIZE + 4,
      },
    },
  ];
  for (let count = 1; count <= CONFIG_BADGES.length; count += 1) {
    const { x, y, size, each } = row(count);
    // Every per-image property is a list: a single value would apply to the first image only.
    entries.push({
      selector: `node[_badgeCount = ${count}][!_badgesOff]`,
      style: {
        "background-clip": each("none"),
        "background-image-containment": each("over"),
        "background-fit": each("none"),
        "background-position-x": x,
        "background-position-y": y,
        "background-width": size,
        "background-height": size,
      },
    });
  }
  return entries;
}

/** The panel's list of a node's badges: icon and name for each. */
export function badgeList(d, base) {
  const list = document.createElement("ul");
  list.className = "config-badges";
  for (const badge of configBadges(d)) {
    const item = document.createElement("li");
    const icon = document.createElement("img");
    icon.src = `${base}${badge.file}`;
    icon.alt = "";
    icon.width = 14;
    icon.height = 14;
    item.append(icon, document.createTextNode(` ${badge.title}`));
    if (badge.flag === "hasVS" && d.hasVS?.hostnames?.length) {
      item.append(document.createTextNode(` (${d.hasVS.hostnames.join(", ")})`));
    }
    list.appendChild(item);
  }
  return list;
}

/**
 * Runs `action` (a promise) with the badges off: the SVG export turns background images into data: URLs, which the
 * page's CSP refuses to load, so an exported SVG has no badges.
 */
export async function withoutBadges(cy, action) {
  const badged = cy.nodes("[_badgeCount > 0]");
  badged.data("_badgesOff", true);
  try {
    return await action();
  } finally {
    badged.removeData("_badgesOff");
  }
}
