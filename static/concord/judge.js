// Keyboard judging, with the same keys as the review pages (review.js): j/k move between questions,
// number keys choose in the current question and stay there, Ctrl+Enter (or Cmd+Enter) submits,
// "?" lists the keys. Tab, arrows and Space still work as usual; these keys only save reaching for
// the mouse. The form is replaced after each submit, so state is looked up afresh.
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
    return tag === "INPUT" && ["radio", "checkbox", "button", "submit", "reset"].indexOf(el.type) === -1;
  }

  function focusField(index) {
    var all = fields();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (f) { f.classList.remove("current"); });
    var field = all[current];
    field.classList.add("current");
    var choices = Array.prototype.slice.call(field.querySelectorAll("input[type=radio], input[type=checkbox]"));
    var target = choices.filter(function (c) { return c.checked; })[0] || choices[0] || field;
    target.focus({ preventScroll: true });
    field.scrollIntoView({ block: "nearest" });
  }

  function fieldIndexOf(el) {
    var field = el && el.closest ? el.closest("[data-field]") : null;
    return field ? fields().indexOf(field) : -1;
  }

  // Sets the value only: moving on is j's job, as on the review pages.
  function choose(digit) {
    var field = fields()[current];
    if (!field) return false;
    var options = Array.prototype.slice.call(field.querySelectorAll("input[type=radio], input[type=checkbox]"));
    var option = null;
    if (field.dataset.kind === "ordinal_scale") {
      option = options.filter(function (o) { return o.value === String(digit); })[0] || null;
    }
    if (!option) option = options[digit - 1] || null;
    if (!option) return false;
    if (option.type === "checkbox" || !option.checked) option.click();
    option.focus({ preventScroll: true });
    return true;
  }

  // A criterion of the prompt's rubric takes the grading page's keys (criteria.js), and the next
  // criterion comes up, so a rubric is marked without leaving the home row.
  function markCriterion(key) {
    var field = fields()[current];
    if (!field || field.dataset.kind !== "criterion" || !window.concordMarkCriterion(field, key)) return false;
    focusField(current + 1);
    return true;
  }

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("judge-form");
    if (!form) return;
    var el = document.activeElement;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (document.querySelector("dialog[open]")) return; // Esc closes it natively
    if (isTyping(el)) {
      if (event.key === "Escape") el.blur();
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "?") {
      event.preventDefault();
      openShortcuts();
      return;
    }
    var here = fieldIndexOf(el);
    if (here >= 0) current = here;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      focusField(current + (event.key === "j" ? 1 : -1));
      return;
    }
    if (markCriterion(event.key)) { event.preventDefault(); return; }
    if (/^[1-9]$/.test(event.key) && choose(parseInt(event.key, 10))) event.preventDefault();
  });

  document.addEventListener("focusin", function (event) {
    var index = fieldIndexOf(event.target);
    if (index < 0) return;
    current = index;
    fields().forEach(function (f, i) { f.classList.toggle("current", i === index); });
  });

  // Links that open the list keep their real href for a new tab or for no JavaScript.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-dialog=shortcuts-dialog]") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openShortcuts();
  });

  function start() { if (fields().length) focusField(0); }
  document.addEventListener("DOMContentLoaded", start);
  // The next item's form takes the focus as it is swapped in, not when htmx settles it a moment later:
  // by then a quick judge may already be answering, and the focus would jump back to the first question.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "judge-item") start();
  });
})();
