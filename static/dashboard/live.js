// What every page's htmx refresh ({% live_refresh %}) needs besides htmx itself: the clock that asks for it, and
// a swapped-in fragment that keeps the <details> the user opened or closed as they were (a fresh fragment would
// reset them).
//
// The clock lives here, not in an htmx trigger filter ("every 10s [document.visibilityState === 'visible']"):
// htmx evaluates filters with Function(), which the Content-Security-Policy forbids. Every N seconds while the tab
// is visible, and at once when it becomes visible again, each live part gets a "live-refresh" event (its trigger).
const REFRESH_EVENT = "live-refresh";

function refreshWhenVisible(element) {
  if (document.visibilityState === "visible") element.dispatchEvent(new Event(REFRESH_EVENT));
}

for (const element of document.querySelectorAll("[data-live-refresh]")) {
  const seconds = Number(element.dataset.liveRefresh);
  if (seconds > 0) setInterval(() => refreshWhenVisible(element), seconds * 1000);
  document.addEventListener("visibilitychange", () => refreshWhenVisible(element));
}

const STATE_KEY = "liveDetailsState";

function detailsKey(details) {
  return details.id || details.querySelector("summary")?.textContent.trim().split(":")[0] || "";
}

document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (!target?.hasAttribute("data-live-refresh")) return;
  const state = Object.fromEntries([...target.querySelectorAll("details")].map((d) => [detailsKey(d), d.open]));
  target.dataset[STATE_KEY] = JSON.stringify(state);
});

document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target?.dataset[STATE_KEY]) return;
  const state = JSON.parse(target.dataset[STATE_KEY]);
  delete target.dataset[STATE_KEY];
  for (const details of target.querySelectorAll("details")) {
    const key = detailsKey(details);
    if (key in state) details.open = state[key];
  }
});
