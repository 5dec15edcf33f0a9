// The board's columns scroll sideways when they are more than the width holds: say so, and only then.
document.querySelectorAll("[data-board]").forEach(function (board) {
  var hint = board.parentElement.querySelector(".board-hint");
  function check() { if (hint) { hint.hidden = board.scrollWidth <= board.clientWidth + 1; } }
  check();
  window.addEventListener("resize", check);
});
