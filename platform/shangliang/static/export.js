// 数据导出: while an export is queued or running, poll its status every 2 s and move its
// progress bar; reload the page once it has finished (to show the download link).
(function () {
  "use strict";
  var rows = document.querySelectorAll("tr[data-status-url]");
  if (!rows.length) { return; }
  function poll(row) {
    fetch(row.getAttribute("data-status-url"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
        var bar = row.querySelector("progress");
        if (bar) { bar.value = s.percent; bar.textContent = s.percent + "%"; }
        var pct = row.querySelector("[data-percent]");
        if (pct) { pct.textContent = s.percent + "%"; }
        var items = row.querySelector("[data-items]");
        if (items) { items.textContent = s.done_items + " / " + s.total_items; }
        var label = row.querySelector("[data-label]");
        if (label) { label.textContent = s.label; }
        window.setTimeout(function () { poll(row); }, 2000);
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, 2000); });
  }
  rows.forEach(function (row) { window.setTimeout(function () { poll(row); }, 2000); });
})();
