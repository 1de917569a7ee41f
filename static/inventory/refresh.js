// Keeps the inventory page fresh: re-fetches the server-rendered body, fast while the tab is visible and
// slowly while it is hidden.
const FAST_MS = 3000;
const SLOW_MS = 60000;
const container = document.getElementById("inventory");

async function refresh() {
  if (!container) return;
  try {
    const response = await fetch(container.dataset.refreshUrl, { headers: { "X-Requested-With": "fetch" } });
    if (response.ok) {
      const openDetails = container.querySelector("details.sync-status")?.open;
      container.innerHTML = await response.text();
      const details = container.querySelector("details.sync-status");
      if (details && openDetails !== undefined) details.open = openDetails;
    }
  } catch (error) {
    // The server may be restarting; the next tick tries again.
  }
  schedule();
}

function schedule() {
  setTimeout(refresh, document.visibilityState === "visible" ? FAST_MS : SLOW_MS);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh();
});
schedule();
