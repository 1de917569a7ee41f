// A service page opened at #wizards (from the graph's node menu) opens its Routing menu.
const menu = document.getElementById("wizards");

function openOnHash() {
  if (menu && window.location.hash === "#wizards") {
    menu.open = true;
    menu.scrollIntoView({ block: "nearest" });
  }
}

openOnHash();
window.addEventListener("hashchange", openOnHash);
