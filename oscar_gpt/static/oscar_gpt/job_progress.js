// Live progress for a generation job: polls the JSON endpoint while the job runs.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var bar = box.querySelector(".progress-bar");
  var summary = box.querySelector("[data-field=summary]");
  var status = box.querySelector("[data-field=status]");
  function update() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (p) {
        bar.style.width = p.percent + "%";
        bar.textContent = p.percent + "%";
        bar.setAttribute("aria-valuenow", p.percent);
        summary.textContent = p.done + " / " + p.total + " done, " + p.skipped + " skipped, " +
          p.failed + " failed · " + p.drafts + " drafts, " + p.flagged + " flagged";
        status.textContent = p.status;
        if (p.status === "queued" || p.status === "running") {
          window.setTimeout(update, 2000);
        } else {
          window.location.reload();  // the finished job's drafts and failures
        }
      })
      .catch(function () { window.setTimeout(update, 5000); });
  }
  if (box.dataset.status === "queued" || box.dataset.status === "running") {
    window.setTimeout(update, 2000);
  }
}());
