/*
 * Draws the charts of the public site with the vendored Chart.js.
 *
 * Each chart is a <canvas data-chart="ID"> whose data sits in
 * <script type="application/json" id="ID"> (Django's json_script):
 *   {"type": "line"|"bar", "label": "...", "labels": [...], "values": [...]}
 * ("counts": true when the values are counts: the axis starts at 0 and has whole steps only)
 * or, for residents' satisfaction with its interval (a chapter's items):
 *   {"type": "interval", "label": "...", "interval_label": "...", "labels": [...],
 *    "values": [means], "low": [...], "high": [...], "min": 1, "max": 5}
 * The same points are always in an HTML table next to it, so the page reads
 * fine without JavaScript; the chart's wrapper stays hidden until drawn.
 */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var ink = "#1f2933";
  var accent = "#b0301f";
  var grid = "#d9dde3";
  var fontFamily =
    'system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif';

  window.Chart.defaults.font.family = fontFamily;
  window.Chart.defaults.font.size = 14;
  window.Chart.defaults.color = ink;

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    var wrapper = canvas.closest("[data-chart-wrapper]");
    if (wrapper) {
      wrapper.hidden = false;
    }
    if (data.type === "interval") {
      drawInterval(canvas, wrapper, data);
      return;
    }
    var isBar = data.type === "bar";
    new window.Chart(canvas, {
      type: isBar ? "bar" : "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: data.label,
            data: data.values,
            borderColor: accent,
            backgroundColor: isBar ? "rgba(176, 48, 31, 0.75)" : accent,
            borderWidth: 2,
            pointRadius: 4,
            tension: 0,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: {
          x: { grid: { display: false } },
          y: {
            beginAtZero: isBar || data.counts === true,
            grid: { color: grid },
            ticks: data.counts === true ? { precision: 0 } : {},
          },
        },
      },
    });
  }

  // One row per item: the 95 % interval as a floating bar, the mean as a point on it.
  function drawInterval(canvas, wrapper, data) {
    if (wrapper) {
      // CSSOM, not a style attribute: allowed by the strict CSP.
      wrapper.style.height = Math.max(12, 3 + data.labels.length * 2.4) + "rem";
    }
    var ranges = [];
    for (var i = 0; i < data.values.length; i += 1) {
      ranges.push(data.low[i] === null ? null : [data.low[i], data.high[i]]);
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "line",
            label: data.label,
            data: data.values,
            showLine: false,
            pointRadius: 6,
            pointHoverRadius: 7,
            pointStyle: "rectRot",
            borderColor: ink,
            backgroundColor: ink,
          },
          {
            type: "bar",
            label: data.interval_label,
            data: ranges,
            backgroundColor: "rgba(176, 48, 31, 0.35)",
            borderColor: accent,
            borderWidth: 1,
            barPercentage: 0.5,
          },
        ],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: true, position: "bottom" }, tooltip: { enabled: true } },
        scales: {
          x: { min: data.min, max: data.max, ticks: { stepSize: 1 }, grid: { color: grid } },
          y: {
            grid: { display: false },
            // On a phone the names would take the plot's width (and Chart.js clips their start):
            // shortened there; the table under the chart has them whole.
            ticks: {
              callback: function (value) {
                var name = this.getLabelForValue(value);
                return canvas.clientWidth < 480 && name.length > 9 ? name.slice(0, 8) + "…" : name;
              },
            },
          },
        },
      },
    });
  }

  function init() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i += 1) {
      draw(canvases[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
