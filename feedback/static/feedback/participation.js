/* Progressive enhancement of the rating form: rate without leaving the page.
 * Without JavaScript (or on any unexpected answer) the form posts normally and
 * the server redirects back with its message. */
(function () {
  "use strict";
  if (!window.fetch || !window.JSON) {
    return;
  }
  document.querySelectorAll("form[data-rating-api]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var checked = form.querySelector('input[name="score"]:checked');
      var honeypot = form.querySelector('input[name="website"]');
      if (!checked || (honeypot && honeypot.value)) {
        return; // the server answers these (field message, or nothing stored)
      }
      event.preventDefault();
      var status = form.querySelector("[data-rating-status]");
      var district = form.querySelector('select[name="district"]');
      var body = {
        target_type: form.dataset.targetType,
        target_id: Number(form.dataset.targetId),
        score: Number(checked.value)
      };
      if (district && district.value) {
        body.district = Number(district.value);
      }
      // The resident cookie goes with the request; the browser's Origin header
      // shows it comes from this site (feedback/pipeline.py), so the form needs
      // no per-visitor token and its page can come from the shared cache. A
      // form that still carries a token sends it along.
      var token = form.querySelector('input[name="csrfmiddlewaretoken"]');
      var headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (token) {
        headers["X-CSRFToken"] = token.value;
      }
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      fetch(form.dataset.ratingApi, {
        method: "POST",
        credentials: "same-origin",
        headers: headers,
        body: JSON.stringify(body)
      })
        .then(function (response) {
          button.disabled = false;
          if (response.status === 201) {
            status.textContent = form.dataset.msgSaved.replace("{score}", String(body.score));
            var mine = document.querySelector("[data-me-rating]");
            if (mine) {
              mine.hidden = true; // the earlier score it showed is replaced
            }
          } else if (response.status === 429) {
            status.textContent = form.dataset.msgLimited;
          } else {
            form.submit();
          }
        })
        .catch(function () {
          button.disabled = false;
          form.submit();
        });
    });
  });
})();
