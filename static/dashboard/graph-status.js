// What the graph page says about its data: the snapshot line, the error/stale banner, and the progress of a graph
// built on demand (followed until it is complete or failed).

import { gettext, interpolate } from "./i18n.js";

const $ = (id) => document.getElementById(id);

/** Shows `text` in the banner ("" hides it). */
export function showBanner(text) {
  const banner = $("graph-banner");
  banner.textContent = text;
  banner.hidden = !text;
}

/** An age in seconds as a short text: "45 s", "12 min", "2.5 h". */
export function formatAge(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The snapshot line and the stale banner of `graph` (an API answer); `root` carries the snapshot's id and time. */
export function renderSnapshot(root, graph, replaying) {
  const snap = graph.snapshot;
  const label = $("graph-snapshot");
  if (!snap) {
    label.textContent = graph.warning || gettext("No snapshot yet");
    delete root.dataset.snapshotId;
    showBanner("");
    return;
  }
  root.dataset.snapshotId = String(snap.id);
  root.dataset.snapshotTakenAt = snap.takenAt;
  const taken = new Date(snap.takenAt);
  const mode = replaying ? gettext("Replaying snapshot") : gettext("Snapshot");
  const age = replaying ? "" : ` · ${interpolate(gettext("%(age)s old"), { age: formatAge(snap.ageSeconds) })}`;
  const built = snap.onDemand
    ? ` · ${interpolate(gettext("built on demand for %(time)s"), { time: new Date(snap.queryTime).toLocaleString() })}`
    : "";
  label.textContent = `${mode} #${snap.id} · ${taken.toLocaleString()}${age} · ${snap.source}${built}`;
  const ageText = formatAge(snap.ageSeconds);
  if (snap.stale && snap.sourceError) {
    showBanner(`Stale data: the metrics source is failing (${snap.sourceError}); this snapshot is ${ageText} old.`);
  } else if (snap.stale) {
    showBanner(`Stale data: the newest snapshot is ${ageText} old; new snapshots are not arriving.`);
  } else {
    showBanner("");
  }
}

/** Shows what an on-demand build is doing ("" / null hides it). */
export function showBuilding(build) {
  const box = $("graph-building");
  if (!box) return;
  box.hidden = !build;
  document.body.dataset.graphBuilding = String(Boolean(build));
  if (!build) return;
  const span = build.window % 60 === 0 ? `${build.window / 60} min` : `${build.window} s`;
  const moment = new Date(build.queryTime).toLocaleString();
  box.textContent = `Building the graph of ${span} at ${moment} on demand… ${Math.round(build.elapsedSeconds)} s (times out after ${Math.round(build.timeoutSeconds)} s)`;
}

/**
 * Polls an on-demand build while `isCurrent()` (no other load took over): true once it is complete; false when it
 * failed (the banner says why) or another load took over.
 */
export async function followBuild(build, isCurrent) {
  let current = build;
  while (isCurrent()) {
    showBuilding(current);
    if (current.status === "complete") return true;
    if (current.status === "failed") {
      showBuilding(null);
      showBanner(`The graph built on demand failed: ${current.error || "unknown error"}`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      const response = await fetch(current.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) current = await response.json();
    } catch (error) {
      // a hiccup: ask again in a second
    }
  }
  return false;
}
