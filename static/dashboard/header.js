// The header's cluster selector switches cluster as soon as another one is picked.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form?.submit());
}
