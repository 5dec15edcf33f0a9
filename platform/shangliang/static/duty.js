// The rota's assignment form: choosing another station puts the members paired with its grids
// first and shows their 结对 mark (the server drew the form for the station it was opened with).
document.querySelectorAll("[data-paired-picker]").forEach(function (form) {
  var select = form.querySelector("select[name=station_id]");
  var list = form.querySelector(".member-choices");
  if (!select || !list) { return; }
  var labels = Array.prototype.slice.call(list.querySelectorAll("label[data-paired-at]"));
  select.addEventListener("change", function () {
    var station = select.value;
    var paired = [], others = [];
    labels.forEach(function (label) {
      var here = label.getAttribute("data-paired-at").split(" ").indexOf(station) >= 0;
      label.querySelectorAll(".paired-mark").forEach(function (mark) {
        mark.hidden = mark.getAttribute("data-station") !== station;
      });
      (here ? paired : others).push(label);
    });
    var byRoster = function (a, b) { return a.getAttribute("data-order") - b.getAttribute("data-order"); };
    paired.sort(byRoster).concat(others.sort(byRoster)).forEach(function (label) { list.appendChild(label); });
  });
});
