// The item page's Buy form: posts to /buy/<id>/ for a checkout and goes there; an error is
// shown in place, a coupon's next to the coupon field. "Pay from the balance" posts
// the same form natively.
(function () {
  "use strict";
  var form = document.getElementById("buy-form");
  if (!form) { return; }
  var error = document.getElementById("buy-error");
  var couponInput = document.getElementById("coupon");
  var couponError = document.getElementById("coupon-error");

  function clearErrors() {
    error.hidden = true;
    couponError.hidden = true;
    couponInput.removeAttribute("aria-invalid");
  }

  function show(body, fallback) {
    var couponMessages = body && body.errors && body.errors.coupon;
    if (couponMessages && couponMessages.length) {
      couponError.textContent = couponMessages[0];
      couponError.hidden = false;
      couponInput.setAttribute("aria-invalid", "true");
      couponInput.focus();
      return;
    }
    error.textContent = (body && body.detail) || fallback;
    error.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.hasAttribute("formaction")) { return; }
    event.preventDefault();
    var body = new FormData(form);
    var button = document.getElementById("buy-button");
    button.disabled = true;
    clearErrors();
    fetch(form.dataset.buyUrl, {method: "POST", body: body, credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json().then(function (body) { return {ok: response.ok, status: response.status, body: body}; }); })
      .then(function (result) {
        if (result.ok) { window.location.href = result.body.url; return; }
        if (result.status === 401) { window.location.href = form.dataset.loginUrl; return; }
        show(result.body, form.dataset.errorText);
        button.disabled = false;
      })
      .catch(function () {
        show(null, form.dataset.offlineText);
        button.disabled = false;
      });
  });
})();
