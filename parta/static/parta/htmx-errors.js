// Error replies to htmx requests are shown where the answer would have gone: a 4xx is
// swapped into its target by the htmx-config in base.html (it carries its own message);
// a server error or a lost connection gets a generic message here, in the same place.
(function () {
  "use strict";
  var MESSAGES = {
    ru: {
      server: "Что-то пошло не так на сервере. Попробуйте ещё раз чуть позже.",
      network: "Нет связи с сервером. Проверьте подключение и попробуйте ещё раз."
    },
    en: {
      server: "Something went wrong on the server. Please try again in a moment.",
      network: "Could not reach the server. Check your connection and try again."
    }
  };
  function text(kind) {
    var lang = (document.documentElement.lang || "en").slice(0, 2);
    return (MESSAGES[lang] || MESSAGES.en)[kind];
  }
  function show(evt, kind) {
    var detail = evt.detail || {};
    var target = detail.target || evt.target;
    if (!target || !target.insertAdjacentElement) { return; }
    var inline = target.tagName === "SPAN";
    var old = target.querySelector(".htmx-error");
    if (old) { old.remove(); }
    var box = document.createElement(inline ? "span" : "p");
    box.className = (inline ? "save-state wrong" : "verdict wrong") + " htmx-error";
    box.setAttribute("role", "alert");
    box.textContent = text(kind);
    if (inline) {
      target.replaceChildren(box);
    } else {
      target.insertAdjacentElement("afterbegin", box);
    }
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status < 500) { return; }  // swapped in place
    show(evt, "server");
  });
  document.addEventListener("htmx:sendError", function (evt) { show(evt, "network"); });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var target = evt.detail && evt.detail.target;
    var old = target && target.querySelector && target.querySelector(".htmx-error");
    if (old) { old.remove(); }
  });
})();
