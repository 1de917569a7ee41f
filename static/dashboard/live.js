// What every page's htmx refresh ({% live_refresh %}) needs besides htmx itself: a swapped-in fragment keeps
// the <details> the user opened or closed as they were (a fresh fragment would reset them).
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
