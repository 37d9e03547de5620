/*
 * The support desk: progressive enhancement only, every page works without it. No inline
 * script anywhere (strict CSP).
 *  - Select2 over the desk's own access-checked autocompletes (select[data-autocomplete-url]).
 *  - Queue: "select all", a count of the selection, and only the bulk field the action needs.
 *  - Workspace: the compose card shows which kind of message is being written.
 */
(function ($) {
  "use strict";
  var language = (document.documentElement.lang || "en").split("-")[0];

  // Autocompletes.
  if ($ && $.fn && $.fn.select2) {
    document.querySelectorAll("select[data-autocomplete-url]").forEach(function (select) {
      $(select).select2({
        theme: "bootstrap-5",
        width: "100%",
        language: language,
        placeholder: select.getAttribute("data-placeholder") || "",
        allowClear: select.getAttribute("data-allow-clear") === "true",
        ajax: {
          url: select.getAttribute("data-autocomplete-url"),
          dataType: "json",
          delay: 250,
          data: function (params) { return { term: params.term || "", page: params.page || 1 }; },
          processResults: function (data) {
            return { results: data.results, pagination: { more: data.more } };
          }
        }
      });
    });
  }

  // Bulk selection.
  var bulkForm = document.querySelector("form.js-bulk-form");
  if (bulkForm) {
    var rows = Array.prototype.slice.call(bulkForm.querySelectorAll("input.js-select-row"));
    var all = bulkForm.querySelector("input.js-select-all");
    var counter = bulkForm.querySelector(".js-selected-count");
    var word = counter ? counter.getAttribute("data-label") || "" : "";
    var update = function () {
      var chosen = rows.filter(function (row) { return row.checked; }).length;
      if (counter) { counter.textContent = chosen + " " + word; }
      if (all) {
        all.checked = chosen > 0 && chosen === rows.length;
        all.indeterminate = chosen > 0 && chosen < rows.length;
      }
    };
    if (all) {
      all.addEventListener("change", function () {
        rows.forEach(function (row) { row.checked = all.checked; });
        update();
      });
    }
    rows.forEach(function (row) { row.addEventListener("change", update); });
    update();

    var action = bulkForm.elements.action;
    var targets = bulkForm.querySelectorAll("[data-bulk-for]");
    var showTarget = function () {
      targets.forEach(function (target) {
        target.classList.toggle("is-hidden", !action || target.getAttribute("data-bulk-for") !== action.value);
      });
    };
    if (action) { action.addEventListener("change", showTarget); showTarget(); }
  }

  // Compose: reply or internal note.
  var compose = document.querySelector(".js-compose");
  if (compose) {
    var submit = compose.querySelector(".js-compose-submit");
    var kinds = compose.querySelectorAll("input.js-compose-kind");
    var showKind = function () {
      var chosen = compose.querySelector("input.js-compose-kind:checked");
      var value = chosen ? chosen.value : "";
      compose.classList.toggle("is-note", value === "internal_note");
      compose.classList.toggle("is-reply", value === "reply");
      if (submit) {
        var label = value === "internal_note" ? submit.getAttribute("data-label-note")
          : value === "reply" ? submit.getAttribute("data-label-reply") : null;
        if (label) { submit.textContent = label; }
        submit.classList.toggle("btn-warning", value === "internal_note");
        submit.classList.toggle("btn-primary", value !== "internal_note");
      }
    };
    kinds.forEach(function (input) { input.addEventListener("change", showKind); });
    showKind();
  }
})(window.jQuery);
