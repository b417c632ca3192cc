// Keyboard-first review: j/k move between fields, number keys choose, Ctrl+Enter submits,
// "?" lists the shortcuts, "g" opens the guidelines, "e" edits the seed task in place.
// Everything also works with Tab, Space and Enter; these keys only save reaching for the mouse.
(function () {
  "use strict";

  var current = -1;

  function fields() {
    var inForm = Array.prototype.slice.call(document.querySelectorAll("#review-form [data-field]"));
    var late = Array.prototype.slice.call(document.querySelectorAll("[data-field][data-field-late]"));
    return inForm.concat(late);
  }

  function isTyping(el) {
    if (!el) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    return ["radio", "checkbox", "button", "submit", "reset"].indexOf(el.type) === -1;
  }

  function inputsOf(field) {
    return Array.prototype.slice.call(field.querySelectorAll("input, textarea, select"));
  }

  function focusField(index) {
    var all = fields();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (f) { f.classList.remove("current"); });
    var field = all[index];
    current = index;
    field.classList.add("current");
    // Choices take the focus themselves; a text box is entered with Enter, so j/k can pass over it.
    var choices = Array.prototype.slice.call(field.querySelectorAll("input[type=radio], input[type=checkbox]"));
    var target = choices.filter(function (i) { return i.checked; })[0] || choices[0] || field;
    target.focus({ preventScroll: true });
    field.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function fieldIndexOf(el) {
    var field = el && el.closest ? el.closest("[data-field]") : null;
    return field ? fields().indexOf(field) : -1;
  }

  function choose(digit) {
    var all = fields();
    var field = all[current];
    if (!field) return false;
    var options = Array.prototype.slice.call(field.querySelectorAll("input[type=radio], input[type=checkbox]"));
    if (!options.length) return false;
    var option = null;
    if (field.dataset.kind === "ordinal_scale") {
      option = options.filter(function (o) { return o.value === String(digit); })[0] || null;
    }
    if (!option) option = options[digit - 1] || null;
    if (!option) return false;
    if (option.type === "checkbox" || !option.checked) option.click(); // click fires change: the draft saves
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

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && !dialog.open) dialog.showModal();
  }

  function submitFrom(el) {
    var form = el && el.closest ? el.closest("form") : null;
    if (el && el.form) form = el.form;
    if (!form || (form.id !== "task-edit-form" && form.id !== "review-form")) {
      form = document.getElementById("task-edit-form") && document.getElementById("task-edit-form").contains(el)
        ? document.getElementById("task-edit-form")
        : document.getElementById("review-form");
    }
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  document.addEventListener("keydown", function (event) {
    var el = document.activeElement;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      submitFrom(el);
      return;
    }
    if (document.querySelector("dialog[open]")) return; // Esc closes it natively
    if (isTyping(el)) {
      if (event.key === "Escape") {
        var index = fieldIndexOf(el);
        el.blur();
        if (index >= 0) {
          current = index;
          fields()[index].focus({ preventScroll: true });
        }
      }
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (key === "Enter" && el && el.matches && el.matches("[data-field]")) {
      var box = inputsOf(el)[0];
      if (box) { event.preventDefault(); box.focus(); }
      return;
    }
    if (key === "?") { event.preventDefault(); openDialog("shortcuts-dialog"); return; }
    if (key === "g") { event.preventDefault(); openDialog("guidelines-dialog"); return; }
    if (key === "e") {
      var edit = document.getElementById("edit-task");
      if (edit) { event.preventDefault(); edit.click(); }
      return;
    }
    if (key === "j" || key === "k") {
      event.preventDefault();
      var here = fieldIndexOf(el);
      if (here >= 0) current = here;
      focusField(current < 0 ? 0 : current + (key === "j" ? 1 : -1));
      return;
    }
    var marked = fieldIndexOf(el);
    if (marked >= 0) current = marked;
    if (markCriterion(key)) { event.preventDefault(); return; }
    if (/^[1-9]$/.test(key)) {
      var at = fieldIndexOf(el);
      if (at >= 0) current = at;
      if (choose(parseInt(key, 10))) event.preventDefault();
    }
  });

  document.addEventListener("focusin", function (event) {
    var index = fieldIndexOf(event.target);
    if (index < 0) return;
    current = index;
    fields().forEach(function (f, i) { f.classList.toggle("current", i === index); });
  });

  // Links that open a dialog keep their real href for a new tab or for no JavaScript.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-dialog]") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openDialog(link.getAttribute("data-dialog"));
  });

  // One submit per click: the submission key makes a repeat harmless, this keeps it from being sent.
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "review-form") return;
    event.target.dataset.submitting = "1";
    var button = document.getElementById("submit-review");
    if (button) {
      if (button.dataset.sent) { event.preventDefault(); return; }
      button.dataset.sent = "1";
      button.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // Back from an in-place edit: return to the form where the reviewer was.
    if (event.detail.target && event.detail.target.id === "task-panel" && !document.getElementById("task-edit-form")) {
      focusField(current < 0 ? 0 : current);
    }
  });

  // A change made just before submitting would autosave after it: the submit carries those answers
  // already, and the server would refuse the draft of a finished item anyway.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.id === "review-form" && form.dataset.submitting) event.preventDefault();
  });

  function draftTrouble() {
    var status = document.getElementById("draft-status");
    if (status) status.textContent = "Draft not saved: no connection. It will be saved with your next change.";
  }
  document.addEventListener("htmx:sendError", draftTrouble);
  document.addEventListener("htmx:responseError", draftTrouble);

  // Draft autosaves are background requests: they do not keep an idle session signed in (session.js).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "review-form") event.detail.headers["X-Concord-Background"] = "1";
  });

  // The reference output stays open or closed as the reviewer last left it, from one item to the next.
  var REFERENCE_KEY = "concord.review.referenceOpen";
  function rememberReference() {
    var details = document.getElementById("reference-output");
    if (!details) return;
    try {
      var saved = window.localStorage.getItem(REFERENCE_KEY);
      if (saved !== null) details.open = saved === "1";
    } catch (e) { /* storage refused (private mode): the page default holds */ }
    details.addEventListener("toggle", function () {
      try { window.localStorage.setItem(REFERENCE_KEY, details.open ? "1" : "0"); } catch (e) { /* as above */ }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    rememberReference();
    if (document.querySelector("[autofocus]") || document.getElementById("task-edit-form")) return;
    var firstWithError = document.querySelector("#review-form .has-error");
    focusField(firstWithError ? fields().indexOf(firstWithError) : 0);
  });
})();
