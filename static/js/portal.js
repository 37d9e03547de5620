/* Progressive enhancement only: every page works without it. No inline script (strict CSP). */
(function () {
  "use strict";
  document.documentElement.classList.add("js-enabled");
  document.body.classList.add("js-enabled");

  // Selects that submit their form on change (language switcher, list filters).
  document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) { select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit(); }
    });
  });
})();
