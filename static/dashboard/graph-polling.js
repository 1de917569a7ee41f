// Polling of the graph page: every `refresh` seconds while the tab is visible and the view is live; not while it is
// hidden, replaying a moment or showing a fixed query time. A tab coming back refreshes at once.

/**
 * Starts watching the tab's visibility and returns `schedule()`, to call after each change of the refresh, the
 * replayed moment or the query time. `currentView()` gives the view state; `poll()` is one round (graph and
 * snapshots), `refreshNow()` the reload when the tab comes back.
 */
export function createPolling(currentView, poll, refreshNow) {
  let timer = 0;

  function schedule() {
    clearTimeout(timer);
    const view = currentView();
    const seconds = Number(view.refresh);
    if (view.at || view.queryTime || !seconds || document.visibilityState !== "visible") return;
    timer = setTimeout(async () => {
      await poll();
      schedule();
    }, seconds * 1000);
  }

  document.addEventListener("visibilitychange", async () => {
    // Hidden tabs do not poll; coming back refreshes at once.
    const view = currentView();
    if (document.visibilityState === "visible" && !view.at && Number(view.refresh)) {
      await refreshNow();
    }
    schedule();
  });
  return schedule;
}
