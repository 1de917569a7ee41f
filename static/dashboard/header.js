// Behaviour shared by every page's header and toolbars:
// - the header's cluster selector switches cluster as soon as another one is picked;
// - a disclosure marked data-close-on-blur (the graph's namespace picker) closes when focus leaves it, on a
//   click outside it and on Escape (focus then returns to its summary), as a menu does.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form?.submit());
}

for (const details of document.querySelectorAll("details[data-close-on-blur]")) {
  // A click on a label inside moves focus to <body> for a moment; it must not close the picker.
  let pressedInside = false;
  details.addEventListener("pointerdown", () => {
    pressedInside = true;
  });
  document.addEventListener("pointerup", () => setTimeout(() => (pressedInside = false), 0));
  details.addEventListener("focusout", (event) => {
    if (!details.open || pressedInside || details.contains(event.relatedTarget)) return;
    details.open = false;
  });
  document.addEventListener("pointerdown", (event) => {
    if (details.open && !details.contains(event.target)) details.open = false;
  });
  details.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !details.open) return;
    event.stopPropagation();
    details.open = false;
    details.querySelector("summary")?.focus();
  });
}
