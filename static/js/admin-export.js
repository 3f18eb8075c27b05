/*
 * The admin's export page (templates/admin/import_export/export.html): binds the
 * "select all" box to django-import-export's own handler, which the stock template
 * attaches with an inline onchange attribute that the Content-Security-Policy refuses.
 */
(function () {
  "use strict";
  function bind() {
    if (typeof window.onSelectToggleChange !== "function") {
      return;
    }
    document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
      toggle.addEventListener("change", window.onSelectToggleChange);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
})();
