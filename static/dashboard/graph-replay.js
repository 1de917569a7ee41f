// The replay slider of the graph page: the stored snapshots around the moment shown (/api/v1/snapshots), one
// slider step each, the last one being live.

import { gettext } from "./i18n.js";

const $ = (id) => document.getElementById(id);

let snapshots = [];

/** The snapshot the slider is on (undefined before the list is loaded). */
export function sliderSnapshot() {
  return snapshots[Number($("ctl-replay").value)];
}

/**
 * Reads the snapshots of the view's cluster (the hour around a replayed moment) and sets the slider on them;
 * `currentView()` is asked again once they are read (the user may have moved the slider meanwhile).
 */
export async function loadReplaySnapshots(apiUrl, currentView) {
  const view = currentView();
  const params = new URLSearchParams();
  if (view.cluster) params.set("cluster", view.cluster);
  if (view.at) {
    // Show the hour around the replayed moment.
    const at = new Date(view.at);
    if (!Number.isNaN(at.getTime())) {
      params.set("since", new Date(at.getTime() - 3600e3).toISOString());
      params.set("until", new Date(Math.max(Date.now(), at.getTime() + 60e3)).toISOString());
    }
  }
  try {
    const response = await fetch(`${apiUrl}?${params}`);
    if (!response.ok) return;
    snapshots = (await response.json()).snapshots || [];
  } catch (error) {
    return;
  }
  const slider = $("ctl-replay");
  slider.max = String(Math.max(0, snapshots.length - 1));
  slider.disabled = snapshots.length < 2;
  const { at } = currentView();
  slider.value = String(replayIndex(snapshots, at));
  updateReplayLabel(at);
}

/** The index of the last snapshot taken at or before `at` (the newest when live). */
export function replayIndex(list, at) {
  if (!at || list.length === 0) return Math.max(0, list.length - 1);
  const target = new Date(at).getTime();
  let best = list.length - 1;
  list.forEach((s, i) => {
    if (new Date(s.takenAt).getTime() <= target) best = i;
  });
  return best;
}

/** The slider's time ("live" unless replaying `at`) and the Live button. */
export function updateReplayLabel(at) {
  const snap = sliderSnapshot();
  $("replay-time").textContent = at && snap ? new Date(snap.takenAt).toLocaleTimeString() : gettext("live");
  $("btn-live").disabled = !at;
}
