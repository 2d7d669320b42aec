/*
 * The questionnaire page, live: shows and hides items as answers change (the same
 * relevance trees the server evaluates, through AnkietaExpr), recalculates the
 * calculations and fills them (and other answers) into labels that show them, and moves
 * focus to the error summary. Without this script the form still works page by page: the server
 * decides what is relevant when the page is sent.
 */
(function () {
  "use strict";

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return {};
    try {
      return JSON.parse(node.textContent || "{}");
    } catch (e) {
      return {};
    }
  }

  function fieldValues(form) {
    var values = {};
    var multiple = {};
    var missing = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "hidden" || el.type === "submit") return;
      if (el.value === "__dk__" || el.value === "__rf__") {
        // The don't know / refused boxes share the field's name: only a ticked one counts,
        // and then the answer is empty in expressions, as on the server. An unticked box
        // must not replace what was typed in the field (a number, a date).
        if (el.checked) missing[el.name] = true;
        return;
      }
      if (el.type === "checkbox") {
        if (!(el.name in multiple)) multiple[el.name] = [];
        if (el.checked) multiple[el.name].push(el.value);
        return;
      }
      if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
        else if (!(el.name in values)) values[el.name] = "";
        return;
      }
      values[el.name] = el.value;
    });
    Object.keys(multiple).forEach(function (name) {
      values[name] = multiple[name];
    });
    Object.keys(missing).forEach(function (name) {
      values[name] = Array.isArray(values[name]) ? [] : "";
    });
    Object.keys(values).forEach(function (name) {
      var v = values[name];
      if (typeof v === "string") {
        var polishNumber = v.replace(/\s/g, "").replace(",", ".");
        if (/^-?[0-9]+(\.[0-9]+)?$/.test(polishNumber)) values[name] = Number(polishNumber);
        var polishDate = /^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$/.exec(v.trim());
        if (polishDate) {
          values[name] =
            polishDate[3] + "-" + ("0" + polishDate[2]).slice(-2) + "-" + ("0" + polishDate[1]).slice(-2);
        }
      }
    });
    return values;
  }

  function setShown(item, shown) {
    if (item.hidden === !shown) return;
    item.hidden = !shown;
    // hidden answers are not sent: the server would ignore them anyway
    Array.prototype.forEach.call(item.querySelectorAll("input, select, textarea"), function (el) {
      if (!el.hasAttribute("data-readonly")) el.disabled = !shown;
    });
  }

  // A value as a label shows it (as the server's render_text does): the chosen answers'
  // labels, a decimal comma in Polish, dates as DD.MM.YYYY, nothing for an empty value.
  function displayValue(form, name, value) {
    if (value === null || value === undefined || value === "") return "";
    var codes = Array.isArray(value) ? value : [value];
    var labels = codes.map(function (code) {
      var input = form.querySelector(
        'input[name="' + CSS.escape(name) + '"][value="' + CSS.escape(String(code)) + '"]'
      );
      var label = input && input.id ? form.querySelector('label[for="' + CSS.escape(input.id) + '"]') : null;
      if (!label) return null;
      var text = label.cloneNode(true);
      Array.prototype.forEach.call(text.querySelectorAll(".key"), function (key) {
        key.remove(); // the digit an interviewer presses is no part of the answer
      });
      return text.textContent.trim();
    });
    if (codes.length && labels.every(function (l) { return l !== null; })) return labels.join(", ");
    if (Array.isArray(value)) return value.join(", ");
    if (typeof value === "boolean") return value ? "1" : "0";
    if (typeof value === "number") {
      var text = window.AnkietaExpr.formatNumber(value);
      return document.documentElement.lang === "pl" ? text.replace(".", ",") : text;
    }
    var iso = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(String(value));
    if (iso) return iso[3] + "." + iso[2] + "." + iso[1];
    return String(value);
  }

  function fillTemplates(form, values, sample) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-template]"), function (node) {
      var text = node.getAttribute("data-template").replace(/\$\{([^}]*)\}/g, function (all, ref) {
        var name = ref.trim();
        if (name.indexOf("sample.") === 0) {
          var fromSample = sample[name.slice("sample.".length)];
          return fromSample === undefined || fromSample === null ? "" : String(fromSample);
        }
        return displayValue(form, name, values[name]);
      });
      if (node.textContent !== text) node.textContent = text;
    });
  }

  function calculate(calculations, values, sample) {
    var ctx = { values: values, sample: sample };
    calculations.forEach(function (calc) {
      var relevant = (calc.relevant || []).every(function (tree) {
        return window.AnkietaExpr.evaluateBool(tree, ctx);
      });
      values[calc.name] = relevant ? window.AnkietaExpr.evaluate(calc.calculation, ctx) : null;
    });
  }

  function refresh(form, known, sample, calculations) {
    var values = Object.assign({}, known, fieldValues(form));
    calculate(calculations, values, sample);
    var ctx = { values: values, sample: sample };
    Array.prototype.forEach.call(form.querySelectorAll("[data-relevant]"), function (item) {
      var tree;
      try {
        tree = JSON.parse(item.getAttribute("data-relevant"));
      } catch (e) {
        return;
      }
      setShown(item, window.AnkietaExpr.evaluateBool(tree, ctx));
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-filter]"), function (fieldset) {
      var filter = JSON.parse(fieldset.getAttribute("data-filter"));
      Array.prototype.forEach.call(fieldset.querySelectorAll("[data-choice]"), function (choice) {
        var columns = JSON.parse(choice.getAttribute("data-choice"));
        var offered = window.AnkietaExpr.evaluateBool(filter, {
          values: values,
          sample: sample,
          choice: columns,
        });
        choice.hidden = !offered;
        var input = choice.querySelector("input");
        if (input) {
          input.disabled = !offered;
          if (!offered) input.checked = false;
        }
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[data-other]"), function (choice) {
      var box = document.getElementById("item-" + choice.getAttribute("data-other"));
      if (box) {
        var chosen = form.querySelector('input[data-other="' + choice.getAttribute("data-other") + '"]:checked');
        box.hidden = !chosen;
      }
    });
    fillTemplates(form, values, sample);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    var form = document.getElementById("questionnaire");
    if (!form || !window.AnkietaExpr) return;
    var known = readJSON("known-answers");
    var sample = readJSON("sample-values");
    var calculations = readJSON("calculations");
    if (!Array.isArray(calculations)) calculations = [];
    var update = function () {
      refresh(form, known, sample, calculations);
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  });
})();
