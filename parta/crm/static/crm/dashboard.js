// The dashboard's charts (Chart.js), drawn from the page's json_script blocks: the same
// figures the tables show. Money arrives in minor units and is drawn in major units.
(function () {
  "use strict";

  var COLOURS = ["#1f47c8", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285"];
  var charts = {};

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function shortDay(iso) {
    // "2026-12-02" -> "02.12"
    return iso.slice(8, 10) + "." + iso.slice(5, 7);
  }

  function lang() {
    return document.documentElement.lang || "ru";
  }

  function moneyFormat(currency, exponent) {
    var format;
    try {
      format = new Intl.NumberFormat(lang(), {style: "currency", currency: currency, maximumFractionDigits: exponent});
    } catch (e) {
      format = new Intl.NumberFormat(lang());
    }
    return function (value) { return format.format(value); };
  }

  function baseOptions(extra) {
    var options = {
      animation: false,
      maintainAspectRatio: false,
      interaction: {mode: "index", intersect: false},
      plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}},
      scales: {
        x: {grid: {display: false}, ticks: {maxTicksLimit: 8, maxRotation: 0}},
        y: {beginAtZero: true, ticks: {precision: 0}}
      }
    };
    return Object.assign(options, extra || {});
  }

  function draw(canvas, config) {
    var name = canvas.dataset.chart;
    if (charts[name]) { charts[name].destroy(); }
    charts[name] = new window.Chart(canvas, config);
    canvas.dataset.drawn = "true";
  }

  function revenueChart(canvas, data, t) {
    var revenue = data.money ? data.money.revenue : [];
    var datasets = revenue.map(function (r, i) {
      var scale = Math.pow(10, r.exponent);
      return {
        label: t.revenue + ", " + r.currency,
        data: r.net.map(function (v) { return v / scale; }),
        backgroundColor: COLOURS[i % COLOURS.length],
        yAxisID: i === 0 ? "y" : "y" + i,
        currency: r.currency,
        exponent: r.exponent
      };
    });
    var scales = {x: {grid: {display: false}, ticks: {maxTicksLimit: 8, maxRotation: 0}}};
    datasets.forEach(function (d, i) {
      var fmt = moneyFormat(d.currency, 0);
      scales[d.yAxisID] = {
        beginAtZero: true,
        position: i % 2 === 0 ? "left" : "right",
        grid: {display: i === 0},
        ticks: {callback: function (v) { return fmt(v); }}
      };
    });
    draw(canvas, {
      type: "bar",
      data: {labels: data.days.map(shortDay), datasets: datasets},
      options: baseOptions({
        scales: scales,
        plugins: {
          legend: {position: "bottom", labels: {boxWidth: 12}},
          tooltip: {callbacks: {label: function (ctx) {
            return ctx.dataset.label + ": " + moneyFormat(ctx.dataset.currency, ctx.dataset.exponent)(ctx.parsed.y);
          }}}
        }
      })
    });
  }

  function init() {
    var data = read("dashboard-data");
    var t = read("dashboard-labels") || {};
    if (!data || !window.Chart) { return; }
    var labels = data.days.map(shortDay);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      switch (canvas.dataset.chart) {
        case "revenue":
          revenueChart(canvas, data, t);
          break;
        case "registrations":
          draw(canvas, {
            type: "bar",
            data: {labels: labels, datasets: [{label: t.registrations, data: data.registrations.series, backgroundColor: COLOURS[0]}]},
            options: baseOptions()
          });
          break;
        case "activity":
          draw(canvas, {
            type: "line",
            data: {labels: labels, datasets: [
              {label: t.solved, data: data.activity.solved, borderColor: COLOURS[0], backgroundColor: COLOURS[0], cubicInterpolationMode: "monotone", pointRadius: 0},
              {label: t.active, data: data.activity.active, borderColor: COLOURS[2], backgroundColor: COLOURS[2], cubicInterpolationMode: "monotone", pointRadius: 0}
            ]},
            options: baseOptions()
          });
          break;
        case "groups":
          draw(canvas, {
            type: "bar",
            data: {
              labels: data.group_fill.courses.map(function (c) { return c.course; }),
              datasets: [
                {label: t.members, data: data.group_fill.courses.map(function (c) { return c.members; }), backgroundColor: COLOURS[0]},
                {label: t.seats, data: data.group_fill.courses.map(function (c) { return c.seats; }), backgroundColor: "#ced4da"}
              ]
            },
            options: baseOptions({indexAxis: "y", scales: {x: {beginAtZero: true, ticks: {precision: 0}}, y: {grid: {display: false}}}})
          });
          break;
        case "expiring":
          draw(canvas, {
            type: "bar",
            data: {labels: data.money.expiring.days.map(shortDay), datasets: [{label: t.expiring, data: data.money.expiring.series, backgroundColor: COLOURS[4]}]},
            options: baseOptions()
          });
          break;
        case "renewals":
          draw(canvas, {
            type: "bar",
            data: {labels: labels, datasets: [
              {label: t.ended, data: data.money.renewals.ended, backgroundColor: "#adb5bd"},
              {label: t.renewed, data: data.money.renewals.renewed, backgroundColor: COLOURS[2]}
            ]},
            options: baseOptions()
          });
          break;
      }
    });
    window.partaDashboardCharts = charts;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
