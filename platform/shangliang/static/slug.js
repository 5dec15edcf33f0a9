// The 标识 of a new street (or county) suggested from its name while the name is typed, as long as
// nobody has typed a 标识 by hand. Without scripts the server suggests it when the form is sent
// with the 标识 empty (console/views.py).
(function () {
  var name = document.getElementById("name"), slug = document.getElementById("slug");
  if (!name || !slug || !slug.dataset.suggest || !window.fetch) return;
  var touched = slug.value !== "", timer = null, asked = 0;
  slug.addEventListener("input", function () { touched = slug.value !== ""; });
  name.addEventListener("input", function () {
    if (touched) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var mine = ++asked, value = name.value.trim();
      if (!value) { slug.value = ""; return; }
      fetch(slug.dataset.suggest + "?name=" + encodeURIComponent(value),
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && mine === asked && !touched) slug.value = data.slug;  // only the latest answer
        })
        .catch(function () {});  // no suggestion: the 标识 is typed, or suggested on sending
    }, 250);
  });
})();
