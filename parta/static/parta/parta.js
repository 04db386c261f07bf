/* Parta's behaviour on pages, from data attributes (no inline scripts: the
   Content-Security-Policy allows scripts from our own static files only).
   Each part does nothing on a page without its elements; without JavaScript the
   pages still work (forms post, all fields stay visible). */
(function () {
  "use strict";

  // <form data-confirm="Question?">: ask before submitting. Listening in the capture
  // phase stops the event before htmx's own listener on the form sees it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <a data-history-back>: back to the previous page (the link's own href without one).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-history-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  // The workspace's task form: only the answer fields of the chosen kind are shown.
  function answerKinds(root) {
    root.querySelectorAll("form").forEach(function (form) {
      var kind = form.querySelector('[name="kind"]');
      var visibility = form.querySelector('[name="solution_visibility"]');
      if (!kind || !form.querySelector("[data-answer-kinds], [data-visibility]")) { return; }
      function sync() {
        form.querySelectorAll("[data-answer-kinds]").forEach(function (block) {
          block.hidden = block.dataset.answerKinds.split(" ").indexOf(kind.value) === -1;
        });
        if (visibility) {
          form.querySelectorAll("[data-visibility]").forEach(function (block) {
            block.hidden = block.dataset.visibility !== visibility.value;
          });
        }
      }
      kind.addEventListener("change", sync);
      if (visibility) { visibility.addEventListener("change", sync); }
      sync();
    });
  }

  // An order paid by card on the page (Stripe's Payment Element, from js.stripe.com).
  function cardForm(root) {
    var form = root.querySelector("#card-form");
    if (!form || !window.Stripe || form.dataset.bound) { return; }
    form.dataset.bound = "true";
    var stripe = window.Stripe(form.dataset.publishableKey);
    var elements = stripe.elements({clientSecret: form.dataset.clientSecret});
    elements.create("payment").mount("#payment-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      stripe.confirmPayment({elements: elements, confirmParams: {return_url: form.dataset.returnUrl}})
        .then(function (result) {
          if (result.error) {
            var box = document.getElementById("card-error");
            box.textContent = result.error.message;
            box.hidden = false;
          }
        });
    });
  }

  // A test in progress: the countdown, and the answers are submitted when time is up.
  function testTimer(root) {
    var el = root.querySelector("#timer[data-remaining]");
    var form = document.getElementById("test-form");
    if (!el || !form || el.dataset.bound) { return; }
    el.dataset.bound = "true";
    var left = parseInt(el.dataset.remaining, 10);
    function show() {
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    }
    show();
    var tick = setInterval(function () {
      left -= 1;
      if (left <= 0) { clearInterval(tick); left = 0; show(); form.submit(); return; }
      show();
    }, 1000);
  }

  // The activity chart (Chart.js); the panel may arrive by htmx before Chart.js loads.
  function activityChart(root) {
    var canvas = root.querySelector ? root.querySelector("#activity-chart") : null;
    if (!canvas && root.id === "activity-chart") { canvas = root; }
    if (!canvas) { return; }
    function draw() {
      if (!window.Chart || !document.body.contains(canvas)) { return; }
      var labels = JSON.parse(document.getElementById("activity-labels").textContent);
      var values = JSON.parse(document.getElementById("activity-values").textContent);
      if (canvas._chart) { canvas._chart.destroy(); }
      canvas._chart = new window.Chart(canvas, {
        type: "bar",
        data: {labels: labels, datasets: [{label: canvas.dataset.label, data: values, backgroundColor: "#1f47c8", borderRadius: 3}]},
        options: {
          animation: false, maintainAspectRatio: false,
          plugins: {legend: {display: false}},
          scales: {y: {beginAtZero: true, ticks: {precision: 0}}, x: {ticks: {maxTicksLimit: 10}, grid: {display: false}}}
        }
      });
      canvas.dataset.drawn = "true";
    }
    var library = document.getElementById("chartjs");
    if (window.Chart) { draw(); } else if (library) { library.addEventListener("load", draw); }
  }

  function init(root) {
    answerKinds(root);
    cardForm(root);
    testTimer(root);
    activityChart(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // Content swapped in by htmx.
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt !== document.body) { init(event.detail.elt); }
  });
})();
