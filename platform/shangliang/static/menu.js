// The menu's groups and the tenant switcher are <details>: they open and close without scripts.
// With them, one click elsewhere or Escape closes what is open, as a menu is expected to.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.navgroup[open], details.switcher[open]").forEach(function (open) {
    if (!open.contains(event.target)) { open.open = false; }
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  document.querySelectorAll("details.navgroup[open], details.switcher[open]").forEach(function (open) {
    open.open = false;
    open.querySelector("summary").focus();
  });
});
