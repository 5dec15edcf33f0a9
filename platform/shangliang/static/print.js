// A print button for pages that print cleanly (@media print in app.css). Hidden until this runs,
// so without scripts there is no button that does nothing.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
