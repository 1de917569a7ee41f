// Calls `tick` again and again: every `fastMs` while the tab is visible, every `slowMs` while it is hidden,
// and at once when the tab becomes visible again. Ticks never overlap.
export function pollWhileVisible(tick, { fastMs = 10000, slowMs = 120000 } = {}) {
  let timer = null;
  let running = false;

  async function run() {
    if (running) return;
    running = true;
    clearTimeout(timer);
    try {
      await tick();
    } catch (error) {
      // The server may be restarting; the next tick tries again.
    } finally {
      running = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, document.visibilityState === "visible" ? fastMs : slowMs);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") run();
    else schedule();
  });
  schedule();
  return { refreshNow: run };
}

// Re-fetches the fragment of the current URL (filters included) into `target` through htmx.
export function refreshFragment(target) {
  const url = window.location.pathname + window.location.search;
  return window.htmx.ajax("GET", url, { target, swap: "innerHTML" });
}
