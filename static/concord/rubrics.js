// Rubric pages. Grading: 1/y mark the current criterion met, 0/n not met, and move to the next;
// j/k move; Ctrl+Enter submits. Editor: add a criterion row, move rows up or down (the order
// numbers follow), Ctrl+Enter saves. Without JavaScript the forms still work with the mouse.
(function () {
  "use strict";

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable) return true;
    return tag === "INPUT" && ["radio", "checkbox", "button", "submit"].indexOf(el.type) === -1;
  }

  var grade = document.getElementById("grade-form");
  if (grade) {
    var items = Array.prototype.slice.call(grade.querySelectorAll("[data-criterion]"));
    var current = 0;
    var focus = function (i) {
      current = Math.max(0, Math.min(items.length - 1, i));
      items.forEach(function (f) { f.classList.remove("current"); });
      items[current].classList.add("current");
      var radios = items[current].querySelectorAll("input[type=radio]");
      var checked = items[current].querySelector("input:checked");
      (checked || radios[0]).focus({ preventScroll: true });
      items[current].scrollIntoView({ block: "nearest" });
    };
    if (items.length) focus(0);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); grade.requestSubmit(); return; }
      if (isTyping(e.target) || e.altKey || e.ctrlKey || e.metaKey || !items.length) return;
      if (window.concordMarkCriterion(items[current], e.key)) {
        e.preventDefault();
        focus(current + 1);
      } else if (e.key === "j") { e.preventDefault(); focus(current + 1); }
      else if (e.key === "k") { e.preventDefault(); focus(current - 1); }
    });
    items.forEach(function (f, i) { f.addEventListener("focusin", function () { current = i; }); });
  }

  var editor = document.getElementById("rubric-editor");
  if (editor) {
    var body = editor.querySelector("#criteria tbody");
    var renumber = function () {
      Array.prototype.forEach.call(body.querySelectorAll("input[name=order]"), function (input, i) { input.value = i; });
    };
    document.getElementById("add-criterion").addEventListener("click", function () {
      var template = body.querySelector("[data-template]");
      var row = template.cloneNode(true);
      row.querySelector("textarea").value = "";
      body.appendChild(row);
      renumber();
      row.querySelector("textarea").focus();
    });
    body.addEventListener("click", function (e) {
      var button = e.target.closest("[data-move]");
      if (!button) return;
      var row = button.closest("tr");
      if (button.dataset.move === "up" && row.previousElementSibling) body.insertBefore(row, row.previousElementSibling);
      if (button.dataset.move === "down" && row.nextElementSibling) body.insertBefore(row.nextElementSibling, row);
      renumber();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); editor.requestSubmit(); }
    });
  }
})();
