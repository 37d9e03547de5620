/*
 * The ticket form (tickets/new/): Select2 over the project's own access-checked autocompletes
 * (data-autocomplete-url), and a machine list that follows the chosen address
 * (data-depends-on="address"). Progressive enhancement only: without this file the form works
 * with plain <select>s holding the user's choices. No inline script anywhere (strict CSP).
 */
(function ($) {
  "use strict";
  if (!$ || !$.fn || !$.fn.select2) { return; }
  var form = document.querySelector("form.js-ticket-form");
  if (!form) { return; }
  var language = (document.documentElement.lang || "en").split("-")[0];

  function valueOf(name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }

  form.querySelectorAll("select[data-autocomplete-url]").forEach(function (select) {
    var $select = $(select);
    var dependsOn = select.getAttribute("data-depends-on");
    // Keep the dropdown inside the field's (positioned) wrapper: attached to <body>, portal.css's
    // `.select2-container { width: 100% !important }` makes it as wide as the whole page.
    var $wrapper = $select.parent().addClass("position-relative");
    $select.select2({
      theme: "bootstrap-5",
      width: "100%",
      language: language,
      placeholder: select.getAttribute("data-placeholder") || "",
      allowClear: select.getAttribute("data-allow-clear") === "true",
      dropdownParent: $wrapper,
      ajax: {
        url: select.getAttribute("data-autocomplete-url"),
        dataType: "json",
        delay: 250,
        data: function (params) {
          var query = { term: params.term || "", page: params.page || 1 };
          if (dependsOn) { query[dependsOn] = valueOf(dependsOn); }
          return query;
        },
        processResults: function (data) {
          return { results: data.results, pagination: { more: data.more } };
        }
      }
    });

    if (dependsOn && form.elements[dependsOn]) {
      var parent = form.elements[dependsOn];
      var sync = function (clear) {
        if (clear) { $select.val(null).trigger("change"); }
        // A machine is chosen for an address: without one there is nothing to offer.
        $select.prop("disabled", !parent.value);
      };
      $(parent).on("change", function () { sync(true); });
      sync(false);
    }
  });
})(window.jQuery);
