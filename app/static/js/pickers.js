/* Pickers (app/core/pickers.py): a <select class="app-picker" data-picker-url> holds only the chosen option;
   Select2 searches the server 20 rows at a time. Without JavaScript the chosen option is still posted. */
(function ($) {
  "use strict";
  if (!$ || !$.fn.select2) { return; }
  var script = document.currentScript;
  function text(name, fallback) { return (script && script.getAttribute("data-" + name)) || fallback; }
  var texts = {
    placeholder: text("placeholder", "Type a keyword to search"),
    noResults: text("no-results", "No results"),
    loading: text("loading", "Loading…"),
    error: text("error", "The results could not be loaded.")
  };
  var language = {
    noResults: function () { return texts.noResults; },
    searching: function () { return texts.loading; },
    loadingMore: function () { return texts.loading; },
    errorLoading: function () { return texts.error; }
  };

  function init(select) {
    var $select = $(select);
    if ($select.hasClass("select2-hidden-accessible")) { return; }  // already a picker
    $select.select2({
      theme: "bootstrap",
      width: "100%",
      placeholder: texts.placeholder,
      allowClear: !select.required,
      language: language,
      ajax: {
        url: select.getAttribute("data-picker-url"),
        dataType: "json",
        delay: 250,
        cache: true,
        data: function (params) { return { q: params.term || "", page: params.page || 1 }; }
      }
    });
    // Select2 announces a choice as a jQuery event, which listeners added with addEventListener (lines.js:
    // price suggestion) never see: pass it on as a native one (jQuery's own events carry no originalEvent)
    $select.on("change", function (e) {
      if (!e.originalEvent) { select.dispatchEvent(new Event("change", { bubbles: true })); }
    });
  }

  function initAll(root) {
    $(root).find("select.app-picker[data-picker-url]").each(function () { init(this); });
  }

  /* A row cloned from one with pickers carries the original's Select2 markup and ids (Select2 keys its instances
     by data-select2-id): strip them, empty the choice, and start a picker of its own. */
  function adoptClone(root) {
    $(root).find(".select2-container").remove();
    $(root).find("select.app-picker").each(function () {
      var select = this;
      [select].concat(Array.prototype.slice.call(select.options)).forEach(function (el) {
        el.removeAttribute("data-select2-id");
      });
      select.classList.remove("select2-hidden-accessible");
      select.removeAttribute("aria-hidden");
      select.removeAttribute("tabindex");
      $(select).find("option").filter(function () { return this.value !== ""; }).remove();
      select.value = "";
      init(select);
    });
  }

  /* After a script emptied the selects of a row: show them empty. */
  function refresh(root) {
    $(root).find("select.app-picker").each(function () {
      if (!this.value) { $(this).find("option").filter(function () { return this.value !== ""; }).remove(); }
      $(this).trigger("change.select2");
    });
  }

  window.AppPickers = { init: init, initAll: initAll, adoptClone: adoptClone, refresh: refresh };
  $(function () {
    initAll(document);
    // selects that other scripts add later (the list's "Add Filter" copies the filter's select into the page)
    if (window.MutationObserver) {
      new MutationObserver(function (records) {
        records.forEach(function (record) {
          Array.prototype.forEach.call(record.addedNodes, function (node) {
            if (node.nodeType !== 1) { return; }
            if (node.matches("select.app-picker[data-picker-url]")) { init(node); } else { initAll(node); }
          });
        });
      }).observe(document.body, { childList: true, subtree: true });
    }
  });
}(window.jQuery));
