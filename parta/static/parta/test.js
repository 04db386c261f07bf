// The test page's countdown: shows the time left and submits the answers when it runs
// out (form.submit() skips the confirmation, which is for the student's own click).
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("timer");
    var form = document.getElementById("test-form");
    if (!el || !form) { return; }
    var left = parseInt(el.dataset.remaining, 10) || 0;
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
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
