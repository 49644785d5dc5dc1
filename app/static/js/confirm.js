/* Confirmation before destructive actions: a link, button or form carrying data-confirm="…" asks that question
   first and does nothing unless the user agrees. (FAB's own delete links and bulk actions keep FAB's dialog, whose
   scripts carry the CSP nonce.) Listening on the document in the capture phase answers before any other handler. */
(function () {
  "use strict";
  var CONTROLS = "a[data-confirm], button[data-confirm], input[type='submit'][data-confirm], input[type='button'][data-confirm]";

  function agreed(el) {
    var question = el.getAttribute("data-confirm");
    return !question || window.confirm(question);
  }
  function refuse(e) {
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest(CONTROLS) : null;
    if (!el || el.disabled || el.classList.contains("disabled")) { return; }
    if (!agreed(el)) { refuse(e); }
  }, true);

  // a form asking for itself (pressing Enter, or a button without a question of its own)
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm")) { return; }
    if (e.submitter && e.submitter.hasAttribute("data-confirm")) { return; }  // already asked on its click
    if (!agreed(form)) { refuse(e); }
  }, true);
}());
