// Downloads of the current view: PNG and SVG images and the graph JSON exactly as the API returned it.
// Images carry the graph's icons (mTLS locks, config marks) as drawn paths (graph-icons.js), not as glyphs.
//
// The PNG comes from Cytoscape's public cy.png() as a Blob; createImageBitmap() decodes it without going through
// an <img> (a data: or blob: image URL is what the page's Content-Security-Policy forbids), so the icons can be
// painted over it on a canvas of the same size.

import { drawIcons, iconPlacements, iconsSvg } from "./graph-icons.js";
import { loadScript } from "./graph-scripts.js";

const MAX_SIDE = 8000;

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Model → image: the full export puts the elements' bounding box at the origin, scaled to the image's width. */
function exportTransform(cy, imageWidth) {
  const bb = cy.mutableElements().boundingBox();
  const scale = imageWidth / Math.max(1, Math.ceil(bb.w));
  return { scale, dx: -bb.x1 * scale, dy: -bb.y1 * scale };
}

/** The full graph as a PNG blob, icons included. */
export async function pngBlob(cy) {
  const graphOnly = await cy.png({ full: true, output: "blob-promise", bg: "#ffffff", maxWidth: MAX_SIDE, maxHeight: MAX_SIDE });
  const bitmap = await createImageBitmap(graphOnly);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const t = exportTransform(cy, canvas.width);
  ctx.setTransform(t.scale, 0, 0, t.scale, t.dx, t.dy);
  drawIcons(ctx, iconPlacements(cy));
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the PNG could not be encoded"))), "image/png"),
  );
}

/** The full graph as SVG text, icons included (cytoscape-svg must be loaded). */
export function svgText(cy) {
  const doc = new DOMParser().parseFromString(cy.svg({ full: true, bg: "#ffffff" }), "image/svg+xml");
  const svg = doc.documentElement;
  const t = exportTransform(cy, Number(svg.getAttribute("width")) || 1);
  const icons = `<g xmlns="http://www.w3.org/2000/svg" class="mesh-icons" transform="matrix(${t.scale} 0 0 ${t.scale} ${t.dx} ${t.dy})">${iconsSvg(iconPlacements(cy))}</g>`;
  const layer = new DOMParser().parseFromString(icons, "image/svg+xml").documentElement;
  svg.appendChild(doc.importNode(layer, true));
  return new XMLSerializer().serializeToString(doc);
}

export async function exportGraph(kind, cy, rawJson, { svgScript, baseName }) {
  if (kind === "png") {
    download(await pngBlob(cy), `${baseName}.png`);
  } else if (kind === "svg") {
    await loadScript(svgScript);
    download(new Blob([svgText(cy)], { type: "image/svg+xml" }), `${baseName}.svg`);
  } else if (kind === "json") {
    download(new Blob([rawJson || "{}"], { type: "application/json" }), `${baseName}.json`);
  }
}
