// The admin's "Preview on graph": the form posted with its _whatif button comes back with the document it built
// (nothing written) in <script id="admin-whatif" type="application/json">. This module hands it to the graph page's
// what-if preview (graph-whatif-contract.js) and opens the graph in a new tab, which inherits this tab's
// sessionStorage; the form and its values stay here. Where the browser blocks a tab opened without a click, the
// "Open the preview" button opens it.
import { whatIfGraphUrl, writeWhatIf } from "../dashboard/graph-whatif-contract.js";

const data = document.getElementById("admin-whatif");
const ready = document.querySelector("[data-whatif-ready]");
if (data && ready) {
  const contract = writeWhatIf(window.sessionStorage, JSON.parse(data.textContent));
  const url = whatIfGraphUrl(ready.dataset.graphPath, contract);
  const button = ready.querySelector("[data-whatif-open]");
  button.addEventListener("click", () => window.open(url, "_blank"));
  if (!window.open(url, "_blank")) button.hidden = false;
  document.body.dataset.whatifHandedOver = "true";
}
