/* The inbox's thread page: a saved reply goes into the reply box with a click.

   <a data-saved-reply="<text>" data-target="<textarea id>" href="?insert=<id>">: without
   JavaScript the link reloads the page with the reply in the box; with it, the text is
   put at the cursor (on a line of its own when the box has text already), the box gets
   the focus and the cursor stands after the inserted text, ready to edit and send. */
(function () {
  "use strict";

  function insert(box, text) {
    var start = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === "number" ? box.selectionEnd : start;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    if (before && !/\n$/.test(before)) { text = "\n" + text; }
    if (after && !/^\n/.test(after)) { text = text + "\n"; }
    var limit = parseInt(box.getAttribute("maxlength") || "0", 10);
    box.value = before + text + after;
    if (limit && box.value.length > limit) { box.value = box.value.slice(0, limit); }
    var caret = Math.min(before.length + text.length, box.value.length);
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-saved-reply]") : null;
    if (!link) { return; }
    var box = document.getElementById(link.getAttribute("data-target") || "chat-text");
    if (!box) { return; }
    event.preventDefault();
    insert(box, link.getAttribute("data-saved-reply"));
  });
})();
