// Marking a rubric criterion from the keyboard, the same on the grading page, the review form and a
// round's judging page: 1 or y met, 0 or n not met. Each page moves on to the next criterion itself.
(function () {
  "use strict";

  var MARKS = { "1": "1", y: "1", "0": "0", n: "0" };

  // Mark `criterion` (the element holding its met / not met radios) for `key`; false when the key is
  // not a mark or the criterion cannot be changed (a grade already given is locked).
  window.concordMarkCriterion = function (criterion, key) {
    if (!criterion || !MARKS[key]) return false;
    var option = criterion.querySelector("input[value='" + MARKS[key] + "']");
    if (!option || option.disabled) return false;
    if (!option.checked) option.click(); // click fires change: a draft saves
    return true;
  };
})();
