// The client page's 90-day health trend, from the JSON in #health-data. The health card is an
// htmx-loaded panel of the engagement app, so the chart is drawn when it arrives. Without
// Chart.js the table under the chart carries every figure.
(function () {
  "use strict";
  function draw() {
  var node = document.getElementById("health-data");
  var canvas = document.getElementById("health-chart");
  if (!node || !canvas || typeof Chart === "undefined" || canvas.dataset.drawn) return;
  canvas.dataset.drawn = "1";
  var data = JSON.parse(node.textContent);
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 11;
  Chart.defaults.color = "#6b7280";
  window.healthChart = new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{ label: "Health", data: data.values, borderColor: "#5e6ad2", backgroundColor: "#5e6ad222", fill: true, tension: 0.25, spanGaps: true, pointRadius: data.labels.length > 30 ? 0 : 2.5 }]
    },
    options: {
      maintainAspectRatio: false, animation: { duration: 250 },
      plugins: { legend: { display: false } },
      scales: { x: { grid: { display: false }, ticks: { maxTicksLimit: 4, maxRotation: 0 } }, y: { min: 0, max: 100, ticks: { maxTicksLimit: 5 } } }
    }
  });
  document.body.dataset.healthChart = "1";
  }
  draw();
  document.body.addEventListener("htmx:load", draw);
})();
