// Follows a results file being prepared: asks the server how far it is every second and
// shows the download link when it is ready. Without JavaScript the page has a Refresh link.
(function () {
  "use strict";
  var box = document.getElementById("job");
  var progress = document.getElementById("job-progress");
  if (!box || !progress) { return; }
  var state = document.getElementById("job-state");
  var download = document.getElementById("job-download");
  var refresh = document.getElementById("job-refresh");
  if (refresh) { refresh.hidden = true; }
  var failures = 0;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) { return String(values[name]); });
  }

  function show(status) {
    if (status.state === "done") {
      state.textContent = box.dataset.textReady;
      progress.hidden = true;
      download.querySelector("a").setAttribute("href", status.download);
      download.hidden = false;
      return true;
    }
    if (status.state === "failed") {
      state.textContent = status.error;
      progress.hidden = true;
      return true;
    }
    if (status.state === "queued") {
      state.textContent = box.dataset.textQueued;
    } else if (status.total && status.done >= status.total) {
      state.textContent = box.dataset.textFinishing;
    } else if (status.total) {
      var percent = Math.floor((100 * status.done) / status.total);
      state.textContent = fill(box.dataset.textProgress, Object.assign({ percent: percent }, status));
    }
    progress.max = status.total || 1;
    progress.value = status.total ? status.done : 0;
    return false;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (status) {
        failures = 0;
        if (!show(status)) { window.setTimeout(poll, 1000); }
      })
      .catch(function () {
        failures += 1;
        if (failures >= 5) {
          state.textContent = box.dataset.textLost;
          if (refresh) { refresh.hidden = false; }
          return;
        }
        window.setTimeout(poll, 2000);
      });
  }

  window.setTimeout(poll, 500);
})();
