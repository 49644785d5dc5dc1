/* Lines of a document form: add/remove rows, preview amounts, suggest prices (the server recomputes everything). */
(function () {
  "use strict";
  var table = document.getElementById("doc-lines");
  if (!table) { return; }
  var body = table.tBodies[0];
  var priceUrl = table.getAttribute("data-price-url");

  function num(v) {
    var n = parseFloat(String(v || "").replace(/,/g, ""));
    return isNaN(n) ? 0 : n;
  }
  function money(n) {
    return "¥" + n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function field(row, kind) { return row.querySelector(".line-" + kind); }

  function renumber() {
    Array.prototype.forEach.call(body.rows, function (row, i) {
      row.querySelector(".line-no").textContent = i + 1;
      Array.prototype.forEach.call(row.querySelectorAll("[name^='lines-']"), function (el) {
        el.name = el.name.replace(/^lines-\d+-/, "lines-" + i + "-");
      });
    });
  }
  function recalc() {
    var total = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var qty = field(row, "qty") ? num(field(row, "qty").value) : 1;  // lines without a quantity: the amount itself
      var price = num(field(row, "money") && field(row, "money").value);
      var disc = num(field(row, "percent") && field(row, "percent").value);
      var amount = Math.round(qty * price * (100 - disc)) / 100;
      total += amount;
      row.querySelector(".line-amount").textContent = qty && price ? money(amount) : "";
    });
    document.getElementById("doc-total").textContent = money(total);
  }
  function suggest(row) {
    var product = field(row, "product"), qty = field(row, "qty"), price = field(row, "money");
    if (!priceUrl || !product || !product.value || !price || price.dataset.touched) { return; }
    var customer = document.getElementById("end_customer"), day = document.getElementById("doc_date");
    var url = priceUrl + "?product=" + encodeURIComponent(product.value) +
      "&qty=" + encodeURIComponent(qty ? qty.value : "") +
      "&end_customer=" + encodeURIComponent(customer ? customer.value : "") +
      "&date=" + encodeURIComponent(day ? day.value : "");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.price) { return; }
        price.value = data.price;
        // a promotion brings its discount and is named on the line; without one, a suggested discount is undone
        var disc = field(row, "percent"), promo = row.querySelector("[name$='-promotion_id']");
        if (disc && (data.promotion_id || disc.dataset.suggested)) {
          disc.value = data.promotion_id ? data.discount : "";
          disc.dataset.suggested = data.promotion_id ? "1" : "";
        }
        if (promo) { promo.value = data.promotion_id ? String(data.promotion_id) : ""; }
        recalc();
      });
  }

  body.addEventListener("input", function (e) {
    if (e.target.classList.contains("line-money")) { e.target.dataset.touched = "1"; }
    recalc();
  });
  body.addEventListener("change", function (e) {
    var row = e.target.closest("tr");
    if (e.target.classList.contains("line-product") || e.target.classList.contains("line-qty")) { suggest(row); }
    recalc();
  });
  body.addEventListener("click", function (e) {
    var btn = e.target.closest(".line-remove");
    if (!btn) { return; }
    if (body.rows.length > 1) { btn.closest("tr").remove(); } else {
      Array.prototype.forEach.call(btn.closest("tr").querySelectorAll("input, select"), function (el) { el.value = ""; });
      if (window.AppPickers) { window.AppPickers.refresh(btn.closest("tr")); }
    }
    renumber(); recalc();
  });
  document.getElementById("line-add").addEventListener("click", function () {
    var row = body.rows[body.rows.length - 1].cloneNode(true);
    Array.prototype.forEach.call(row.querySelectorAll("input, select"), function (el) {
      el.value = ""; delete el.dataset.touched;
    });
    body.appendChild(row);
    // the product picker of the copied row is a copy of the other row's Select2: give the new row its own
    if (window.AppPickers) { window.AppPickers.adoptClone(row); }
    renumber(); recalc();
  });
  Array.prototype.forEach.call(body.querySelectorAll(".line-money"), function (el) {
    if (el.value) { el.dataset.touched = "1"; }  // a price already entered is never overwritten
  });
  recalc();
}());
