// The page showing a new API token once: a Copy button (shown only where the Clipboard API works).
const input = document.querySelector("[data-token-value]");
const button = document.querySelector("[data-copy-token]");
const status = document.querySelector("[data-copy-status]");

if (input && button && navigator.clipboard) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = "Copied.";
    } catch {
      input.select();
      status.textContent = "Select and copy it by hand (Ctrl+C).";
    }
  });
}
if (input) input.addEventListener("focus", () => input.select());
