/*
 * Draws the accountability chart from the table on the page (no inline script:
 * the strict Content-Security-Policy allows only static files). The table
 * stays the source and works without JavaScript; cells carry their figure
 * in data-value ("" when withheld below the minimum).
 *
 * A bar chart cannot tell a withheld rate from 0 %: a queue with no rate shown
 * would read as a queue that answered nothing. So only the queues with at least
 * one rate are charted (a note under the chart says the others are in the
 * table), and with none the chart is not drawn at all. A charted queue may still
 * have a rate withheld: where its bar would stand, the table's own words for it
 * (件数不足) are written upright when the bar is wide enough to hold them, and a
 * note under the chart says a missing bar is not 0 %.
 */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  function init() {
    var table = document.querySelector("table[data-chart-source]");
    if (!table) {
      return;
    }
    var canvas = document.getElementById(table.getAttribute("data-chart-source"));
    if (!canvas) {
      return;
    }
    var fields = ["response", "resolution", "satisfaction"];
    var colours = ["#b0301f", "#1f5fa8", "#2f7d32"];
    var names = Array.prototype.map.call(table.querySelectorAll("thead th[data-series]"), function (th) {
      return th.textContent.trim();
    });
    var rows = table.querySelectorAll("tbody tr");
    var labels = [];
    var series = fields.map(function () {
      return [];
    });
    Array.prototype.forEach.call(rows, function (row) {
      var values = fields.map(function (field) {
        var cell = row.querySelector('[data-field="' + field + '"]');
        var value = cell ? cell.getAttribute("data-value") : "";
        return value === "" || value === null ? null : parseFloat(value);
      });
      var rated = values.some(function (value) {
        return value !== null;
      });
      if (!rated) {
        return;
      }
      labels.push(row.querySelector("th").textContent.trim());
      values.forEach(function (value, i) {
        series[i].push(value);
      });
    });
    if (!labels.length) {
      return;
    }
    var wrapper = canvas.closest("[data-chart-wrapper]");
    if (wrapper) {
      wrapper.hidden = false;
    }
    var note = document.querySelector("[data-chart-note]");
    if (note && labels.length < rows.length) {
      note.hidden = false;
    }
    var gaps = series.some(function (values) {
      return values.indexOf(null) !== -1;
    });
    var gapNote = document.querySelector("[data-chart-gap-note]");
    if (gapNote && gaps) {
      gapNote.hidden = false;
    }
    var withheld = table.querySelector(".no-figure");
    var withheldWords = withheld ? withheld.textContent.trim() : "";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: fields.map(function (field, i) {
          // A bar as wide as a few queues' would be, however few are charted.
          return { label: names[i], data: series[i], backgroundColor: colours[i], maxBarThickness: 40 };
        }),
      },
      plugins: [
        {
          id: "withheldRates",
          afterDatasetsDraw: function (chart) {
            if (withheldWords) {
              markWithheld(chart, withheldWords);
            }
          },
        },
      ],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        // Every queue named under its bars: Chart.js would drop every other name on a phone
        // (autoSkip), leaving bars a reader cannot tell apart; it turns them upright instead.
        scales: {
          x: { ticks: { autoSkip: false, maxRotation: 90 } },
          y: { beginAtZero: true, max: 100 },
        },
      },
    });
  }
  // The words upright from the axis, in the series' colour, where each withheld bar would
  // stand; left out where the bar is too narrow to hold them legibly (a phone's 17 queues).
  function markWithheld(chart, words) {
    var ctx = chart.ctx;
    var base = chart.scales.y.getPixelForValue(0);
    chart.data.datasets.forEach(function (dataset, i) {
      if (!chart.isDatasetVisible(i)) {
        return;
      }
      chart.getDatasetMeta(i).data.forEach(function (bar, j) {
        var size = Math.min(12, Math.floor(bar.width));
        if (dataset.data[j] !== null || !(size >= 9)) {
          return;
        }
        ctx.save();
        ctx.font = size + "px " + window.Chart.defaults.font.family;
        ctx.fillStyle = dataset.backgroundColor;
        ctx.textAlign = "left";
        ctx.textBaseline = "middle";
        ctx.translate(bar.x, base - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.fillText(words, 0, 0);
        ctx.restore();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
