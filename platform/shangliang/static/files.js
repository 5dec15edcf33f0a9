// Photos and attachments (templates/files/_gallery.html): the file goes from the browser straight
// to storage with a signed form, never through the web server. Then the server is told it is
// there, and the page reloads once the background check has passed (or shows why it failed).
(function () {
  "use strict";
  if (window.shangliangFiles) { return; }  // a page with several galleries includes this once per gallery
  window.shangliangFiles = true;

  function postJSON(url, body, csrf) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
                       body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) { throw new Error((data.error && data.error.message) || r.statusText); }
          return data;
        });
      });
  }

  function storageError(xhr, fallback) {
    try { return JSON.parse(xhr.responseText).error.message; } catch (e) { /* S3 answers in XML */ }
    var m = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
    return m ? m[1] : fallback;
  }

  function send(form, file, line, box) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(form.fields).forEach(function (k) { data.append(k, form.fields[k]); });
      data.append("file", file);  // last: S3 ignores fields after the file
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.url);
      xhr.withCredentials = false;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { line.bar.value = Math.round(100 * e.loaded / e.total); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) { resolve(); }
        else { reject(new Error(storageError(xhr, box.getAttribute("data-msg-failed")))); }
      });
      xhr.addEventListener("error", function () { reject(new Error(box.getAttribute("data-msg-storage"))); });
      xhr.send(data);
    });
  }

  // Reload once every file in flight has finished, so that one quick file does not cut off the others.
  var inFlight = 0, changed = false;
  function finished(didChange) {
    inFlight -= 1;
    changed = changed || didChange;
    if (inFlight === 0 && changed) { window.location.reload(); }
  }

  // A phone photo is usually checked within a second: ask soon, then less and less often.
  function watch(url, onFail, wait) {
    var next = Math.min((wait || 250) * 1.6, 3000);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && s.status === "ready") { finished(true); return; }
        if (s && s.status === "refused") {
          if (onFail) { onFail(s.error || s.label); finished(false); } else { finished(true); }
          return;
        }
        window.setTimeout(function () { watch(url, onFail, next); }, next);
      })
      .catch(function () { window.setTimeout(function () { watch(url, onFail, 3000); }, 3000); });
  }

  function addLine(box, name) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    label.textContent = name + " · " + box.getAttribute("data-msg-uploading");
    li.appendChild(label); li.appendChild(bar);
    box.querySelector(".upload-progress").appendChild(li);
    return {li: li, label: label, bar: bar, name: name};
  }

  function fail(line, message) {
    line.li.className = "error";
    line.label.textContent = line.name + " · " + message;
    line.bar.remove();
  }

  function upload(box, file) {
    var line = addLine(box, file.name);
    inFlight += 1;
    var csrf = box.getAttribute("data-csrf");
    var evidence = box.querySelector("[data-as-evidence]");  // a topic's step: count it as evidence once checked
    postJSON(box.getAttribute("data-upload-url"), {
      owner_kind: box.getAttribute("data-owner-kind"), owner_id: box.getAttribute("data-owner-id"),
      filename: file.name, size: file.size, content_type: file.type, as_evidence: !!(evidence && evidence.checked)
    }, csrf)
      .then(function (att) {
        return send(att.form, file, line, box)
          .then(function () { return postJSON(att.complete_url, {}, csrf); })
          .then(function (done) {
            line.label.textContent = file.name + " · " + box.getAttribute("data-msg-checking");
            line.bar.removeAttribute("value");
            watch(done.status_url, function (message) { fail(line, message); });
          });
      })
      .catch(function (err) { fail(line, err.message); finished(false); });
  }

  document.querySelectorAll("[data-upload]").forEach(function (box) {
    var input = box.querySelector("input[type=file]");
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (f) { upload(box, f); });
      input.value = "";
    });
    box.setAttribute("data-ready", "");  // files chosen from now on are uploaded (tests wait for it)
  });
  // Files already being checked when the page was drawn: reload when their check ends.
  document.querySelectorAll(".gallery-item[data-status-url]").forEach(function (item) {
    inFlight += 1;
    watch(item.getAttribute("data-status-url"));
  });
})();
