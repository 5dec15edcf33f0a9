// Copy buttons next to one-time links (templates/_form.html, copyable): hidden until this runs, so
// without scripts there is no button that does nothing. The clipboard API needs a secure context;
// elsewhere (an intranet over plain HTTP) the link is selected and copied the old way, or left
// selected for Ctrl+C.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.dataset.copy);
  var status = button.parentNode.querySelector(".copy-status");
  if (!source) return;
  button.hidden = false;

  function say(text) { if (status) status.textContent = text; }

  function select() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    say(copied ? button.dataset.done : button.dataset.selected);
  }

  button.addEventListener("click", function () {
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say(button.dataset.done); }, select);
    } else {
      select();
    }
  });
});
