/* List totals (app/core/views.py totals_json): the page shows at once, the sums over every filtered row follow. */
(function () {
  "use strict";
  var box = document.getElementById("list-totals");
  if (!box || !window.fetch) { return; }
  fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !data.totals) { return; }
      Array.prototype.forEach.call(box.querySelectorAll("[data-total]"), function (el) {
        var value = data.totals[el.getAttribute("data-total")];
        if (value !== undefined) { el.textContent = value; }
      });
    });
}());
