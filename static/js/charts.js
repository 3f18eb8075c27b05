/*
 * Draws the charts of the public site with the vendored Chart.js.
 *
 * Each chart is a <canvas data-chart="ID"> whose data sits in
 * <script type="application/json" id="ID"> (Django's json_script):
 *   {"type": "line"|"bar", "label": "...", "labels": [...], "values": [...]}
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
          y: { beginAtZero: isBar, grid: { color: grid } },
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
