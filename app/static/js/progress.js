/* Progress of long exports and imports.

   Exports (a[data-download], and the "Export to Excel" bulk action): the browser downloads the file itself, which
   a page cannot watch, so the link sends a token (_dl=…) and the server answers with a cookie named after it
   (app/core/views.py download_handshake); the button stays busy until that cookie arrives.
   Imports (form[data-progress]): the page is replaced by the answer, so the button stays busy until then. */
(function () {
  "use strict";
  var script = document.currentScript;
  function text(name, fallback) { return (script && script.getAttribute("data-" + name)) || fallback; }
  var texts = { exporting: text("exporting", "Exporting…"), importing: text("importing", "Importing, please wait…") };
  var POLL_MS = 400, GIVE_UP_MS = 30 * 60 * 1000;
  var status = null, running = 0;

  function showStatus(message) {
    if (!status) {
      status = document.createElement("div");
      status.id = "app-progress";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.innerHTML = '<i class="fa fa-spinner fa-spin" aria-hidden="true"></i> ';
    status.appendChild(document.createTextNode(message));
    status.hidden = false;
    running += 1;
  }
  function hideStatus() {
    running = Math.max(0, running - 1);
    if (status && !running) { status.hidden = true; }
  }

  function busy(el, message) {
    el.dataset.busy = "1";
    el.dataset.idleHtml = el.innerHTML;
    el.classList.add("disabled", "is-busy");
    el.setAttribute("aria-disabled", "true");
    el.innerHTML = '<i class="fa fa-spinner fa-spin" aria-hidden="true"></i> ';
    el.appendChild(document.createTextNode(message));
    if (el.tagName === "BUTTON" || el.tagName === "INPUT") {
      // after the form's data is taken: a disabled button would not be posted
      window.setTimeout(function () { el.disabled = true; }, 0);
    }
  }
  function idle(el) {
    if (!el.dataset.busy) { return; }
    el.innerHTML = el.dataset.idleHtml;
    delete el.dataset.busy;
    delete el.dataset.idleHtml;
    el.classList.remove("disabled", "is-busy");
    el.removeAttribute("aria-disabled");
    if (el.tagName === "BUTTON" || el.tagName === "INPUT") { el.disabled = false; }
  }

  function newToken() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12).replace(/[^a-z0-9]/g, "");
  }
  function hasCookie(name) {
    return document.cookie.split(";").some(function (part) { return part.trim().indexOf(name + "=") === 0; });
  }
  /* Calls done() once the server has answered the request that carried the token (or after GIVE_UP_MS). */
  function whenAnswered(token, done) {
    var name = "dl_" + token, started = Date.now();
    var timer = window.setInterval(function () {
      var answered = hasCookie(name);
      if (answered || Date.now() - started > GIVE_UP_MS) {
        window.clearInterval(timer);
        if (answered) { document.cookie = name + "=; Max-Age=0; Path=/; SameSite=Lax"; }
        done();
      }
    }, POLL_MS);
  }

  function withToken(href, token) {
    var url = new URL(href, window.location.href);
    url.searchParams.set("_dl", token);
    return url.href;
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[data-download]") : null;
    if (!link || e.defaultPrevented) { return; }
    if (link.dataset.busy) { e.preventDefault(); return; }  // one export at a time per button
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) { return; }  // opened elsewhere
    var token = newToken();
    link.href = withToken(link.href, token);  // read by the browser after this handler
    var message = link.getAttribute("data-download") || texts.exporting;
    busy(link, message);
    showStatus(message);
    whenAnswered(token, function () { idle(link); hideStatus(); });
  });

  function onSubmit(e) {
    var form = e.target;
    if (e.isDefaultPrevented ? e.isDefaultPrevented() : e.defaultPrevented) { return; }
    // FAB's bulk actions post one hidden form; only the Excel export of the selected rows is a download
    var action = form.querySelector ? form.querySelector("input[name='action']") : null;
    if (form.id === "action_form" && action && action.value === "export_selected") {
      var token = newToken(), input = form.querySelector("input[name='_dl']");
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = "_dl";
        form.appendChild(input);
      }
      input.value = token;
      showStatus(texts.exporting);
      whenAnswered(token, hideStatus);
      return;
    }
    if (!form.hasAttribute || !form.hasAttribute("data-progress")) { return; }
    if (form.dataset.busy) { e.preventDefault(); return; }  // a second click would post the file again
    form.dataset.busy = "1";
    var message = form.getAttribute("data-progress") || texts.importing;
    Array.prototype.forEach.call(form.querySelectorAll("button[type='submit'], input[type='submit']"), function (b) {
      busy(b, message);
    });
    showStatus(message);
  }
  // FAB submits its action form through jQuery, which only jQuery's own handlers see
  if (window.jQuery) { window.jQuery(document).on("submit", "form", onSubmit); } else {
    document.addEventListener("submit", onSubmit);
  }

  // back to a page kept in the browser's cache: nothing is running any more
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-busy]"), function (el) {
      if (el.tagName === "FORM") { delete el.dataset.busy; } else { idle(el); }
    });
    running = 0;
    if (status) { status.hidden = true; }
  });
}());
