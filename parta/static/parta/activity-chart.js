// Draws the tasks-solved-per-day chart from the JSON beside the canvas. Runs each time
// the partial is inserted (also by htmx, on the profile page), possibly before Chart.js
// has loaded: then it waits for that script.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("activity-chart");
    if (!canvas) { return; }
    if (!window.Chart) {
      var lib = document.getElementById("chartjs");
      if (lib && !lib.dataset.waiting) {
        lib.dataset.waiting = "true";
        lib.addEventListener("load", draw);
      }
      return;
    }
    var labels = JSON.parse(document.getElementById("activity-labels").textContent);
    var values = JSON.parse(document.getElementById("activity-values").textContent);
    if (canvas._chart) { canvas._chart.destroy(); }
    canvas._chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{ label: canvas.dataset.label || "", data: values, backgroundColor: "#1f47c8", borderRadius: 3 }]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 10 }, grid: { display: false } } }
      }
    });
    canvas.dataset.drawn = "true";
  }
  draw();
})();
