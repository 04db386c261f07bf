/* A chat thread's live messages (no inline scripts: the CSP allows our static files only).

   <ol id="chat-messages" data-ws="/ws/chat/threads/<id>/" data-poll="<messages URL>"
       data-after="<last message id>">
   - opens the websocket (wss:// on an https page) and appends each message it pushes,
     once (by data-id), in id order, keeping data-after at the newest id;
   - while the socket is down it polls data-poll?after=<id> every few seconds, and
     reconnects with a growing, jittered delay; on every (re)connection it polls once, so
     nothing posted while it was away is missed;
   - a socket closed with 4403 (not allowed) or a poll answered 403/404 stops both;
   - the list's data-live says which is in use: "socket", "polling" or "off".

   The message form (<form id="chat-form"> or <form data-chat-form>, a normal POST that
   works without JavaScript) is sent with fetch and an HX-Request header, so the page does
   not reload: the view answers with the new message's HTML (201), appended at once, or
   with the form and its error (4xx), put in place of the form. On a network failure or
   any other answer the form is submitted the ordinary way, with the same client_key, so
   a message the server did store is recognised, not stored twice; after each message
   sent the client_key field gets a fresh key. */
(function () {
  "use strict";

  var POLL_EVERY = 4000;
  var RETRY_FIRST = 1000;
  var RETRY_MAX = 30000;
  var CLOSE_FORBIDDEN = 4403;

  function live(list) {
    if (list.dataset.liveBound) { return; }
    list.dataset.liveBound = "true";
    var after = parseInt(list.dataset.after || "0", 10) || 0;
    var socket = null;
    var retry = RETRY_FIRST;
    var retryTimer = null;
    var pollTimer = null;
    var polling = false;
    var pollAgain = false;
    var stopped = false;
    var leaving = false;

    function state(value) { list.dataset.live = value; }

    function idOf(el) { return parseInt(el.getAttribute("data-id"), 10) || 0; }

    function nearBottom() {
      return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
    }

    // Adds each message of an HTML fragment that the list does not hold yet.
    function add(html) {
      var template = document.createElement("template");
      template.innerHTML = html;
      var follow = nearBottom();
      var last = null;
      Array.prototype.slice.call(template.content.children).forEach(function (el) {
        var id = idOf(el);
        if (!id || list.querySelector('[data-id="' + id + '"]')) { return; }
        var next = null;
        for (var child = list.lastElementChild; child; child = child.previousElementSibling) {
          if (idOf(child) && idOf(child) < id) { break; }
          if (idOf(child) > id) { next = child; }
        }
        list.insertBefore(el, next);
        if (window.htmx) { window.htmx.process(el); }
        if (id > after) { after = id; }
        last = el;
        list.dispatchEvent(new CustomEvent("chat:message", {bubbles: true, detail: {id: id}}));
      });
      list.dataset.after = String(after);
      if (last && follow) { last.scrollIntoView({block: "nearest"}); }
    }

    function stop() {
      stopped = true;
      stopPolling();
      clearTimeout(retryTimer);
      if (socket) { socket.close(); }
      state("off");
    }

    function poll() {
      var url = list.dataset.poll;
      if (!url || stopped) { return; }
      // One at a time; one asked for meanwhile runs after it (it may know a newer id).
      if (polling) { pollAgain = true; return; }
      polling = true;
      var sep = url.indexOf("?") === -1 ? "?" : "&";
      fetch(url + sep + "after=" + after, {
        credentials: "same-origin",
        headers: {"HX-Request": "true", "X-Requested-With": "XMLHttpRequest"}
      }).then(function (response) {
        if (response.status === 403 || response.status === 404) { stop(); return ""; }
        return response.ok ? response.text() : "";
      }).then(function (html) {
        if (html) { add(html); }
      }).catch(function () { /* offline: the next round tries again */ })
        .then(function () {
          polling = false;
          if (pollAgain) { pollAgain = false; poll(); }
        });
    }

    function startPolling() {
      if (stopped || pollTimer || !list.dataset.poll) { return; }
      state("polling");
      pollTimer = setInterval(poll, POLL_EVERY);
    }

    function stopPolling() {
      clearInterval(pollTimer);
      pollTimer = null;
    }

    function connect() {
      clearTimeout(retryTimer);
      retryTimer = null;
      if (stopped || leaving) { return; }
      if (!window.WebSocket || !list.dataset.ws) { startPolling(); return; }
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      try {
        socket = new WebSocket(scheme + window.location.host + list.dataset.ws);
      } catch (error) {
        socket = null;
        startPolling();
        return;
      }
      socket.addEventListener("open", function () {
        retry = RETRY_FIRST;
        stopPolling();
        state("socket");
        poll();  // whatever came while the socket was not there yet
      });
      socket.addEventListener("message", function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (error) { return; }
        if (data && data.type === "message" && typeof data.html === "string") { add(data.html); }
      });
      socket.addEventListener("close", function (event) {
        socket = null;
        if (event.code === CLOSE_FORBIDDEN) { stop(); return; }
        if (stopped || leaving) { return; }
        startPolling();
        var delay = retry / 2 + Math.random() * retry / 2;
        retry = Math.min(retry * 2, RETRY_MAX);
        retryTimer = setTimeout(connect, delay);
      });
    }

    // Back on the tab, or back online: try the socket now rather than after the delay.
    function wake() {
      if (!stopped && !socket && retryTimer) { connect(); }
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { wake(); }
    });
    window.addEventListener("online", wake);
    window.addEventListener("pagehide", function () {
      leaving = true;
      if (socket) { socket.close(); }
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && leaving) { leaving = false; connect(); }
    });

    list.chatLive = {add: add, poll: poll};
    connect();
  }

  function randomKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  var FORMS = "form#chat-form, form[data-chat-form]";

  function sendWithFetch(form) {
    if (form.dataset.liveBound) { return; }
    form.dataset.liveBound = "true";
    var busy = false;
    var ordinaryNext = false;
    form.addEventListener("submit", function (event) {
      if (ordinaryNext) { ordinaryNext = false; return; }  // let the browser post it
      if (event.defaultPrevented || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      var key = form.elements.namedItem("client_key");
      if (key && !key.value) { key.value = randomKey(); }
      var buttons = form.querySelectorAll("button, input[type=submit]");
      buttons.forEach(function (button) { button.disabled = true; });
      var submitter = event.submitter || null;
      var body = new FormData(form);
      if (submitter && submitter.name) { body.append(submitter.name, submitter.value); }
      function done() {
        busy = false;
        buttons.forEach(function (button) { button.disabled = false; });
      }
      function focusText(root) {
        var text = root.querySelector("textarea");
        if (text) { text.focus(); }
      }
      // Stored: the box is emptied and the next message gets a key of its own.
      function sent() {
        // An error shown for the previous try no longer applies.
        form.querySelectorAll('[role="alert"]').forEach(function (alert) {
          form.querySelectorAll('[aria-describedby="' + alert.id + '"]').forEach(function (field) {
            field.removeAttribute("aria-describedby");
          });
          alert.remove();
        });
        form.querySelectorAll("[aria-invalid]").forEach(function (field) {
          field.removeAttribute("aria-invalid");
        });
        form.querySelectorAll("textarea").forEach(function (box) { box.value = ""; });
        form.querySelectorAll("input[type=file]").forEach(function (input) { input.value = ""; });
        if (key) { key.value = randomKey(); }
        done();
        focusText(form);
        form.dispatchEvent(new CustomEvent("chat:sent", {bubbles: true}));
      }
      // The same client_key goes again: a message the server did store is not doubled.
      function ordinary() {
        done();
        if (form.requestSubmit) {
          ordinaryNext = true;
          form.requestSubmit(submitter);
        } else {
          HTMLFormElement.prototype.submit.call(form);
        }
      }
      fetch(form.action || window.location.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        // Answered like htmx: the new message (201; 200 when it was stored already), or
        // the form again with its error (4xx).
        headers: {"HX-Request": "true", "X-Requested-With": "fetch"}
      }).then(function (response) {
        return response.text().then(function (html) { return {response: response, html: html}; });
      }).then(function (answer) {
        var response = answer.response;
        var list = document.getElementById("chat-messages");
        if (response.ok && response.redirected) {  // a view that answered as to a plain POST
          sent();
          if (list && list.chatLive) { list.chatLive.poll(); }
          return;
        }
        var stored = /data-id="(\d+)"/.exec(answer.html);
        if ((response.status === 201 || response.status === 200) && stored) {
          if (list && list.chatLive) { list.chatLive.add(answer.html); }
          sent();
          // Where the ordinary POST would have come back: the page at the new message.
          if (window.history && window.history.replaceState) {
            var here = window.location.pathname + window.location.search;
            window.history.replaceState(window.history.state, "", here + "#message-" + stored[1]);
          }
          return;
        }
        if (response.status >= 400 && response.status < 500) {
          var template = document.createElement("template");
          template.innerHTML = answer.html;
          var fresh = template.content.querySelector("form");
          if (fresh) {
            form.replaceWith(fresh);
            if (window.htmx) { window.htmx.process(fresh); }
            sendWithFetch(fresh);
            focusText(fresh);
            return;
          }
        }
        ordinary();  // anything else: the server's own page says what happened
      }).catch(ordinary);
    });
  }

  function init() {
    var list = document.getElementById("chat-messages");
    if (list) { live(list); }
    document.querySelectorAll(FORMS).forEach(sendWithFetch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
