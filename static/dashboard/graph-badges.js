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

/** Node data fields the badge style reads: icon URLs and their x offsets (a centred row above the node). */
export function badgeData(d, base) {
  const badges = configBadges(d);
  if (!badges.length) return { _badgeCount: 0 };
  const row = badges.length * SIZE + (badges.length - 1) * GAP;
  const start = (NODE - row) / 2;
  return {
    _badgeCount: badges.length,
    _badgeImages: badges.map((b) => `${base}${b.file}`),
    _badgeX: badges.map((_, i) => `${start + i * (SIZE + GAP)}px`),
    _badgeY: badges.map(() => `${-SIZE - 3}px`),
    _badgeTitles: badges.map((b) => b.title).join(", "),
  };
}

/** The Cytoscape style entries that draw the badges (appended to graph-style.js's). */
export function badgeStyle() {
  return [
    {
      selector: "node[_badgeCount > 0][!_badgesOff]",
      style: {
        "background-image": (ele) => ele.data("_badgeImages"),
        "background-width": (ele) => ele.data("_badgeImages").map(() => `${SIZE}px`),
        "background-height": (ele) => ele.data("_badgeImages").map(() => `${SIZE}px`),
        "background-position-x": (ele) => ele.data("_badgeX"),
        "background-position-y": (ele) => ele.data("_badgeY"),
        "background-clip": "none",
        "background-image-containment": "over",
        "bounds-expansion": SIZE + 4,
        "background-fit": "none",
      },
    },
  ];
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
