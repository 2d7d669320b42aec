/*
 * Keyboard first for interviewers: digits 1-9 pick the n-th answer of the question on the
 * screen, F2 records "don't know", F3 "refused", F4 goes back; Enter goes on (the form's
 * first button). The first field gets the focus. Everything also works with the mouse.
 * On a screen with several questions (a field-list group) the keys act on the question
 * that has the focus (in a matrix, on its row), so answering one never changes another.
 * The don't know / refused boxes of typed questions are no Tab stops (F2 / F3 set them;
 * typing clears them), so Tab goes from question to question; each answer shows the
 * digit that picks it.
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

  // The typed field of a number / text / date question (none for a choice question).
  function typedField(scope) {
    return scope.querySelector(
      ".field > input[type=text], .field > input[type=number], .field > textarea, .field .geo-part input"
    );
  }

  function pickMissing(scope, value) {
    // a dropdown (XLSForm's minimal) offers them as its options
    var dropdown = Array.prototype.find.call(scope.querySelectorAll("select.dropdown"), function (el) {
      return !el.disabled && el.querySelector('option[value="' + value + '"]');
    });
    if (dropdown) {
      dropdown.value = value;
      dropdown.dispatchEvent(new Event("change", { bubbles: true }));
      dropdown.focus();
      return;
    }
    var input = Array.prototype.find.call(scope.querySelectorAll('input[value="' + value + '"]'), function (el) {
      return !el.disabled && el.offsetParent !== null;
    });
    if (!input) return;
    input.checked = true;
    var field = typedField(scope);
    if (input.type === "checkbox") {
      // don't know and refused exclude each other and whatever was typed
      Array.prototype.forEach.call(
        scope.querySelectorAll('input[type=checkbox][value="__dk__"], input[type=checkbox][value="__rf__"]'),
        function (other) {
          if (other !== input && other.name === input.name) other.checked = false;
        }
      );
      // an acknowledge's OK box goes too: the question has one answer
      Array.prototype.forEach.call(scope.querySelectorAll('input[type=checkbox][value="OK"]'), function (ok) {
        if (ok.name === input.name) ok.checked = false;
      });
      Array.prototype.forEach.call(
        scope.querySelectorAll(".field input[type=text], .field input[type=number], .field textarea"),
        function (typed) {
          if (typed.name === input.name) typed.value = "";
        }
      );
    }
    input.dispatchEvent(new Event("change", { bubbles: true }));
    // In a typed question the focus stays in its field, so Tab goes on to the next question.
    (field || input).focus();
  }

  // Typing an answer takes back a don't know / refused recorded for the same question.
  function clearMissingOnTyping(form) {
    form.addEventListener("input", function (event) {
      var target = event.target;
      if (!typingInText(target) || !target.value) return;
      Array.prototype.forEach.call(
        form.querySelectorAll('input[type=checkbox][name="' + CSS.escape(target.name) + '"]'),
        function (box) {
          if (box.value === "__dk__" || box.value === "__rf__") box.checked = false;
        }
      );
    });
  }

  // Show the digit that picks each answer (1-9) in front of it, as queXS does; renumbered
  // when answers are offered or hidden as the page changes.
  function numberChoices(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".choice .key"), function (key) {
      key.remove();
    });
    Array.prototype.forEach.call(form.querySelectorAll(".item"), function (item) {
      if (
        item.classList.contains("item-group") ||
        item.classList.contains("item-matrix") ||
        item.classList.contains("item-repeat")
      ) {
        return;
      }
      visibleChoices(item).slice(0, 9).forEach(function (input, index) {
        var label = input.id ? form.querySelector('label[for="' + CSS.escape(input.id) + '"]') : null;
        if (!label) return;
        var key = document.createElement("span");
        key.className = "key";
        key.setAttribute("aria-hidden", "true");
        key.textContent = String(index + 1);
        label.parentNode.insertBefore(key, label); // beside the label: not part of its name
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("questionnaire");
    if (!form) return;
    numberChoices(form);
    form.addEventListener("change", function () {
      numberChoices(form);
    });
    clearMissingOnTyping(form);
    // (after a list's entry was added or removed, form.js has put the focus there)
    if (!document.getElementById("error-summary") && !location.hash) {
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
      } else if (
        event.key === "Enter" &&
        (event.target.tagName === "TEXTAREA" || event.target.tagName === "SELECT") &&
        !event.shiftKey
      ) {
        // Enter goes on here too, as the screen says (a rank's selects send nothing by
        // themselves); in a text area Shift+Enter starts a new line.
        var next = form.querySelector("button.primary");
        if (next) {
          event.preventDefault();
          next.click();
        }
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
