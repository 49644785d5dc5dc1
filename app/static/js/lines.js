/* Lines of a document form: add/remove rows, preview amounts, suggest prices (the server recomputes everything). */
(function () {
  "use strict";
  var table = document.getElementById("doc-lines");
  if (!table) { return; }
  var body = table.tBodies[0];
  var form = table.closest("form") || document;
  var priceUrl = table.getAttribute("data-price-url");
  var totalCell = document.getElementById("doc-total");

  function num(v) {
    var n = parseFloat(String(v || "").replace(/,/g, ""));
    return isNaN(n) ? 0 : n;
  }
  function money(n) {
    return "¥" + n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function field(row, kind) { return row.querySelector(".line-" + kind); }
  function value(row, kind) { var el = field(row, kind); return el ? el.value : ""; }
  function promotionOf(row) { return row.querySelector("[name$='-promotion_id']"); }
  // what the server priced a suggested line from: its amount stands while these are unchanged
  function pricedFrom(row) { return [value(row, "qty"), value(row, "money"), value(row, "percent")].join("|"); }

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
      var cell = row.querySelector(".line-amount");
      if (!cell) { return; }  // a document without prices (stock): nothing to add up
      var qty = field(row, "qty") ? num(value(row, "qty")) : 1;  // lines without a quantity: the amount itself
      var price = num(value(row, "money")), disc = num(value(row, "percent"));
      var amount = Math.round(qty * price * (100 - disc)) / 100;
      // a promotion may price the line exactly (buy N get M): the server's amount while nothing changed
      if (row.dataset.serverAmount && row.dataset.pricedFrom === pricedFrom(row)) {
        amount = num(row.dataset.serverAmount);
      }
      total += amount;
      cell.textContent = qty && price ? money(amount) : "";
    });
    if (totalCell) { totalCell.textContent = money(total); }
  }

  function suggest(row) {
    var product = field(row, "product"), price = field(row, "money");
    if (!priceUrl || !product || !product.value || !price || price.dataset.touched) { return; }
    var customer = document.getElementById("end_customer"), day = document.getElementById("doc_date");
    var url = priceUrl + "?product=" + encodeURIComponent(product.value) +
      "&qty=" + encodeURIComponent(value(row, "qty")) +
      "&end_customer=" + encodeURIComponent(customer ? customer.value : "") +
      "&date=" + encodeURIComponent(day ? day.value : "");
    // only the latest request of a row counts: an earlier answer arriving late must not overwrite it
    var ticket = String(Number(row.dataset.ticket || 0) + 1);
    row.dataset.ticket = ticket;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.price || row.dataset.ticket !== ticket || !row.parentNode) { return; }
        if (price.dataset.touched) { return; }  // typed in while the answer was on its way
        price.value = data.price;
        var disc = field(row, "percent"), promo = promotionOf(row);
        // a promotion brings its discount and is named on the line, unless the discount was typed in by hand
        var withPromotion = Boolean(data.promotion_id) && !(disc && disc.dataset.touched);
        if (disc && !disc.dataset.touched && (withPromotion || disc.dataset.suggested)) {
          disc.value = withPromotion ? data.discount : "";
          disc.dataset.suggested = withPromotion ? "1" : "";
        }
        if (promo) { promo.value = withPromotion ? String(data.promotion_id) : ""; }
        if (withPromotion) {
          row.dataset.serverAmount = data.amount;
          row.dataset.pricedFrom = pricedFrom(row);
        } else {
          delete row.dataset.serverAmount;
        }
        recalc();
      })
      .catch(function () { /* no suggestion: the user types the price, or the server fills a blank one */ });
  }
  function suggestAll() {
    Array.prototype.forEach.call(body.rows, suggest);
  }

  body.addEventListener("input", function (e) {
    var el = e.target;
    if (el.classList.contains("line-money") || el.classList.contains("line-percent")) {
      // a price or discount typed in prices the line by hand: no promotion decides it any more
      el.dataset.touched = "1";
      var row = el.closest("tr"), promo = promotionOf(row);
      if (promo && promo.value) { promo.value = ""; }
      delete row.dataset.serverAmount;
    }
    recalc();
  });
  body.addEventListener("change", function (e) {
    var row = e.target.closest("tr"), qty = field(row, "qty");
    // a product just chosen counts once until a quantity is typed (the price may depend on the quantity)
    if (e.target.classList.contains("line-product") && e.target.value && qty && !qty.value.trim()) { qty.value = "1"; }
    if (e.target.classList.contains("line-product") || e.target.classList.contains("line-qty")) { suggest(row); }
    recalc();
  });
  // the customer or the date decide price lists and promotions: suggested prices follow them
  form.addEventListener("change", function (e) {
    if (e.target.id === "end_customer") { suggestAll(); }
  });
  // the date picker announces a picked date as a jQuery event only (a typed date reaches jQuery too)
  if (window.jQuery) { window.jQuery(form).on("change", "#doc_date", suggestAll); }
  body.addEventListener("click", function (e) {
    var btn = e.target.closest(".line-remove");
    if (!btn) { return; }
    var row = btn.closest("tr");
    if (body.rows.length > 1) { row.remove(); } else {
      clearRow(row);
      if (window.AppPickers) { window.AppPickers.refresh(row); }
    }
    renumber(); recalc();
  });
  function clearRow(row) {
    Array.prototype.forEach.call(row.querySelectorAll("input, select"), function (el) {
      el.value = "";
      delete el.dataset.touched;
      delete el.dataset.suggested;
    });
    ["ticket", "serverAmount", "pricedFrom"].forEach(function (key) { delete row.dataset[key]; });
    var cell = row.querySelector(".line-amount");
    if (cell) { cell.textContent = ""; }
  }
  document.getElementById("line-add").addEventListener("click", function () {
    var row = body.rows[body.rows.length - 1].cloneNode(true);
    clearRow(row);
    body.appendChild(row);
    // the product picker of the copied row is a copy of the other row's Select2: give the new row its own
    if (window.AppPickers) { window.AppPickers.adoptClone(row); }
    renumber(); recalc();
  });
  Array.prototype.forEach.call(body.querySelectorAll(".line-money, .line-percent"), function (el) {
    if (el.value) { el.dataset.touched = "1"; }  // a price or discount already entered is never overwritten
  });
  recalc();
}());
