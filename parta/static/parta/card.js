// The order page's card form for a provider that pays on our page (Stripe's Payment
// Element): mount it and confirm; a card error is shown in place.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || !window.Stripe) { return; }
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
})();
