// The graph page's toolbar and the view state (graph-state.js): which values its selects offer, the state written
// into the controls and read back from them.

import { gettext, interpolate } from "./i18n.js";

const $ = (id) => document.getElementById(id);

const SELECTS = [
  "graphType", "duration", "refresh", "edgeLabels", "rtStat", "rateHttp", "rateGrpc", "rateTcp", "ambientTraffic",
  "layout", "boxBy",
];

/** The values each toolbar select offers (rendered by the server): the only ones a URL may choose. */
export function toolbarChoices(form) {
  return Object.fromEntries(
    ["graphType", "edgeLabels", "rtStat", "rateHttp", "rateGrpc", "rateTcp", "ambientTraffic", "layout", "refresh"]
      .filter((name) => form.elements[name])
      .map((name) => [name, [...form.elements[name].options].map((o) => o.value)]),
  );
}

/** Sets the controls to `state`; a state without a duration takes the select's (the server's default window). */
export function writeControls(form, state) {
  for (const box of form.querySelectorAll('input[name="namespaces"]')) box.checked = state.namespaces.includes(box.value);
  for (const name of SELECTS) {
    const control = form.elements[name];
    if (!control || !state[name]) continue;
    if (![...control.options].some((o) => o.value === state[name])) control.add(new Option(state[name], state[name]));
    control.value = state[name];
  }
  if (!state.duration) state.duration = form.elements.duration.value;
  $("ctl-idle").checked = state.idle;
  if ($("ctl-services")) $("ctl-services").checked = state.services;
  if ($("ctl-queryTime")) $("ctl-queryTime").value = localInputValue(state.queryTime);
  $("ctl-traffic").checked = state.traffic;
  $("ctl-find").value = state.find;
  $("ctl-hide").value = state.hide;
  updateNamespaceSummary(state.namespaces);
}

/** The state the controls show, starting from `state` (what they do not hold stays). */
export function readControls(form, state) {
  const next = { ...state };
  next.namespaces = [...form.querySelectorAll('input[name="namespaces"]:checked')].map((b) => b.value);
  for (const name of SELECTS) {
    if (form.elements[name]) next[name] = form.elements[name].value;
  }
  next.idle = $("ctl-idle").checked;
  if ($("ctl-services")) next.services = $("ctl-services").checked;
  const moment = $("ctl-queryTime")?.value || "";
  // The control shows minutes in local time: keep the state's own value while the control still shows it.
  if (moment !== localInputValue(state.queryTime)) next.queryTime = moment ? new Date(moment).toISOString() : "";
  next.traffic = $("ctl-traffic").checked;
  next.find = $("ctl-find").value.trim();
  next.hide = $("ctl-hide").value.trim();
  return next;
}

/** A moment (ISO) as a datetime-local control's value, in local time to the minute. */
export function localInputValue(iso) {
  const moment = iso ? new Date(iso) : null;
  if (!moment || Number.isNaN(moment.getTime())) return "";
  const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60e3);
  return local.toISOString().slice(0, 16);
}

/** The namespace picker's summary line. */
export function updateNamespaceSummary(namespaces) {
  $("ns-summary").textContent = namespaces.length
    ? interpolate(gettext("Namespaces: %(names)s"), { names: namespaces.join(", ") })
    : gettext("Namespaces: all");
}
