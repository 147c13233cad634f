// Draws the dashboard's charts from the JSON the server put in #chart-data; redraws them
// whenever htmx swaps the dashboard body (filters, recompute). Without Chart.js the tables
// under each chart still carry every number.
(function () {
  "use strict";
  var charts = [];
  window.dashboardRenders = 0;
  var PHASE = { assess: "#64748b", initiate: "#0e9f8e", plan: "#d29a00", execute: "#e46a1b", close_out: "#7c5cd6" };
  var PALETTE = ["#5e6ad2", "#0e9f8e", "#e46a1b", "#7c5cd6", "#d29a00", "#c53030", "#64748b"];

  function fmt(format, v) {
    if (v === null || v === undefined) return "—";
    if (format === "rate") return Math.round(v * 100) + "%";
    if (format === "days") return v.toFixed(1) + " d";
    if (format === "score") return v.toFixed(2);
    if (format === "nps") return (v >= 0 ? "+" : "") + Math.round(v);
    if (format === "money") {
      if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
      if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(0) + "k";
      return Math.round(v).toString();
    }
    return v.toFixed(2);
  }

  function colourFor(key) {
    var phase = key.indexOf("phase_duration_days.") === 0 ? key.split(".")[1] : null;
    return phase ? PHASE[phase] : "#5e6ad2";
  }

  function draw() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var node = document.getElementById("chart-data");
    if (!node || typeof Chart === "undefined") return;
    var data = JSON.parse(node.textContent);
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 11;
    Chart.defaults.color = "#6b7280";
    document.querySelectorAll("canvas[data-series]").forEach(function (canvas) {
      var s = data.series[canvas.dataset.series];
      if (!s) return;
      var colour = colourFor(canvas.dataset.series);
      charts.push(new Chart(canvas, {
        type: "line",
        data: { labels: s.labels, datasets: [{ label: s.label, data: s.values, borderColor: colour, backgroundColor: colour + "22", fill: true, tension: 0.3, spanGaps: true, pointRadius: 2.5 }] },
        options: {
          maintainAspectRatio: false, animation: { duration: 250 },
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) { return fmt(s.format, ctx.parsed.y) + "  (n = " + s.n[ctx.dataIndex] + ")"; } } } },
          scales: { x: { grid: { display: false }, ticks: { maxTicksLimit: 6 } }, y: { beginAtZero: s.format === "rate", ticks: { maxTicksLimit: 4, callback: function (v) { return fmt(s.format, v); } } } }
        }
      }));
    });
    var compare = document.getElementById("chart-compare");
    if (compare && data.compare) {
      charts.push(new Chart(compare, {
        type: "bar",
        data: { labels: data.compare.labels, datasets: data.compare.datasets.map(function (d, i) { return { label: d.label, data: d.values, backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 3 }; }) },
        options: {
          maintainAspectRatio: false, animation: { duration: 250 },
          plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } }, tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + fmt("rate", ctx.parsed.y); } } } },
          scales: { x: { grid: { display: false } }, y: { beginAtZero: true, max: 1, ticks: { callback: function (v) { return fmt("rate", v); } } } }
        }
      }));
    }
    window.dashboardCharts = charts;
    window.dashboardRenders += 1;
    document.body.dataset.chartsRendered = String(window.dashboardRenders);
  }

  // Range presets set the month inputs before the form's own change event asks htmx for the
  // figures; the months end with the current "To" month.
  var range = document.getElementById("id_range");
  if (range) {
    range.addEventListener("change", function () {
      var months = parseInt(range.value, 10);
      if (!months) return;
      var to = document.getElementById("id_to");
      var from = document.getElementById("id_from");
      var parts = (to.value || new Date().toISOString().slice(0, 7)).split("-");
      var index = parseInt(parts[0], 10) * 12 + parseInt(parts[1], 10) - 1 - (months - 1);
      from.value = Math.floor(index / 12) + "-" + String(index % 12 + 1).padStart(2, "0");
    });
    ["id_from", "id_to"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", function () { range.value = ""; });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "dash-body") draw();
  });
})();
