// Downloads of the current view: PNG and SVG images and the graph JSON exactly as the API returned it.

import { loadScript } from "./graph-scripts.js";

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

export async function exportGraph(kind, cy, rawJson, { svgScript, baseName }) {
  if (kind === "png") {
    download(cy.png({ full: true, output: "blob", bg: "#ffffff", maxWidth: 8000, maxHeight: 8000 }), `${baseName}.png`);
  } else if (kind === "svg") {
    await loadScript(svgScript);
    download(new Blob([cy.svg({ full: true, bg: "#ffffff" })], { type: "image/svg+xml" }), `${baseName}.svg`);
  } else if (kind === "json") {
    download(new Blob([rawJson || "{}"], { type: "application/json" }), `${baseName}.json`);
  }
}
