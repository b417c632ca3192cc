// Keyboard judging: j/k move between questions, number keys choose in the current question,
// Ctrl+Enter (or Cmd+Enter) submits. Tab, arrows and Space still work as usual; these keys only
// save reaching for the mouse. The form is replaced after each submit, so state is looked up afresh.
(function () {
  "use strict";

  var current = 0;

  function fields() {
    return Array.prototype.slice.call(document.querySelectorAll("#judge-form [data-field]"));
  }

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable) return true;
    return tag === "INPUT" && ["radio", "checkbox", "button", "submit"].indexOf(el.type) === -1;
  }

  function focusField(index) {
    var all = fields();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (f) { f.classList.remove("current"); });
    var field = all[current];
    field.classList.add("current");
    var radios = Array.prototype.slice.call(field.querySelectorAll("input"));
    var target = radios.filter(function (r) { return r.checked; })[0] || radios[0] || field;
    target.focus({ preventScroll: true });
    field.scrollIntoView({ block: "nearest" });
  }

  function indexOfFocused() {
    var all = fields();
    for (var i = 0; i < all.length; i++) {
      if (all[i].contains(document.activeElement)) return i;
    }
    return current;
  }

  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("judge-form");
    if (!form) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (isTyping(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      focusField(indexOfFocused() + (event.key === "j" ? 1 : -1));
      return;
    }
    if (/^[1-9]$/.test(event.key)) {
      var field = fields()[indexOfFocused()];
      if (!field) return;
      var radios = field.querySelectorAll("input[type=radio]");
      var radio = radios[parseInt(event.key, 10) - 1];
      if (!radio) return;
      event.preventDefault();
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
      // Choosing moves on to the next question; the last one keeps focus on the choice made.
      var index = fields().indexOf(field);
      if (index < fields().length - 1) focusField(index + 1);
      else radio.focus({ preventScroll: true });
    }
  });

  function start() { if (fields().length) focusField(0); }
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", start);
})();
