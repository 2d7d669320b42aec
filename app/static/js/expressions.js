/*
 * Ankieta expressions in the browser: evaluates the JSON trees that the server's parser
 * (app/domain/expressions.py) produces, with the same XLSForm/XPath semantics, so skip
 * logic and constraints behave the same while a respondent types.
 *
 *   AnkietaExpr.evaluate(tree, ctx)      -> number | string | boolean | null
 *       (dates as 'YYYY-MM-DD'; null for an empty result: '', NaN or +-Infinity)
 *   AnkietaExpr.evaluateBool(tree, ctx)  -> boolean (XPath boolean())
 *
 * ctx = {values: {name: answer}, current: answer, sample: {name: value},
 *        choice: {column: value}, today: 'YYYY-MM-DD' (default: the local date),
 *        now: 'YYYY-MM-DDTHH:MM:SS' (Warsaw time; default: the start of ctx.today, else
 *        the browser's clock),
 *        position: the number (from 1) of the repeat instance being evaluated, if any,
 *        language: for month and day names in format-date() (default Polish)}
 * An answer is null/undefined/'' (empty), a string, a number, a boolean, an array of codes
 * (select_multiple) or a Date (its local calendar date). A date answer may simply be its
 * 'YYYY-MM-DD' string: such strings count as dates wherever a number is needed. Moments
 * ('YYYY-MM-DDTHH:MM[:SS]') and times ('HH:MM[:SS]') are strings too, read by their shape
 * and compared typed, as on the server (see expressions.py).
 *
 * Repeats. Inside an instance, values holds that instance's answers over the enclosing
 * scopes' (the instance's own name wins). A name inside a repeat read from outside it is a
 * node-set, given in values as
 *
 *   {nodeset: [answer, ...], paths: [[1], [2], ...]}
 *
 * one answer per instance in order (nested repeats flattened; null or '' where an instance
 * has none) and, for each, the instance numbers leading to it, one per repeat level between
 * the reader and the value ([[1, 1], [1, 2], [2, 1]] for a field of a repeat nested in
 * another); a repeat's own name holds its instance numbers ({nodeset: [1, 2], paths:
 * [[1], [2]]}). count() counts a node-set's values (empty ones too); sum, min, max and join
 * take its non-empty values (an empty sum is 0, an empty min/max NaN, that is null), as
 * concat does (every value, as ODK);
 * indexed-repeat(${x}, ${r}, i [, ${r2}, i2]) picks one by its path; position(..) is
 * ctx.position. Anywhere else a node-set reads as its first value (and is true when it
 * has one), as on the server.
 *
 * jr:choice-name(code, '${q}') reads the labels the server put on its node ("labels":
 * {code: label}, see with_choice_labels in expressions.py): the browser has no questionnaire.
 *
 * The server validates trees, so this file trusts their shape. One known difference:
 * regex() runs the browser's RegExp, where \d and \w match ASCII only (the server's
 * engine matches any Unicode digit or letter); write [0-9] and explicit letter classes.
 * Patterns are compiled once and cached; the server refuses syntax RegExp cannot read.
 */
(function (root) {
  "use strict";

  var DAY_MS = 86400000;
  var MIN_DAY = -719162; // 0001-01-01
  var MAX_DAY = 2932896; // 9999-12-31
  var ROUND_DIGITS_LIMIT = 350;
  var XPATH_NUMBER = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
  var ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
  var CLOCK = "([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.[0-9]{1,9})?)?";
  var ISO_MOMENT = new RegExp("^([0-9]{4})-([0-9]{2})-([0-9]{2})T" + CLOCK + "$");
  var ISO_TIME = new RegExp("^" + CLOCK + "$");
  var DAY_SECONDS = 86400;
  var MAX_UUID_LENGTH = 1000;
  var UUID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  var XML_SPACE_EDGES = /^[ \t\r\n]+|[ \t\r\n]+$/g;
  var XML_SPACE = /[ \t\r\n]+/;

  /** A calendar date, held as its day count since 1970-01-01. */
  function XDate(days) {
    this.days = days;
  }
  XDate.prototype.iso = function () {
    var d = new Date(this.days * DAY_MS);
    return (
      pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2)
    );
  };

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) text = "0" + text;
    return text;
  }

  /** Days since 1970-01-01 of a valid year-month-day, else null. */
  function dayCount(year, month, day) {
    if (year < 1 || month < 1 || month > 12 || day < 1) return null;
    var d = new Date(0);
    d.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0-99 to 1900s
    if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
      return null;
    }
    return Math.round(d.getTime() / DAY_MS);
  }

  function parseIsoDate(text) {
    var match = ISO_DATE.exec(text);
    if (!match) return null;
    var days = dayCount(Number(match[1]), Number(match[2]), Number(match[3]));
    return days === null ? null : new XDate(days);
  }

  function strip(text) {
    return text.replace(XML_SPACE_EDGES, "");
  }

  /** The seconds since midnight of a time as written, null when it is no time of day. */
  function clockSeconds(hours, minutes, seconds) {
    var hour = Number(hours);
    var minute = Number(minutes);
    var second = seconds === undefined ? 0 : Number(seconds);
    if (hour > 23 || minute > 59 || second > 59) return null;
    return hour * 3600 + minute * 60 + second;
  }

  /** A 'YYYY-MM-DDTHH:MM[:SS]' moment as {day: XDate, seconds}, else null. */
  function parseMoment(text) {
    var match = ISO_MOMENT.exec(text);
    if (!match) return null;
    var day = parseIsoDate(text.slice(0, 10));
    var seconds = clockSeconds(match[4], match[5], match[6]);
    return day === null || seconds === null ? null : { day: day, seconds: seconds };
  }

  /** An 'HH:MM[:SS]' time of day as the seconds since midnight, else null. */
  function parseTime(text) {
    var match = ISO_TIME.exec(text);
    return match ? clockSeconds(match[1], match[2], match[3]) : null;
  }

  /** A moment as its day count and fraction, a time as the fraction of a day; else NaN. */
  function momentNumber(text) {
    var moment = parseMoment(text);
    if (moment !== null) return moment.day.days + moment.seconds / DAY_SECONDS;
    var seconds = parseTime(text);
    return seconds === null ? NaN : seconds / DAY_SECONDS;
  }

  function momentText(days, seconds, withSeconds) {
    var text = new XDate(days).iso() + "T" + pad(Math.floor(seconds / 3600), 2) + ":";
    text += pad(Math.floor(seconds / 60) % 60, 2);
    return withSeconds ? text + ":" + pad(seconds % 60, 2) : text;
  }

  /** A name inside a repeat read from outside it: its values, each with its instance path. */
  function NodeSet(values, paths) {
    this.values = values;
    this.paths = paths;
  }

  function isNodeSet(value) {
    return value instanceof NodeSet;
  }

  /** What a node-set reads as where one value is wanted: its first (XPath). */
  function first(nodeSet) {
    return nodeSet.values.length ? answer(nodeSet.values[0]) : "";
  }

  /** Arguments with each node-set replaced by its non-empty values. */
  function spread(values) {
    var out = [];
    values.forEach(function (value) {
      if (isNodeSet(value)) {
        nodeSetValues(value).forEach(function (each) {
          if (!isEmpty(each)) out.push(each);
        });
      } else {
        out.push(value);
      }
    });
    return out;
  }

  function nodeSetValues(nodeSet) {
    return nodeSet.values.map(answer);
  }

  /** An answer, sample value or choice column as an expression value. */
  function answer(value) {
    if (value === null || value === undefined) return "";
    if (value instanceof NodeSet) return value;
    if (typeof value === "object" && Array.isArray(value.nodeset)) {
      return new NodeSet(value.nodeset, value.paths || []);
    }
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      return value;
    }
    if (value instanceof XDate) return value;
    if (value instanceof Date) {
      return new XDate(dayCount(value.getFullYear(), value.getMonth() + 1, value.getDate()));
    }
    if (Array.isArray(value)) return value.map(String).join(" ");
    return String(value);
  }

  /** XPath number(), plus day counts for dates and 'YYYY-MM-DD' strings. */
  function toNumber(value) {
    if (typeof value === "number") return value;
    if (isNodeSet(value)) return toNumber(first(value));
    if (typeof value === "string") {
      var text = strip(value);
      if (XPATH_NUMBER.test(text)) return parseFloat(text);
      var date = parseIsoDate(text);
      return date === null ? momentNumber(text) : date.days;
    }
    if (typeof value === "boolean") return value ? 1 : 0;
    return value.days;
  }

  /** "date", "moment" or "time" for a value of that kind (by type or shape), else null. */
  function kind(value) {
    if (isNodeSet(value)) value = first(value);
    if (value instanceof XDate) return "date";
    if (typeof value !== "string") return null;
    var text = strip(value);
    if (parseIsoDate(text) !== null) return "date";
    if (parseMoment(text) !== null) return "moment";
    return parseTime(text) !== null ? "time" : null;
  }

  /** The fraction of the day of a time or moment (a date: 0; a number: itself). */
  function timeOfDay(value) {
    if (isNodeSet(value)) value = first(value);
    if (value instanceof XDate) return 0;
    if (typeof value === "string") {
      var text = strip(value);
      var moment = parseMoment(text);
      if (moment !== null) return moment.seconds / DAY_SECONDS;
      if (parseIsoDate(text) !== null) return 0;
    }
    return toNumber(value);
  }

  /** A date's day count; a moment's day (its fraction dropped); a number as it is. */
  function dayOf(value) {
    var number = toNumber(value);
    return kind(value) === "moment" ? Math.floor(number) : number;
  }

  /** Both sides as numbers of one kind when either is a date, moment or time; else null. */
  function typed(left, right) {
    var kinds = [kind(left), kind(right)];
    if (kinds[0] === null && kinds[1] === null) return null;
    if (kinds.indexOf("time") >= 0) return [timeOfDay(left), timeOfDay(right)];
    if (kinds.indexOf("date") >= 0) return [dayOf(left), dayOf(right)];
    return [toNumber(left), toNumber(right)];
  }

  /** The seconds into its day of a moment or time (format-date's %H:%M:%S). */
  function secondsIntoDay(value) {
    if (isNodeSet(value)) value = first(value);
    if (typeof value !== "string") return 0;
    var text = strip(value);
    var moment = parseMoment(text);
    if (moment !== null) return moment.seconds;
    return parseTime(text) || 0;
  }

  function toStr(value) {
    if (typeof value === "string") return value;
    if (isNodeSet(value)) return toStr(first(value));
    if (typeof value === "number") return formatNumber(value);
    if (typeof value === "boolean") return value ? "true" : "false";
    return value.iso();
  }

  function toBool(value) {
    if (typeof value === "boolean") return value;
    if (typeof value === "number") return value === value && value !== 0;
    if (typeof value === "string") return value !== "";
    if (isNodeSet(value)) return value.values.length > 0; // XPath: true when it has a node
    return true;
  }

  /** A number written out in full, its digits those of the shortest round-trip form. */
  function formatNumber(number) {
    if (number !== number) return "NaN";
    if (number === Infinity) return "Infinity";
    if (number === -Infinity) return "-Infinity";
    if (number === 0) return "0";
    var sign = number < 0 ? "-" : "";
    var text = String(Math.abs(number));
    var e = text.indexOf("e");
    if (e < 0) return sign + text;
    var mantissa = text.slice(0, e);
    var dot = mantissa.indexOf(".");
    var digits = mantissa.replace(".", "");
    var point = (dot < 0 ? mantissa.length : dot) + Number(text.slice(e + 1));
    if (point <= 0) return sign + "0." + "0".repeat(-point) + digits;
    if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
    return sign + digits.slice(0, point) + "." + digits.slice(point);
  }

  function isEmpty(value) {
    if (isNodeSet(value)) return isEmpty(first(value));
    return value === "" || (typeof value === "number" && value !== value);
  }

  function equal(left, right) {
    if (typeof left === "boolean" || typeof right === "boolean") {
      return toBool(left) === toBool(right);
    }
    if (isNodeSet(left)) left = first(left);
    if (isNodeSet(right)) right = first(right);
    var both = typed(left, right);
    if (both !== null) return both[0] === both[1];
    if (typeof left === "string" && typeof right === "string") return left === right;
    return toNumber(left) === toNumber(right);
  }

  /** < <= > >=: typed when either side is a date, moment or time, else numeric. */
  function relation(op, left, right) {
    var both = typed(left, right);
    if (both === null) both = [toNumber(left), toNumber(right)];
    return RELATIONAL[op](both[0], both[1]);
  }

  /** date-time(x): the moment of a day count with its fraction; NaN when there is none. */
  function dateTime(value) {
    var number = toNumber(value);
    if (number !== number || !isFinite(number)) return NaN;
    var days = Math.floor(number);
    var seconds = Math.floor((number - days) * DAY_SECONDS + 0.5);
    if (seconds >= DAY_SECONDS) {
      days += 1;
      seconds = 0;
    }
    if (days < MIN_DAY || days > MAX_DAY) return NaN;
    return momentText(days, seconds, true);
  }

  /** decimal-time(t): the fraction of the day of a time or moment; else NaN. */
  function decimalTime(value) {
    var k = kind(value);
    return k === "time" || k === "moment" ? timeOfDay(value) : NaN;
  }

  /** uuid(): a random UUID 4; uuid(n): n random letters and digits. */
  function uuid(length) {
    var cryptoApi = root.crypto;
    if (length === undefined) {
      if (cryptoApi && cryptoApi.randomUUID) return cryptoApi.randomUUID();
      var hex = "";
      for (var i = 0; i < 32; i++) hex += Math.floor(Math.random() * 16).toString(16);
      var variant = "89ab".charAt(Math.floor(Math.random() * 4));
      return (
        hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-4" + hex.slice(13, 16) + "-" + variant +
        hex.slice(17, 20) + "-" + hex.slice(20, 32)
      );
    }
    var number = toNumber(length);
    if (number !== number || number < 1) return "";
    var count = Math.floor(Math.min(number, MAX_UUID_LENGTH));
    var out = "";
    for (var k = 0; k < count; k++) {
      out += UUID_ALPHABET.charAt(Math.floor(Math.random() * UUID_ALPHABET.length));
    }
    return out;
  }

  function now(ctx) {
    if (ctx.now !== undefined && ctx.now !== null) return String(ctx.now);
    if (ctx.today !== undefined && ctx.today !== null) return today(ctx).iso() + "T00:00:00";
    var clock = new Date();
    var days = dayCount(clock.getFullYear(), clock.getMonth() + 1, clock.getDate());
    var seconds = clock.getHours() * 3600 + clock.getMinutes() * 60 + clock.getSeconds();
    return momentText(days, seconds, true);
  }

  function signedZero(result, source) {
    return result === 0 ? (source < 0 || Object.is(source, -0) ? -0 : 0) : result;
  }

  /** Adds one to a string of decimal digits ("" counts as 0). */
  function increment(digits) {
    var out = digits.split("");
    for (var i = out.length - 1; i >= 0; i--) {
      if (out[i] !== "9") {
        out[i] = String(Number(out[i]) + 1);
        return out.join("");
      }
      out[i] = "0";
    }
    return "1" + out.join("");
  }

  /** round(x, places): the shortest decimal form of x rounded half away from zero. */
  function round(number, places) {
    if (number !== number || !isFinite(number) || places !== places) {
      return places === places ? number : NaN;
    }
    places = Math.trunc(Math.max(-ROUND_DIGITS_LIMIT, Math.min(ROUND_DIGITS_LIMIT, places)));
    var text = formatNumber(Math.abs(number));
    var dot = text.indexOf(".");
    var whole = dot < 0 ? text : text.slice(0, dot);
    var digits = whole + (dot < 0 ? "" : text.slice(dot + 1));
    var keep = whole.length + places;
    if (keep >= digits.length) return number;
    var kept = keep > 0 ? digits.slice(0, keep) : "";
    var next = keep >= 0 ? digits.charAt(keep) : "0";
    if (next >= "5") kept = increment(kept);
    var magnitude = kept === "" ? 0 : parseFloat(kept + "e" + -places);
    return signedZero(number < 0 ? -magnitude : magnitude, number);
  }

  function integral(value, rounding) {
    var number = toNumber(value);
    if (number !== number || !isFinite(number)) return number;
    return signedZero(rounding(number), number);
  }

  function toDate(value) {
    if (value instanceof XDate) return value;
    if (typeof value === "string") {
      var date = parseIsoDate(strip(value));
      if (date !== null) return date;
    }
    var number = toNumber(value);
    if (number !== number || !isFinite(number)) return NaN;
    var days = Math.floor(number);
    return days < MIN_DAY || days > MAX_DAY ? NaN : new XDate(days);
  }

  function codes(value) {
    return toStr(value)
      .split(XML_SPACE)
      .filter(function (code) {
        return code !== "";
      });
  }

  function numbers(values) {
    return values.map(toNumber);
  }

  function sum() {
    var values = spread(Array.from(arguments));
    var total = 0; // in order, one addition at a time, as the server does
    for (var i = 0; i < values.length; i++) total += toNumber(values[i]);
    return total;
  }

  function extreme(pick) {
    return function () {
      var values = numbers(spread(Array.from(arguments)));
      return values.length ? pick.apply(null, values) : NaN;
    };
  }

  /** indexed-repeat(${x}, ${r}, i [, ${r2}, i2 ...]): ${x} in the instance numbered so. */
  function indexedRepeat(value) {
    if (!isNodeSet(value)) return value;
    var wanted = [];
    for (var i = 2; i < arguments.length; i += 2) {
      var number = toNumber(arguments[i]);
      if (number !== number || number < 1 || number !== Math.trunc(number)) return "";
      wanted.push(number);
    }
    for (var k = 0; k < value.values.length; k++) {
      var path = value.paths[k] || [];
      var matches = true;
      for (var j = 0; j < wanted.length; j++) {
        if (path[j] !== wanted[j]) {
          matches = false;
          break;
        }
      }
      if (matches) return answer(value.values[k]);
    }
    return "";
  }

  /** A position as String.prototype.slice reads it: NaN is 0, negatives count from the end. */
  function sliceIndex(value, length) {
    var number = toNumber(value);
    if (number !== number) return 0;
    if (!isFinite(number)) return number > 0 ? length : 0;
    var index = Math.trunc(number);
    return index < 0 ? Math.max(length + index, 0) : Math.min(index, length);
  }

  /** substr(s, start, end?): from the 0-based start up to, not including, end (code points). */
  function substr(text, start, end) {
    var chars = Array.from(toStr(text));
    var stop = end === undefined ? chars.length : sliceIndex(end, chars.length);
    return chars.slice(sliceIndex(start, chars.length), stop).join("");
  }

  function xpathRound(number) {
    return number !== number || !isFinite(number) ? number : Math.floor(number + 0.5);
  }

  /** XPath substring(s, start, length?): the characters at 1-based positions p with
   * round(start) <= p < round(start) + round(length); NaN selects nothing. */
  function substring(text, start, length) {
    var chars = Array.from(toStr(text));
    var first = xpathRound(toNumber(start));
    var last = length === undefined ? Infinity : first + xpathRound(toNumber(length));
    if (!(first < last)) return "";
    var low = first < 1 ? 1 : first;
    var high = last > chars.length + 1 ? chars.length + 1 : last;
    return low < high ? chars.slice(low - 1, high - 1).join("") : "";
  }

  function translate(text, source, target) {
    var replacements = new Map();
    var to = Array.from(toStr(target));
    Array.from(toStr(source)).forEach(function (c, index) {
      if (!replacements.has(c)) replacements.set(c, index < to.length ? to[index] : "");
    });
    return Array.from(toStr(text))
      .map(function (c) {
        return replacements.has(c) ? replacements.get(c) : c;
      })
      .join("");
  }

  /** selected-at(a, n): the code chosen n-th (from 0) in a select_multiple answer. */
  function selectedAt(value, index) {
    var chosen = codes(value);
    var number = toNumber(index);
    if (number !== number || !isFinite(number)) return "";
    var position = Math.trunc(number);
    return position >= 0 && position < chosen.length ? chosen[position] : "";
  }

  function countNonEmpty(value) {
    if (isNodeSet(value)) {
      return nodeSetValues(value).filter(function (each) {
        return !isEmpty(each);
      }).length;
    }
    return isEmpty(value) ? 0 : 1;
  }

  /** Whether total is within [low, high]; a negative bound is no bound. */
  function within(total, low, high) {
    var least = toNumber(low);
    var most = toNumber(high);
    return (least < 0 || total >= least) && (most < 0 || total <= most);
  }

  function checklist(low, high) {
    var values = spread(Array.prototype.slice.call(arguments, 2));
    return within(values.filter(toBool).length, low, high);
  }

  function weightedChecklist(low, high) {
    var total = 0;
    for (var i = 2; i + 1 < arguments.length; i += 2) {
      if (toBool(arguments[i])) total += toNumber(arguments[i + 1]);
    }
    return within(total, low, high);
  }

  function math(fn) {
    return function (value) {
      return fn(toNumber(value));
    };
  }

  var MONTHS = {
    en: "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" "),
    pl: "sty lut mar kwi maj cze lip sie wrz paź lis gru".split(" "),
  };
  var WEEKDAYS = {
    en: "Sun Mon Tue Wed Thu Fri Sat".split(" "),
    pl: "niedz. pon. wt. śr. czw. pt. sob.".split(" "),
  };

  /** format-date(d, format): ODK's %Y %y %m %n %b %d %e %a and %H %h %M %S %3 (the time
   * of a moment or time, zero for a date). */
  function formatDate(value, form, language) {
    var day = toDate(value);
    if (!(day instanceof XDate)) return "";
    var seconds = secondsIntoDay(value);
    var hour = Math.floor(seconds / 3600);
    var names = String(language || "pl").indexOf("pl") === 0 ? "pl" : "en";
    var d = new Date(day.days * DAY_MS);
    var year = d.getUTCFullYear();
    var month = d.getUTCMonth() + 1;
    var date = d.getUTCDate();
    var fields = {
      Y: pad(year, 4),
      y: pad(year % 100, 2),
      m: pad(month, 2),
      n: String(month),
      b: MONTHS[names][month - 1],
      d: pad(date, 2),
      e: String(date),
      a: WEEKDAYS[names][(((day.days + 4) % 7) + 7) % 7],
      H: pad(hour, 2),
      h: String(hour),
      M: pad(Math.floor(seconds / 60) % 60, 2),
      S: pad(seconds % 60, 2),
      3: "000",
    };
    return toStr(form).replace(/%([\s\S]?)/g, function (all, code) {
      return Object.prototype.hasOwnProperty.call(fields, code) ? fields[code] : all;
    });
  }

  var FUNCTIONS = {
    selected: function (value, code) {
      return codes(value).indexOf(strip(toStr(code))) >= 0;
    },
    "count-selected": function (value) {
      return codes(value).length;
    },
    coalesce: function (first, second) {
      return isEmpty(first) ? second : first;
    },
    concat: function () {
      return spread(Array.from(arguments)).map(toStr).join(""); // node-sets: every value
    },
    "string-length": function (value) {
      return Array.from(toStr(value)).length; // code points, as the server counts
    },
    int: function (value) {
      return integral(value, Math.trunc);
    },
    number: toNumber,
    round: function (value, places) {
      return round(toNumber(value), places === undefined ? 0 : toNumber(places));
    },
    sum: sum,
    not: function (value) {
      return !toBool(value);
    },
    true: function () {
      return true;
    },
    false: function () {
      return false;
    },
    string: toStr,
    contains: function (text, part) {
      return toStr(text).indexOf(toStr(part)) >= 0;
    },
    "starts-with": function (text, start) {
      return toStr(text).indexOf(toStr(start)) === 0;
    },
    boolean: toBool,
    min: extreme(Math.min),
    max: extreme(Math.max),
    abs: function (value) {
      return Math.abs(toNumber(value));
    },
    floor: function (value) {
      return integral(value, Math.floor);
    },
    ceiling: function (value) {
      return integral(value, Math.ceil);
    },
    pow: function (base, exponent) {
      return Math.pow(toNumber(base), toNumber(exponent));
    },
    date: toDate,
    count: function (value) {
      return isNodeSet(value) ? value.values.length : 1;
    },
    join: function (separator) {
      var values = spread(Array.prototype.slice.call(arguments, 1));
      return values.map(toStr).join(toStr(separator));
    },
    "indexed-repeat": indexedRepeat,
    substr: substr,
    substring: substring,
    "substring-before": function (text, part) {
      var string = toStr(text);
      var found = string.indexOf(toStr(part));
      return found < 0 ? "" : string.slice(0, found);
    },
    "substring-after": function (text, part) {
      var string = toStr(text);
      var sought = toStr(part);
      var found = string.indexOf(sought);
      return found < 0 ? "" : string.slice(found + sought.length);
    },
    translate: translate,
    "normalize-space": function (text) {
      return strip(toStr(text)).split(XML_SPACE).join(" ");
    },
    "ends-with": function (text, end) {
      var string = toStr(text);
      var suffix = toStr(end);
      return string.length >= suffix.length && string.slice(string.length - suffix.length) === suffix;
    },
    "boolean-from-string": function (text) {
      var string = toStr(text);
      return string === "true" || string === "1";
    },
    "selected-at": selectedAt,
    "decimal-date-time": toNumber,
    "decimal-time": decimalTime,
    "date-time": dateTime,
    once: function (value) {
      return value;
    },
    uuid: uuid,
    "count-non-empty": countNonEmpty,
    checklist: checklist,
    "weighted-checklist": weightedChecklist,
    sqrt: math(Math.sqrt),
    exp: math(Math.exp),
    exp10: function (value) {
      return Math.pow(10, toNumber(value));
    },
    log: math(Math.log),
    log10: math(Math.log10),
    sin: math(Math.sin),
    cos: math(Math.cos),
    tan: math(Math.tan),
    asin: math(Math.asin),
    acos: math(Math.acos),
    atan: math(Math.atan),
    atan2: function (y, x) {
      return Math.atan2(toNumber(y), toNumber(x));
    },
    pi: function () {
      return Math.PI;
    },
  };

  var ARITHMETIC = {
    "+": function (a, b) {
      return a + b;
    },
    "-": function (a, b) {
      return a - b;
    },
    "*": function (a, b) {
      return a * b;
    },
    div: function (a, b) {
      return a / b;
    },
    mod: function (a, b) {
      return a % b;
    },
  };

  var RELATIONAL = {
    "<": function (a, b) {
      return a < b;
    },
    "<=": function (a, b) {
      return a <= b;
    },
    ">": function (a, b) {
      return a > b;
    },
    ">=": function (a, b) {
      return a >= b;
    },
  };

  var patterns = new Map();

  function regexMatches(text, pattern) {
    if (!patterns.has(pattern)) {
      var compiled = null;
      try {
        compiled = new RegExp(pattern);
      } catch (error) {
        compiled = null; // a pattern this browser cannot read matches nothing
      }
      patterns.set(pattern, compiled);
    }
    var regex = patterns.get(pattern);
    return regex !== null && regex.test(text);
  }

  function today(ctx) {
    if (ctx.today !== undefined && ctx.today !== null) {
      return typeof ctx.today === "string" ? parseIsoDate(ctx.today) : answer(ctx.today);
    }
    return answer(new Date());
  }

  function lookup(mapping, name) {
    var own = mapping && Object.prototype.hasOwnProperty.call(mapping, name);
    return answer(own ? mapping[name] : null);
  }

  /** The value of ``node`` in ``ctx``. */
  function value(node, ctx) {
    switch (node.type) {
      case "number":
      case "string":
        return node.value;
      case "ref":
        return lookup(ctx.values, node.name);
      case "sample":
        return lookup(ctx.sample, node.name);
      case "column":
        return lookup(ctx.choice, node.name);
      case "current":
        return answer(ctx.current);
      case "neg":
        return -toNumber(value(node.operand, ctx));
      case "binary":
        return binary(node, ctx);
      default:
        return call(node, ctx);
    }
  }

  function binary(node, ctx) {
    var op = node.op;
    if (op === "and") return toBool(value(node.left, ctx)) && toBool(value(node.right, ctx));
    if (op === "or") return toBool(value(node.left, ctx)) || toBool(value(node.right, ctx));
    var left = value(node.left, ctx);
    var right = value(node.right, ctx);
    if (op === "=") return equal(left, right);
    if (op === "!=") return !equal(left, right);
    if (RELATIONAL.hasOwnProperty(op)) return relation(op, left, right);
    return ARITHMETIC[op](toNumber(left), toNumber(right));
  }

  function call(node, ctx) {
    var args = node.args;
    if (node.name === "if") {
      return toBool(value(args[0], ctx)) ? value(args[1], ctx) : value(args[2], ctx);
    }
    if (node.name === "today") return today(ctx);
    if (node.name === "now") return now(ctx);
    if (node.name === "position") {
      var position = ctx.position;
      return position === undefined || position === null ? NaN : Number(position);
    }
    if (node.name === "regex") return regexMatches(toStr(value(args[0], ctx)), args[1].value);
    if (node.name === "jr:choice-name") {
      var labels = node.labels || {};
      var code = strip(toStr(value(args[0], ctx)));
      return Object.prototype.hasOwnProperty.call(labels, code) ? labels[code] : "";
    }
    if (node.name === "format-date" || node.name === "format-date-time") {
      return formatDate(value(args[0], ctx), value(args[1], ctx), ctx.language);
    }
    var values = args.map(function (arg) {
      return value(arg, ctx);
    });
    return FUNCTIONS[node.name].apply(null, values);
  }

  /** An evaluation result for the page: integral numbers exact, empty as null. */
  function result(value) {
    if (isNodeSet(value)) value = first(value);
    if (typeof value === "number") {
      if (!isFinite(value)) return null;
      return value === 0 ? 0 : value;
    }
    if (value === "") return null;
    if (value instanceof XDate) return value.iso();
    return value;
  }

  var api = {
    evaluate: function (tree, ctx) {
      return result(value(tree, ctx || {}));
    },
    evaluateBool: function (tree, ctx) {
      return toBool(value(tree, ctx || {}));
    },
    formatNumber: formatNumber,
  };

  root.AnkietaExpr = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
