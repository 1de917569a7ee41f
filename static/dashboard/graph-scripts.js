// Loads a classic (UMD) script once, on first use: the dagre layout and the SVG exporter are not needed by
// every view, so the page does not download them up front.

const loading = new Map();

export function loadScript(src) {
  if (!loading.has(src)) {
    loading.set(
      src,
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = () => {
          loading.delete(src);
          reject(new Error(`could not load ${src}`));
        };
        document.head.appendChild(script);
      }),
    );
  }
  return loading.get(src);
}

/** Scripts in order (each may need the previous one's global). */
export async function loadScripts(sources) {
  for (const src of sources) await loadScript(src);
}
