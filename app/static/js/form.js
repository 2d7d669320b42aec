/*
 * The questionnaire page, live: shows and hides items as answers change (the same
 * relevance trees the server evaluates, through AnkietaExpr), recalculates the
 * calculations and fills them (and other answers) into labels that show them, and moves
 * focus to the error summary; inside a list's entries (repeats) the same, per entry; asks
 * before an entry is removed. Without this script the form still works page by page: the server
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
    var points = {}; // a geopoint's fields, in order: "lat lon alt acc" as stored
    var ranks = {}; // a rank's selects: the codes in rank order, as stored
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "hidden" || el.type === "submit") return;
      if (el.closest && el.closest(".geo-part")) {
        (points[el.name] = points[el.name] || []).push(el.value.trim().replace(",", "."));
        return;
      }
      if (el.closest && el.closest(".rank-choice")) {
        (ranks[el.name] = ranks[el.name] || []).push(el.value);
        return;
      }
      if (el.type === "file") {
        // a file question reads as its file's name, as on the server: the file chosen
        // now, else the one sent before (the known answers hold its name)
        if (el.files && el.files.length) values[el.name] = el.files[0].name;
        return;
      }
      if (el.value === "__remove__") {
        if (el.checked) values[el.name] = ""; // "remove the file sent"
        return;
      }
      if (el.value === "__dk__" || el.value === "__rf__") {
        // The don't know / refused boxes share the field's name: only a ticked one counts,
        // and then the answer is empty in expressions, as on the server. An unticked box
        // must not replace what was typed in the field (a number, a date). In a dropdown
        // they are options: chosen, the answer is empty too.
        if (el.checked || el.tagName === "SELECT") missing[el.name] = true;
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
    Object.keys(points).forEach(function (name) {
      var parts = points[name];
      while (parts.length && !parts[parts.length - 1]) parts.pop();
      values[name] = parts.length >= 2 && parts[0] && parts[1] ? parts.join(" ") : "";
    });
    Object.keys(ranks).forEach(function (name) {
      var given = ranks[name].filter(Boolean).map(function (value) {
        var at = value.indexOf(":");
        return { rank: Number(value.slice(0, at)), code: value.slice(at + 1) };
      });
      given.sort(function (a, b) {
        return a.rank - b.rank;
      });
      values[name] = given.map(function (each) {
        return each.code;
      });
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
        // a date and time as Poles write it: a moment, as the server's expressions read it
        var polishMoment = /^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})[ T]+([0-9]{1,2})[:.]([0-9]{2})$/.exec(v.trim());
        if (polishMoment) {
          values[name] =
            polishMoment[3] + "-" + ("0" + polishMoment[2]).slice(-2) + "-" + ("0" + polishMoment[1]).slice(-2) +
            "T" + ("0" + polishMoment[4]).slice(-2) + ":" + polishMoment[5];
        }
        var clock = /^([0-9]{1,2}):([0-9]{2})$/.exec(v.trim()); // a time: HH:MM
        if (clock) values[name] = ("0" + clock[1]).slice(-2) + ":" + clock[2];
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
      if (!label) {
        // a dropdown's choice (XLSForm's minimal): the option's own text
        var option = form.querySelector(
          'select[name="' + CSS.escape(name) + '"] option[value="' + CSS.escape(String(code)) + '"]'
        );
        return option && code !== "" ? option.textContent.trim() : null;
      }
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

  function fillTemplates(form, scopes, sample) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-template]"), function (node) {
      var scope = scopeFor(scopes, node);
      var text = node.getAttribute("data-template").replace(/\$\{([^}]*)\}/g, function (all, ref) {
        var name = ref.trim();
        if (name.indexOf("sample.") === 0) {
          var fromSample = sample[name.slice("sample.".length)];
          return fromSample === undefined || fromSample === null ? "" : String(fromSample);
        }
        var value = scope.values[name];
        if (value && typeof value === "object" && Array.isArray(value.nodeset)) {
          value = value.nodeset; // a list's answers, read from outside it: all of them
        }
        var own = scope.prefix && (scope.prefix + name) in scope.fields ? scope.prefix + name : name;
        return displayValue(form, own, value);
      });
      if (node.textContent !== text) node.textContent = text;
    });
  }

  function calculate(calculations, repeat, values, sample, position) {
    var ctx = { values: values, sample: sample, position: position };
    calculations.forEach(function (calc) {
      if ((calc.repeat || "") !== repeat) return;
      try {
        var relevant = (calc.relevant || []).every(function (tree) {
          return window.AnkietaExpr.evaluateBool(tree, ctx);
        });
        values[calc.name] = relevant ? window.AnkietaExpr.evaluate(calc.calculation, ctx) : null;
      } catch (e) {
        // One the browser cannot evaluate (a function it does not have) leaves the rest
        // of the page live; the server computes it when the page is sent.
        values[calc.name] = null;
      }
    });
  }

  // Lists (repeats). Inside an instance ${x} is the same instance's x (else a name of the
  // scope around it); outside, a list and every name inside it are node-sets:
  // {nodeset: [values...], paths: [[1], [2], ...]} (nested: [1, 2] is the second entry
  // inside the first), as the server evaluates them. An instance's fields are named
  // LIST.N.x (nested: LIST.1.INNER.2.y); its fieldset carries data-instance="LIST.N".

  function isNodeSet(value) {
    return value !== null && typeof value === "object" && Array.isArray(value.nodeset);
  }

  function nearestInstance(form, node) {
    var found = node.parentElement ? node.parentElement.closest("[data-instance]") : null;
    return found && form.contains(found) ? found : null;
  }

  // The scope of (the values seen by) an element: its instance's, else the page's.
  function scopeFor(scopes, node) {
    var instance = node.closest("[data-instance]");
    return (instance && scopes.byInstance.get(instance)) || scopes.root;
  }

  // Evaluate the lists directly inside `container` (the form, or an instance) for `scope`:
  // each instance's own values and calculations, then the node-sets the scope sees.
  function evaluateLists(form, container, scope, chain, calculations, sample, scopes) {
    var containerInstance = container === form ? null : container;
    Array.prototype.forEach.call(container.querySelectorAll("[data-repeat]"), function (list) {
      if (nearestInstance(form, list) !== containerInstance) return;
      var name = list.getAttribute("data-repeat");
      var short = name.split(".").pop();
      var listChain = chain ? chain + "." + short : short;
      var instances = Array.prototype.filter.call(list.querySelectorAll("[data-instance]"), function (el) {
        return el.parentElement.closest("[data-repeat]") === list;
      });
      if (list.hidden) instances = [];
      var perInstance = instances.map(function (element, index) {
        var prefix = element.getAttribute("data-instance") + ".";
        var own = {};
        Object.keys(scope.fields).forEach(function (field) {
          if (field.indexOf(prefix) === 0 && field.slice(prefix.length).indexOf(".") < 0) {
            own[field.slice(prefix.length)] = scope.fields[field];
          }
        });
        var inner = {
          prefix: prefix,
          fields: scope.fields,
          values: Object.assign({}, scope.values, own),
          own: own,
        };
        var position = Number(prefix.split(".").slice(-2, -1)[0]) || index + 1;
        evaluateLists(form, element, inner, listChain, calculations, sample, scopes);
        calculate(calculations, listChain, inner.values, sample, position);
        calculations.forEach(function (calc) {
          if (calc.repeat === listChain) own[calc.name] = inner.values[calc.name];
        });
        scopes.byInstance.set(element, inner);
        return inner.own;
      });
      var count = perInstance.length;
      scope.values[short] = {
        nodeset: perInstance.map(function (own, i) { return i + 1; }),
        paths: perInstance.map(function (own, i) { return [i + 1]; }),
      };
      var names = {};
      perInstance.forEach(function (own) {
        Object.keys(own).forEach(function (key) {
          names[key] = names[key] || isNodeSet(own[key]);
        });
      });
      Object.keys(names).forEach(function (key) {
        var set = { nodeset: [], paths: [] };
        for (var i = 0; i < count; i++) {
          var value = perInstance[i][key];
          if (names[key]) {
            if (!isNodeSet(value)) continue;
            set.nodeset = set.nodeset.concat(value.nodeset);
            value.paths.forEach(function (path) {
              set.paths.push([i + 1].concat(path));
            });
          } else {
            set.nodeset.push(value === undefined || value === null ? "" : value);
            set.paths.push([i + 1]);
          }
        }
        scope.values[key] = set;
        if (scope.own) scope.own[key] = set;
      });
    });
  }

  function refresh(form, known, sample, calculations) {
    var fields = fieldValues(form);
    var rootValues = Object.assign({}, known);
    Object.keys(fields).forEach(function (name) {
      if (name.indexOf(".") < 0) rootValues[name] = fields[name];
    });
    var root = { prefix: "", fields: fields, values: rootValues, own: null };
    var scopes = { root: root, byInstance: new Map() };
    evaluateLists(form, form, root, "", calculations, sample, scopes);
    calculate(calculations, "", rootValues, sample, undefined);
    Array.prototype.forEach.call(form.querySelectorAll("[data-relevant]"), function (item) {
      var tree;
      try {
        tree = JSON.parse(item.getAttribute("data-relevant"));
      } catch (e) {
        return;
      }
      var scope = scopeFor(scopes, item);
      var position = scope.prefix ? Number(scope.prefix.split(".").slice(-2, -1)[0]) : undefined;
      var shown;
      try {
        shown = window.AnkietaExpr.evaluateBool(tree, {
          values: scope.values,
          sample: sample,
          position: position,
        });
      } catch (e) {
        return; // as the server showed it (it decides when the page is sent)
      }
      setShown(item, shown);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-filter]"), function (fieldset) {
      var filter = JSON.parse(fieldset.getAttribute("data-filter"));
      var values = scopeFor(scopes, fieldset).values;
      Array.prototype.forEach.call(fieldset.querySelectorAll("[data-choice]"), function (choice) {
        var columns = JSON.parse(choice.getAttribute("data-choice"));
        var offered = window.AnkietaExpr.evaluateBool(filter, {
          values: values,
          sample: sample,
          choice: columns,
        });
        choice.hidden = !offered;
        if (choice.tagName === "OPTION") {
          // a dropdown's choice: offered or not, and a chosen one that goes is unchosen
          choice.disabled = !offered;
          if (!offered && choice.selected) choice.closest("select").value = "";
          return;
        }
        var input = choice.querySelector("input");
        if (input) {
          input.disabled = !offered;
          if (!offered) input.checked = false;
        }
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[data-other], option[data-other]"), function (choice) {
      var box = document.getElementById("item-" + choice.getAttribute("data-other"));
      if (box) {
        // :checked is a ticked box or a chosen option of a dropdown
        var chosen = form.querySelector('[data-other="' + CSS.escape(choice.getAttribute("data-other")) + '"]:checked');
        box.hidden = !chosen;
      }
    });
    fillTemplates(form, scopes, sample);
  }

  // Removing an entry of a list asks first: in a modal dialog here (its Remove button
  // sends the page with confirm_remove:PATH), on the page itself without script.
  function confirmRemovals(form) {
    var dialog = document.getElementById("remove-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var question = dialog.querySelector("[data-question]");
    var confirm = dialog.querySelector("button[data-confirm-remove]");
    var cancel = dialog.querySelector("button[data-cancel]");
    var opener = null;
    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button.remove[data-confirm]") : null;
      if (!button || !form.contains(button)) return;
      event.preventDefault();
      opener = button;
      question.textContent = button.getAttribute("data-confirm");
      confirm.value = "confirm_remove:" + button.value.slice("remove:".length);
      dialog.showModal();
      cancel.focus();
    });
    cancel.addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("close", function () {
      if (opener && document.body.contains(opener)) opener.focus();
    });
  }

  // A geopoint's "Use my location" button, shown only where the browser can tell: it
  // fills the typed fields (latitude, longitude, altitude, accuracy) when the respondent
  // allows it; without script, or when refused, the fields are typed in.
  function geolocation(form) {
    if (!navigator.geolocation) return;
    Array.prototype.forEach.call(form.querySelectorAll("button[data-locate]"), function (button) {
      var box = button.closest(".geopoint");
      var status = box.querySelector(".geo-status");
      button.parentNode.hidden = false;
      button.addEventListener("click", function () {
        status.textContent = status.getAttribute("data-locating");
        navigator.geolocation.getCurrentPosition(
          function (position) {
            var c = position.coords;
            var parts = [c.latitude.toFixed(6), c.longitude.toFixed(6),
              c.altitude == null ? "" : c.altitude.toFixed(1),
              c.accuracy == null ? "" : c.accuracy.toFixed(1)];
            var fields = box.querySelectorAll(".geo-part input");
            Array.prototype.forEach.call(fields, function (field, index) {
              field.value = parts[index] || "";
            });
            Array.prototype.forEach.call(box.querySelectorAll('input[type=checkbox]'), function (other) {
              other.checked = false; // a location replaces a don't know / refused
            });
            status.textContent = status.getAttribute("data-located");
            form.dispatchEvent(new Event("input", { bubbles: true }));
          },
          function () {
            status.textContent = status.getAttribute("data-failed");
          },
          { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
        );
      });
    });
  }

  // After an entry was added or removed the page comes back at #instance-LIST.N (the new
  // entry: its first field gets the focus) or #t-LIST (the list's heading), both focusable
  // (tabindex -1) so that the browser puts the focus there without script too.
  function focusTarget() {
    if (!location.hash || location.hash.length < 2) return false;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) return false;
    if (target.hasAttribute("data-instance") || target.id === "confirm-remove") {
      var first = target.querySelector(
        "input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled]), button"
      );
      (first || target).focus();
      return true;
    }
    target.focus();
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    else if (location.hash) {
      // The browser focuses the #target itself once the page has loaded (its fieldset,
      // without script); then move on to the entry's first field.
      if (document.readyState === "complete") focusTarget();
      else window.addEventListener("load", focusTarget);
    }
    var form = document.getElementById("questionnaire");
    if (form) confirmRemovals(form);
    if (form) geolocation(form);
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
