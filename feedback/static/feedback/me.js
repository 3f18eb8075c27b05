/* This visitor's own bits of a shared page: the new-reply badge, their score
 * of the page's item, their answers to the page's survey.
 *
 * Pages come from a cache shared by every visitor (indicators/cache.py), so
 * they hold none of this; /me/fragment/ (private, never stored) answers for
 * this visitor's cookie and this script puts it in the page's slots. Without
 * JavaScript the page works the same, minus these bits ("我的数据" has them). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var url = script.dataset.meUrl;

  function whenReady(run) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", run);
    } else {
      run();
    }
  }

  function showBadge(html) {
    var slot = document.querySelector("[data-me-badge]");
    if (slot && html) {
      slot.innerHTML = html;
      slot.hidden = false;
    }
  }

  function showRating(form, rating) {
    var slot = document.querySelector("[data-me-rating]");
    if (slot) {
      slot.textContent = rating.text;
      slot.hidden = false;
    }
    var radio = form.querySelector('input[name="score"][value="' + rating.score + '"]');
    if (radio && !form.querySelector('input[name="score"]:checked')) {
      radio.checked = true;
    }
  }

  function showSurvey(form, survey) {
    var notice = document.querySelector("[data-me-survey-notice]");
    if (notice) {
      notice.textContent = survey.notice;
      notice.hidden = false;
    }
    var button = form.querySelector("[data-me-survey-button]");
    if (button) {
      button.textContent = survey.button;
    }
    Object.keys(survey.fields).forEach(function (name) {
      var value = survey.fields[name] === null ? "" : String(survey.fields[name]);
      form.querySelectorAll('[name="' + name + '"]').forEach(function (field) {
        if (field.type === "radio") {
          field.checked = field.value === value;
        } else {
          field.value = value;
        }
      });
    });
  }

  whenReady(function () {
    var ratingForm = document.querySelector("form[data-rating-api]");
    var surveyForm = document.querySelector("form[data-me-survey]");
    var query = new URLSearchParams();
    if (ratingForm) {
      query.set("item", ratingForm.dataset.targetType + ":" + ratingForm.dataset.targetId);
    }
    if (surveyForm) {
      query.set("survey", surveyForm.dataset.meSurvey);
    }
    fetch(url + (query.toString() ? "?" + query.toString() : ""), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.ok ? response.json() : {};
      })
      .then(function (mine) {
        showBadge(mine.badge);
        if (ratingForm && mine.rating) {
          showRating(ratingForm, mine.rating);
        }
        if (surveyForm && mine.survey) {
          showSurvey(surveyForm, mine.survey);
        }
      })
      .catch(function () {
        // Nothing of this visitor's is shown; the page itself is complete.
      });
  });
})();
