/*
 * Keyboard first for interviewers: digits 1-9 pick the n-th answer of the question on the
 * screen, F2 records "don't know", F3 "refused", F4 goes back; Enter goes on (the form's
 * first button). The first field gets the focus. Everything also works with the mouse.
 * On a screen with several questions (a field-list group) the keys act on the question
 * that has the focus (in a matrix, on its row), so answering one never changes another.
 */
(function () {
  "use strict";

  function typingInText(target) {
    return (
      target &&
      ((target.tagName === "INPUT" && /^(text|number|date|search|tel)$/.test(target.type)) ||
        target.tagName === "TEXTAREA")
    );
  }

  // The question (or matrix row) holding the focus; the whole form when the focus is elsewhere.
  function scopeOf(form, target) {
    var scope = target && target.closest ? target.closest("table.matrix tr, .item") : null;
    return scope && form.contains(scope) ? scope : form;
  }

  function visibleChoices(scope) {
    return Array.prototype.filter.call(
      scope.querySelectorAll(".choice input, table.matrix input"),
      function (input) {
        return !input.disabled && input.offsetParent !== null &&
          input.value !== "__dk__" && input.value !== "__rf__";
      }
    );
  }

  function pickMissing(scope, value) {
    var input = Array.prototype.find.call(scope.querySelectorAll('input[value="' + value + '"]'), function (el) {
      return !el.disabled && el.offsetParent !== null;
    });
    if (input) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("questionnaire");
    if (!form) return;
    if (!document.getElementById("error-summary")) {
      var first = form.querySelector("input:not([type=hidden]):not([disabled]), textarea, select");
      if (first) first.focus();
    }
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "F2") {
        event.preventDefault();
        pickMissing(scopeOf(form, event.target), "__dk__");
      } else if (event.key === "F3") {
        event.preventDefault();
        pickMissing(scopeOf(form, event.target), "__rf__");
      } else if (event.key === "F4") {
        var back = form.querySelector('button[value="back"]');
        if (back) {
          event.preventDefault();
          back.click();
        }
      } else if (/^[1-9]$/.test(event.key) && !typingInText(event.target)) {
        var choices = visibleChoices(scopeOf(form, event.target));
        var input = choices[Number(event.key) - 1];
        if (input) {
          event.preventDefault();
          if (input.type === "checkbox") input.checked = !input.checked;
          else input.checked = true;
          input.dispatchEvent(new Event("change", { bubbles: true }));
          input.focus();
        }
      }
    });
  });
})();
