// Routing wizard page: sliders that keep the traffic-shifting weights at 100, an Apply that is disabled once the
// form changes after its preview (the server refuses such an apply too), and the "Preview on graph" button, which
// hands the previewed objects to the graph page's what-if view through sessionStorage (graph-whatif-contract.js).
import { whatIfGraphUrl, writeWhatIf } from "./graph-whatif-contract.js";
import { gettext, interpolate } from "./i18n.js";
import { rebalance } from "./wizard-weights.js";

const form = document.querySelector("[data-wizard-form]");

function setUpSliders(fieldset) {
  const numbers = [...fieldset.querySelectorAll("input[data-weight]")];
  const total = fieldset.querySelector("[data-weight-total]");
  const sliders = numbers.map((number) => {
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "100";
    slider.step = "1";
    slider.value = number.value || "0";
    slider.dataset.weightSlider = number.dataset.weight;
    slider.setAttribute("aria-label", interpolate(gettext("Weight of %(subset)s"), { subset: number.dataset.weight }));
    number.before(slider);
    return slider;
  });
  const current = () => numbers.map((n) => Number(n.value) || 0);
  const show = (weights) => {
    weights.forEach((w, i) => {
      numbers[i].value = String(w);
      sliders[i].value = String(w);
    });
    if (total) total.textContent = String(weights.reduce((a, b) => a + b, 0));
  };
  const moved = (index, value) => {
    show(rebalance(current(), index, value));
    form.dispatchEvent(new Event("wizard-changed"));
  };
  sliders.forEach((slider, i) => slider.addEventListener("input", () => moved(i, slider.value)));
  numbers.forEach((number, i) => number.addEventListener("change", () => moved(i, number.value)));
  show(current());
  fieldset.dataset.slidersReady = "true";
}

function watchForChanges(plan) {
  const apply = plan.querySelector("[data-wizard-apply]");
  const stale = plan.querySelector("[data-stale-preview]");
  const markStale = (event) => {
    if (event.target && plan.contains(event.target)) return; // the confirmation boxes belong to the preview
    if (apply) apply.disabled = true;
    if (stale) stale.hidden = false;
    plan.dataset.stale = "true";
  };
  form.addEventListener("input", markStale);
  form.addEventListener("change", markStale);
  form.addEventListener("wizard-changed", markStale);
}

function setUpWhatIf(plan) {
  const button = plan.querySelector("[data-whatif-button]");
  const data = document.getElementById("wizard-whatif");
  if (!button || !data) return;
  button.addEventListener("click", () => {
    const contract = writeWhatIf(window.sessionStorage, { source: "wizard", ...JSON.parse(data.textContent) });
    window.location.assign(whatIfGraphUrl(button.dataset.graphUrl, contract));
  });
}

if (form) {
  const weights = form.querySelector("[data-weights]");
  if (weights) setUpSliders(weights);
  const plan = form.querySelector("[data-wizard-plan]");
  if (plan) {
    watchForChanges(plan);
    setUpWhatIf(plan);
  }
  document.body.dataset.wizardReady = "true";
}
