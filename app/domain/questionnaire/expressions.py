"""The expression language of relevance, constraints, calculations and choice filters.

One cohesive thing, hence its length: the lexer, the parser and the evaluator of one small
language share its grammar, its value rules and its error messages, and are read together.

It is the XLSForm / ODK XPath subset that questionnaire authors already know::

    ${name}            the answer to item ``name`` ('' when unanswered)
    ${sample.NAME}     a sample variable of the sampled institution
    .                  the value being checked (constraints)
    subregion          a bare name: a column of the choice being filtered (choice_filter)
    12   3.5   'x'   "x"
    =  !=  <  <=  >  >=  and  or  +  -  *  div  mod  unary -  ( )
    selected(a, code)  count-selected(a)  if(c, a, b)  coalesce(a, b)  concat(a, ...)
    regex(s, 'pattern')  string-length(s)  int(x)  number(x)  round(x, digits?)  today()
    sum(a, ...)  not(x)  true()  false()  string(x)  contains(s, t)  starts-with(s, t)
    boolean(x)  min(a, ...)  max(a, ...)  abs(x)  floor(x)  ceiling(x)  pow(x, y)  date(x)
    count(r)  count-non-empty(r)  join(sep, a)  position(..)  indexed-repeat(a, r, i [, r2, i2])
    substr(s, start, end?)  substring(s, start, length?)  substring-before(s, t)
    substring-after(s, t)  translate(s, from, to)  normalize-space(s)  ends-with(s, t)
    boolean-from-string(s)  selected-at(a, n)  checklist(min, max, a, ...)
    weighted-checklist(min, max, a, wa, ...)  format-date(d, format)  sqrt exp exp10 log
    log10 sin cos tan asin acos atan (x)  atan2(y, x)  pi()  jr:choice-name(code, '${q}')
    format-date-time(d, format) (as format-date)  decimal-date-time(d) (as number: days)
    now()  decimal-time(t)  date-time(x)  once(x)  uuid()  uuid(n)

Other ODK functions (``pulldata``, ``instance``, ``jr:itext``, ``random``, ...) are
refused by name with the reason (``REFUSED_FUNCTIONS``).

Precedence, loosest first: ``or``; ``and``; ``= !=``; ``< <= > >=``; ``+ -``;
``* div mod``; unary minus. Binary operators are left-associative.

``parse`` reads an expression once with a hand-written precedence-climbing parser, checks
function names, argument counts, literal regex patterns and literal dates, and compiles
the tree into Python closures. Parses are cached: the same source gives the same
``Expression``. (Measured on 3,000 typical expressions: lark's LALR parser takes 0.24 s
to build bare parse trees; this parser parses, checks and compiles them in 0.12-0.15 s,
and its recursion depth and error positions are under our control.)

The tree (``Expression.to_json()``) is plain JSON, evaluated by the browser too
(``app/static/js/expressions.js``). Its nodes::

    {"type": "number", "value": 12}                 int or float literal
    {"type": "string", "value": "x"}
    {"type": "ref", "name": "a"}                    ${a}
    {"type": "sample", "name": "NAME"}              ${sample.NAME}
    {"type": "current"}                             .
    {"type": "column", "name": "subregion"}         bare name
    {"type": "neg", "operand": NODE}                unary minus
    {"type": "binary", "op": OP, "left": NODE, "right": NODE}
                        OP is one of: or and = != < <= > >= + - * div mod
    {"type": "call", "name": "selected", "args": [NODE, ...]}
                        (for the browser, a jr:choice-name call may also carry
                        "labels": {code: label}: see ``with_choice_labels``)

Semantics (XPath 1.0 as ODK applies it). Values are numbers (floats), strings,
booleans and dates. Answers come in as ``None``/``''`` (empty: the string ''), ``str``,
``int``/``float``/``Decimal`` (numbers), ``bool``, ``date``, ``datetime`` (a moment: the
string 'YYYY-MM-DDTHH:MM' of its Warsaw wall-clock time), ``time`` (the string 'HH:MM') or
a list of codes (a select_multiple answer: its space-separated string). Moments and times
are strings, as in ODK's XPath, read by their shape: 'YYYY-MM-DD' is a date,
'YYYY-MM-DDTHH:MM[:SS]' a moment, 'HH:MM[:SS]' a time of day (fractions of a second are
ignored; a time zone is not read).

- To number: '' and text that is not a number give NaN; a 'YYYY-MM-DD' string or a date
  gives its day count since 1970-01-01 (so dates subtract, and compare with date strings),
  a moment its day count plus the fraction of its day (ODK's ``decimal-date-time``), a
  time the fraction of the day (ODK's ``decimal-time``); ``true()`` is 1. To string:
  numbers without exponent or trailing '.0', dates as 'YYYY-MM-DD', booleans as
  'true'/'false'. To boolean: non-zero non-NaN numbers, non-empty strings and dates are
  true.
- Comparisons are typed when either side is a date, a moment or a time: two times (or a
  time and a moment, whose time of day counts) compare as times of day; a date and a moment
  compare by day (the moment's day: ``${when} <= today()`` holds all day today); two
  moments compare as moments. The other side is read as the same kind (a number as a day
  count or a fraction of a day, other text as NaN).
- ``=`` compares as booleans if either side is boolean, else typed as above, else as
  strings if both are, else numerically. ``!=`` is exactly ``not(=)``, so ``'' != 5`` is
  true, as in XPath. ``< <= > >=`` compare typed as above, else as numbers; anything with
  NaN is false.
- Arithmetic never raises: ``x div 0`` is ±Infinity (NaN for ``0 div 0``), ``x mod 0`` is
  NaN, and results too large for a float (``pow(10, 100000)``) are ±Infinity.
- ``round`` rounds the shortest decimal form half away from zero (``round(2.675, 2)`` is
  2.68, ``round(-2.5)`` is -3), as ODK does. ``int`` truncates toward zero.
- ``regex(s, 'pattern')`` searches (add ``^...$`` to match the whole text). The pattern
  must be a literal, is checked when parsed, and a match gives up after
  ``REGEX_TIMEOUT`` seconds (counted as no match) so catastrophic backtracking on a
  respondent's text cannot hang the server.
- Text positions count code points (as ``string-length``). ``substr`` reads its positions
  as JavaScript's ``slice`` (from 0, end excluded, negatives from the end, NaN as 0);
  ``substring`` as XPath (from 1, rounded, NaN selects nothing). ``selected-at`` out of
  range, ``format-date`` of a non-date, ``sqrt(-1)`` and ``log(0)`` are empty; the math
  functions follow JavaScript's ``Math`` (NaN outside their domain, ±Infinity on
  overflow). ``format-date`` writes ODK's ``%Y %y %m %n %b %d %e %a`` and ``%H %h %M %S
  %3`` (the time of a moment or a time; zero for a date or a number), names in Polish
  unless ``Context.language`` is another language.
- ``now()`` is ``Context.now`` as a moment with seconds ('YYYY-MM-DDTHH:MM:SS', Warsaw
  time; the start of ``Context.today`` when there is no ``now``). ``date-time(x)`` is the
  moment of a day count with its fraction, ``decimal-time(t)`` the fraction of the day of
  a time or moment. ``once(x)`` is ``x``: keeping a calculation's first value is the
  interview flow's part (a calculation using ``once``, ``now`` or ``uuid`` is
  ``Expression.kept``). ``uuid()`` is a random UUID version 4, ``uuid(n)`` ``n`` random
  letters and digits (up to ``MAX_UUID_LENGTH``).
- ``sum``, ``min`` and ``max`` take several arguments; an empty one makes the result NaN,
  as in XPath (use ``coalesce(${a}, 0)``). ``coalesce`` returns its first argument unless
  that is empty ('' or NaN).

Repeats. Inside an instance of a repeat, ``${x}`` is the same instance's answer (or that of
an enclosing instance, or of the response). From outside, a name inside a repeat reads as a
``NodeSet``: its values in every instance, in order (nested repeats flattened), ``''`` where
an instance has none. ``count(ns)`` counts them (``count(${repeat})`` counts instances);
``sum``, ``min``, ``max`` take a node-set's non-empty values (an empty ``sum`` is 0, an
empty ``min``/``max`` NaN); ``join(sep, ns)`` joins its non-empty values, ``concat``
(as ODK) all of them; ``count-non-empty(ns)`` counts the non-empty ones;
``indexed-repeat(${x}, ${r}, i)`` is ``${x}`` in instance ``i`` of ``r`` (1-based; with
``r2, i2`` in instance ``i2`` of the nested ``r2`` within it); ``position(..)`` is the
number of the instance being evaluated. Elsewhere a node-set reads as its first value
(XPath); the checker refuses such a use (``Expression.scalar_references``).

``Expression.evaluate`` returns ``bool``, ``int`` (integral numbers below 2**53),
``float``, ``str`` or ``date``, and ``None`` for an empty result: '', NaN or ±Infinity.
``Expression.evaluate_bool`` applies XPath ``boolean()``.

Limits against hostile input: at most ``MAX_LENGTH`` characters (checked before
anything else), at most ``MAX_DEPTH`` levels of nesting in the text and in the tree (so
compiling and evaluating never exhaust the stack; a long sum is better written with
``sum()``), no exponent notation in number literals, regex patterns whose counted repeats
(``{m,n}``) multiply past 100,000 are refused (they would compile slowly). Any problem is
an ``ExpressionError``; evaluation itself never raises, whatever the answers.

Bare names are accepted anywhere; that they belong only in choice_filter, and ``.`` only
in constraints, is for the checker to say (see ``column_references`` and ``uses_current``).
"""

from __future__ import annotations

import math
import re
import secrets
import string as _letters
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import uuid4

from app.domain.dates import WARSAW
from app.domain.messages import N_, Message

if TYPE_CHECKING:
    import regex

MAX_LENGTH = 4000
MAX_DEPTH = 100
REGEX_TIMEOUT = 0.05  # seconds; a sane pattern matches a survey answer in microseconds
_MAX_PATTERN_REPEATS = 100_000
_COUNTED_REPEAT_RE = re.compile(r"\{([0-9]*)(?:,([0-9]*))?\}")
# Syntax the server's engine reads but a browser's RegExp does not (or reads otherwise).
_UNPORTABLE_PATTERN_RE = re.compile(r"\(\?(?:P|>|[aiLmsux-]+[:)])|\\[AZz]")
_ROUND_DIGITS_LIMIT = 350  # beyond it no double has digits to round
_EXCERPT_LENGTH = 80
_SAMPLE_PREFIX = "sample."
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_INF = math.inf
_NAN = math.nan
_MAX_EXACT_INT = 2.0**53
_DAY_SECONDS = 86400
MAX_UUID_LENGTH = 1000
_UUID_ALPHABET = _letters.ascii_letters + _letters.digits
# the functions whose value cannot be computed again later from the answers: a calculation
# using one is kept (stored with the answers) once it has a value
KEPT_FUNCTIONS = frozenset({"once", "uuid", "now"})


class NodeSet(tuple[Any, ...]):
    """A name inside a repeat read from outside it: one value per instance, in order.

    ``paths`` holds, for each value, the instance numbers leading to it (one per repeat
    level between the reader and the value), so ``indexed-repeat`` can pick one.
    """

    paths: tuple[tuple[int, ...], ...]

    def __new__(cls, values: Any = (), paths: Any = ()) -> NodeSet:
        node_set = super().__new__(cls, values)
        node_set.paths = tuple(paths)
        return node_set


Value = float | str | bool | date | NodeSet
Node = dict[str, Any]
Evaluator = Callable[["Context"], Value]


class ExpressionError(ValueError):
    """An expression that cannot be read: its text, where, in which column, and why."""

    def __init__(
        self,
        message: Message,
        expression: str,
        position: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        self.column = column
        super().__init__(self.render())

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        """The whole sentence (column, problem, position, expression) in the reader's language."""
        excerpt = self.expression
        if len(excerpt) > _EXCERPT_LENGTH:
            excerpt = excerpt[:_EXCERPT_LENGTH] + "…"
        params: dict[str, Any] = {
            "problem": self.message.render(gettext),
            "expression": excerpt,
            "column": self.column,
            "position": self.position,
        }
        if self.column is not None and self.position is not None:
            frame = N_('%(column)s: %(problem)s at position %(position)d in "%(expression)s"')
        elif self.column is not None:
            frame = N_('%(column)s: %(problem)s in "%(expression)s"')
        elif self.position is not None:
            frame = N_('%(problem)s at position %(position)d in "%(expression)s"')
        else:
            frame = N_('%(problem)s in "%(expression)s"')
        return Message(frame, params).render(gettext)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Context:
    """What an expression can see: answers, the checked value, sample data, a choice, today."""

    values: Mapping[str, Any] = field(default_factory=dict)
    current: Any = None
    sample: Mapping[str, Any] = field(default_factory=dict)
    choice: Mapping[str, Any] = field(default_factory=dict)
    today: date | None = None
    now: datetime | None = None  # now(); aware (shown in Warsaw time) or Warsaw wall-clock
    position: int | None = None  # the number of the repeat instance being evaluated
    language: str | None = None  # for month and day names in format-date(); None: Polish
    # for jr:choice-name(): each select question's (and matrix row's) codes and labels
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


# --- reading the text -----------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
    | (?P<ref>\$\{(?P<ref_name>[^}]*)\})
    | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>!=|<=|>=|[=<>+\-*(),])
    | (?P<name>[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?)
    | (?P<parent>\.\.)
    | (?P<dot>\.)
    """,
    re.VERBOSE,
)
_NAME_RE = re.compile(r"[^\W\d][\w.\-]*")
_WORD_OPERATORS = frozenset({"and", "or", "div", "mod"})
_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}


class _Token(NamedTuple):
    kind: str  # space-free kinds: ref, sample, number, string, op, name, dot, end
    text: str  # as written
    value: Any  # the name, the number, the string's content
    position: int


class _Failure(Exception):
    """A problem found while parsing, before the caller's column is known."""

    def __init__(self, message: Message, position: int | None) -> None:
        super().__init__(message.msgid)
        self.message = message
        self.position = position


def _tokenize(source: str) -> list[_Token]:
    """The tokens of ``source``, ending with an 'end' token."""
    tokens: list[_Token] = []
    position = 0
    length = len(source)
    while position < length:
        match = _TOKEN_RE.match(source, position)
        if match is None:
            raise _Failure(_bad_character(source, position), position)
        kind = match.lastgroup
        text = match.group()
        if kind == "ref":
            tokens.append(_reference_token(match.group("ref_name"), text, position))
        elif kind == "number":
            tokens.append(_number_token(text, position))
        elif kind == "string":
            tokens.append(_Token("string", text, text[1:-1], position))
        elif kind != "space":
            tokens.append(_Token(str(kind), text, text, position))
        position = match.end()
    tokens.append(_Token("end", "", None, length))
    return tokens


def _bad_character(source: str, position: int) -> Message:
    """Why the text at ``position`` starts no token."""
    rest = source[position:]
    if rest.startswith("${"):
        return Message(N_("unterminated reference: '}' is missing"))
    if rest[0] in "'\"":
        return Message(N_("unterminated string: closing %(quote)s is missing"), {"quote": rest[0]})
    return Message(N_("unexpected character %(character)r"), {"character": rest[0]})


def _reference_token(name: str, text: str, position: int) -> _Token:
    """A ``${name}`` or ``${sample.NAME}`` token, its name checked."""
    kind = "ref"
    if name.startswith(_SAMPLE_PREFIX):
        kind, name = "sample", name[len(_SAMPLE_PREFIX) :]
    if not _NAME_RE.fullmatch(name):
        raise _Failure(
            Message(N_("invalid name in reference %(reference)s"), {"reference": text}), position
        )
    return _Token(kind, text, name, position)


def _number_token(text: str, position: int) -> _Token:
    """A number literal token: an int when written without a point, else a float."""
    value: int | float = float(text)
    if value == _INF:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise _Failure(Message(N_("number %(number)s is too large"), {"number": shown}), position)
    if "." not in text:
        value = int(value)
    return _Token("number", text, value, position)


def _describe(token: _Token) -> str:
    """A token as quoted in a message."""
    text = token.text if len(token.text) <= 30 else token.text[:30] + "…"
    return repr(text)


class _Parser:
    """A precedence-climbing parser from tokens to a tree of JSON nodes."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0

    def parse(self) -> Node:
        """The tree of the whole expression."""
        if self.peek().kind == "end":
            raise _Failure(Message(N_("the expression is empty")), None)
        node, _height = self.expression(0, 0)
        token = self.peek()
        if token.kind != "end":
            raise _Failure(self.unexpected(token), token.position)
        return node

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def unexpected(self, token: _Token) -> Message:
        if token.kind == "end":
            return Message(N_("unexpected end of the expression"))
        return Message(N_("unexpected %(token)s"), {"token": _describe(token)})

    def expect(self, text: str) -> None:
        token = self.advance()
        if token.kind != "op" or token.text != text:
            if token.kind == "end":
                message = Message(N_("missing %(expected)r"), {"expected": text})
            else:
                message = Message(
                    N_("expected %(expected)r, found %(token)s"),
                    {"expected": text, "token": _describe(token)},
                )
            raise _Failure(message, token.position)

    def expression(self, min_precedence: int, depth: int) -> tuple[Node, int]:
        """An expression whose operators bind at least as tight as ``min_precedence``."""
        if depth > MAX_DEPTH:
            raise _Failure(_too_deep(), self.peek().position)
        left, height = self.prefix(depth)
        while True:
            token = self.peek()
            operator = _binary_operator(token)
            if operator is None or _PRECEDENCE[operator] < min_precedence:
                return left, height
            self.advance()
            right, right_height = self.expression(_PRECEDENCE[operator] + 1, depth + 1)
            height = _checked_height(max(height, right_height) + 1, token)
            left = {"type": "binary", "op": operator, "left": left, "right": right}

    def prefix(self, depth: int) -> tuple[Node, int]:
        """An operand: a literal, a reference, a call, a negation or a parenthesis."""
        token = self.advance()
        kind = token.kind
        if kind == "number" or kind == "string":
            return {"type": kind, "value": token.value}, 1
        if kind == "ref" or kind == "sample":
            return {"type": kind, "name": token.value}, 1
        if kind == "dot":
            return {"type": "current"}, 1
        if kind == "name":
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(token, depth)
            return {"type": "column", "name": token.value}, 1
        if kind == "op" and token.text == "(":
            node = self.expression(0, depth + 1)
            self.expect(")")
            return node
        if kind == "op" and token.text == "-":
            if depth + 1 > MAX_DEPTH:
                raise _Failure(_too_deep(), token.position)
            operand, height = self.prefix(depth + 1)
            return {"type": "neg", "operand": operand}, _checked_height(height + 1, token)
        raise _Failure(self.unexpected(token), token.position)

    def call(self, name: _Token, depth: int) -> tuple[Node, int]:
        """A function call, its name and argument count checked."""
        signature = _FUNCTIONS.get(name.value)
        if signature is None and name.value in REFUSED_FUNCTIONS:
            raise _Failure(
                Message(REFUSED_FUNCTIONS[name.value], {"function": name.value}), name.position
            )
        if signature is None:
            raise _Failure(
                Message(N_("unknown function %(function)s()"), {"function": name.value}),
                name.position,
            )
        self.advance()  # the '('
        args: list[Node] = []
        positions: list[int] = []
        height = 0
        if name.value == "position" and self.peek().kind == "parent":
            self.advance()  # position(..): the instance of the enclosing repeat
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            while True:
                positions.append(self.peek().position)
                arg, arg_height = self.expression(0, depth + 1)
                args.append(arg)
                height = max(height, arg_height)
                if not (self.peek().kind == "op" and self.peek().text == ","):
                    break
                self.advance()
        self.expect(")")
        _check_arity(name, len(args), signature)
        _check_literals(name.value, args, positions)
        return {"type": "call", "name": name.value, "args": args}, _checked_height(height + 1, name)


def _binary_operator(token: _Token) -> str | None:
    """The binary operator ``token`` stands for, if it is one."""
    if token.kind == "op" and token.text in _PRECEDENCE:
        return token.text
    if token.kind == "name" and token.text in _WORD_OPERATORS:
        return token.text
    return None


def _too_deep() -> Message:
    return Message(
        N_("the expression is nested too deeply (limit %(limit)d)"), {"limit": MAX_DEPTH}
    )


def _checked_height(height: int, token: _Token) -> int:
    """``height``, unless the tree grew deeper than evaluation may recurse."""
    if height > MAX_DEPTH:
        raise _Failure(_too_deep(), token.position)
    return height


def _check_arity(name: _Token, count: int, signature: _Function) -> None:
    """Refuse a call with the wrong number of arguments."""
    low, high = signature.min_args, signature.max_args
    if low <= count and (high is None or count <= high):
        return
    params = {"function": name.value, "count": count, "low": low, "high": high}
    if high is None:
        msgid = N_(
            "wrong number of arguments to %(function)s(): "
            "%(count)d given, at least %(low)d expected"
        )
    elif low == high:
        msgid = N_("wrong number of arguments to %(function)s(): %(count)d given, %(low)d expected")
    else:
        msgid = N_(
            "wrong number of arguments to %(function)s(): "
            "%(count)d given, %(low)d to %(high)d expected"
        )
    raise _Failure(Message(msgid, params), name.position)


def _check_literals(name: str, args: list[Node], positions: list[int]) -> None:
    """Refuse what is already wrong in literal arguments (regex patterns and dates) and
    a weighted-checklist() whose values and weights do not pair up."""
    if name == "weighted-checklist" and len(args) % 2:
        raise _Failure(
            Message(
                N_(
                    "weighted-checklist() takes a minimum, a maximum, then pairs of a "
                    "value and its weight: the last weight is missing"
                )
            ),
            positions[-1],
        )
    if name == "jr:choice-name" and not choice_name_question(args[1]):
        raise _Failure(
            Message(
                N_(
                    "the second argument of jr:choice-name() must name the question in "
                    "quotes, as in jr:choice-name(${a}, '${a}')"
                )
            ),
            positions[1],
        )
    if name == "regex":
        _check_pattern(args[1], positions[1])
    elif name == "date" and args[0]["type"] == "string":
        if not isinstance(_date(args[0]["value"]), date):
            raise _Failure(
                Message(
                    N_("invalid date %(date)r, expected YYYY-MM-DD"), {"date": args[0]["value"]}
                ),
                positions[0],
            )


def _check_pattern(node: Node, position: int) -> None:
    """Refuse a regex() pattern that is not a literal, does not compile or compiles slowly."""
    if node["type"] != "string":
        raise _Failure(Message(N_("the pattern of regex() must be a quoted string")), position)
    pattern: str = node["value"]
    # Nested counted repeats are unrolled when compiled: (a{1000}){1000} takes a third of a
    # second, one more level minutes. Bound the product of the counts (an over-estimate).
    repeats = 1
    for low, high in _COUNTED_REPEAT_RE.findall(pattern):
        repeats *= max(int(low or 0), int(high or 0), 1)
        if repeats > _MAX_PATTERN_REPEATS:
            raise _Failure(
                Message(
                    N_("regular expression %(pattern)r repeats too much (counts multiply)"),
                    {"pattern": pattern},
                ),
                position,
            )
    unportable = _UNPORTABLE_PATTERN_RE.search(pattern)
    if unportable:
        raise _Failure(
            Message(
                N_("regular expression %(pattern)r uses %(syntax)r, which browsers do not know"),
                {"pattern": pattern, "syntax": unportable.group()},
            ),
            position,
        )
    import regex  # only when a definition uses regex(): it takes ~0.1 s to import

    try:
        _compile_pattern(pattern)
    except regex.error as error:
        raise _Failure(
            Message(
                N_("invalid regular expression %(pattern)r: %(reason)s"),
                {"pattern": pattern, "reason": str(error)},
            ),
            position,
        ) from None


@lru_cache(maxsize=1024)
def _compile_pattern(pattern: str) -> regex.Pattern[str]:
    import regex

    return regex.compile(pattern)


# --- values ---------------------------------------------------------------------------

_XPATH_NUMBER_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_CLOCK = r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,9})?)?"
_ISO_MOMENT_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T" + _CLOCK)
_ISO_TIME_RE = re.compile(_CLOCK)
_XML_SPACE = " \t\r\n"
_XML_SPACE_RE = re.compile(r"[ \t\r\n]+")


def _answer(value: Any) -> Value:
    """An answer (or sample, choice or checked value) as an expression value."""
    if isinstance(value, str | bool | float):
        return value
    if isinstance(value, NodeSet):
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return moment_text(value, seconds=False)
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(str(code) for code in value)
    try:
        return float(value)  # int, Decimal, numpy-like numbers
    except OverflowError:
        return _INF if value > 0 else -_INF
    except (TypeError, ValueError):
        return str(value)


def _number(value: Value) -> float:
    """XPath number(), plus day counts for dates and 'YYYY-MM-DD' strings."""
    if type(value) is float:
        return value
    if type(value) is NodeSet:
        return _number(_first(value))
    if type(value) is str:
        text = value.strip(_XML_SPACE)
        if _XPATH_NUMBER_RE.fullmatch(text):
            return float(text)
        day = _parse_iso_date(text)
        if day is not None:
            return float(day.toordinal() - _EPOCH_ORDINAL)
        return _moment_number(text)
    if type(value) is bool:
        return 1.0 if value else 0.0
    return float(cast(date, value).toordinal() - _EPOCH_ORDINAL)  # a date


def _parse_iso_date(text: str) -> date | None:
    match = _ISO_DATE_RE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _clock_seconds(hours: str, minutes: str, seconds: str | None) -> int | None:
    """The seconds since midnight of a time as written, None when it is no time of day."""
    hour, minute, second = int(hours), int(minutes), int(seconds or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour * 3600 + minute * 60 + second


def _parse_moment(text: str) -> tuple[date, int] | None:
    """A 'YYYY-MM-DDTHH:MM[:SS]' moment as its day and the seconds into it."""
    match = _ISO_MOMENT_RE.fullmatch(text)
    if match is None:
        return None
    day = _parse_iso_date(text[:10])
    seconds = _clock_seconds(match[4], match[5], match[6])
    return None if day is None or seconds is None else (day, seconds)


def _parse_time(text: str) -> int | None:
    """An 'HH:MM[:SS]' time of day as the seconds since midnight."""
    match = _ISO_TIME_RE.fullmatch(text)
    return None if match is None else _clock_seconds(match[1], match[2], match[3])


def _moment_number(text: str) -> float:
    """A moment as its day count and fraction, a time as the fraction of a day; else NaN."""
    moment = _parse_moment(text)
    if moment is not None:
        day, seconds = moment
        return float(day.toordinal() - _EPOCH_ORDINAL) + seconds / _DAY_SECONDS
    of_day = _parse_time(text)
    return _NAN if of_day is None else of_day / _DAY_SECONDS


def moment_text(moment: datetime, *, seconds: bool = True) -> str:
    """A moment as expressions read it: its Warsaw wall-clock time, 'YYYY-MM-DDTHH:MM[:SS]'
    (a naive datetime is taken as Warsaw time already)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(WARSAW)
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
    text += f"{moment.hour:02d}:{moment.minute:02d}"
    return text + f":{moment.second:02d}" if seconds else text


def _kind(value: Value) -> str | None:
    """'date', 'moment' or 'time' for a value of that kind (by type or by shape), else None."""
    if type(value) is NodeSet:
        value = _first(value)
    if type(value) is date:
        return "date"
    if type(value) is not str:
        return None
    text = value.strip(_XML_SPACE)
    if _parse_iso_date(text) is not None:
        return "date"
    if _parse_moment(text) is not None:
        return "moment"
    return "time" if _parse_time(text) is not None else None


def _time_of_day(value: Value) -> float:
    """The fraction of the day of a time or moment (a date: 0; a number: itself)."""
    if type(value) is NodeSet:
        value = _first(value)
    if type(value) is date:
        return 0.0
    if type(value) is str:
        text = value.strip(_XML_SPACE)
        moment = _parse_moment(text)
        if moment is not None:
            return moment[1] / _DAY_SECONDS
        if _parse_iso_date(text) is not None:
            return 0.0
    return _number(value)


def _day_of(value: Value) -> float:
    """A date's day count; a moment's day (its fraction dropped); a number as it is."""
    number = _number(value)
    return math.floor(number) if _kind(value) == "moment" else number


def _typed(left: Value, right: Value) -> tuple[float, float] | None:
    """Both sides as numbers of one kind when either is a date, moment or time (see the
    module docstring); None when neither is."""
    kinds = {_kind(left), _kind(right)} - {None}
    if not kinds:
        return None
    if "time" in kinds:
        return _time_of_day(left), _time_of_day(right)
    if "date" in kinds:
        return _day_of(left), _day_of(right)
    return _number(left), _number(right)


def _seconds_into_day(value: Value) -> int:
    """The seconds into its day of a moment or time (what format-date writes as %H:%M:%S)."""
    if type(value) is NodeSet:
        value = _first(value)
    if type(value) is not str:
        return 0
    text = value.strip(_XML_SPACE)
    moment = _parse_moment(text)
    if moment is not None:
        return moment[1]
    return _parse_time(text) or 0


def _date_time(value: Value) -> Value:
    """date-time(x): the moment of a day count with its fraction (a date, a moment); NaN
    when there is none."""
    number = _number(value)
    if number != number or number in (_INF, -_INF):
        return _NAN
    days = math.floor(number)
    seconds = math.floor((number - days) * _DAY_SECONDS + 0.5)
    if seconds >= _DAY_SECONDS:
        days, seconds = days + 1, 0
    ordinal = days + _EPOCH_ORDINAL
    if not 1 <= ordinal <= date.max.toordinal():
        return _NAN
    moment = datetime.combine(date.fromordinal(ordinal), time()) + timedelta(seconds=seconds)
    return moment_text(moment)


def _decimal_time(value: Value) -> float:
    """decimal-time(t): the fraction of the day of a time or moment; else NaN."""
    return _time_of_day(value) if _kind(value) in ("time", "moment") else _NAN


def _now(ctx: Context) -> str:
    """now(): the context's moment, else the start of its day, else the clock's."""
    if ctx.now is not None:
        return moment_text(ctx.now)
    if ctx.today is not None:
        return moment_text(datetime.combine(ctx.today, time()))
    return moment_text(datetime.now(WARSAW))


def _uuid(length: Value | None = None) -> str:
    """uuid(): a random UUID 4; uuid(n): n random letters and digits."""
    if length is None:
        return str(uuid4())
    number = _number(length)
    if number != number or number < 1:
        return ""
    count = int(min(number, MAX_UUID_LENGTH))
    return "".join(secrets.choice(_UUID_ALPHABET) for _ in range(count))


def _string(value: Value) -> str:
    """XPath string(): numbers without exponent, dates as YYYY-MM-DD."""
    if type(value) is str:
        return value
    if type(value) is NodeSet:
        return _string(_first(value))
    if type(value) is float:
        return _format_number(value)
    if type(value) is bool:
        return "true" if value else "false"
    return cast(date, value).isoformat()


def _format_number(number: float) -> str:
    """A number written out in full, its digits those of the shortest round-trip form."""
    if number != number:
        return "NaN"
    if number in (_INF, -_INF):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    text = repr(abs(number))
    sign = "-" if number < 0 else ""
    if "e" not in text:
        return sign + (text[:-2] if text.endswith(".0") else text)
    mantissa, exponent = text.split("e")
    digits = mantissa.replace(".", "")
    point = (mantissa.index(".") if "." in mantissa else len(mantissa)) + int(exponent)
    if point <= 0:
        return sign + "0." + "0" * -point + digits
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return sign + digits[:point] + "." + digits[point:]


def _boolean(value: Value) -> bool:
    """XPath boolean(): non-zero numbers, non-empty strings and dates are true."""
    if type(value) is bool:
        return value
    if type(value) is float:
        return value == value and value != 0
    if type(value) is str:
        return value != ""
    if type(value) is NodeSet:
        return len(value) > 0  # XPath: a node-set is true when it has a node
    return True  # a date


def _first(node_set: NodeSet) -> Value:
    """What a node-set reads as where one value is wanted: its first (XPath)."""
    return _answer(node_set[0]) if node_set else ""


def _spread(values: tuple[Value, ...]) -> list[Value]:
    """Arguments with each node-set replaced by its non-empty values."""
    spread: list[Value] = []
    for value in values:
        if type(value) is NodeSet:
            spread.extend(v for v in map(_answer, value) if not _is_empty(v))
        else:
            spread.append(value)
    return spread


def _count(value: Value) -> float:
    """count(): the values of a node-set (empty ones too); 1 for a single value."""
    return float(len(value)) if type(value) is NodeSet else 1.0


def _join(separator: Value, *values: Value) -> str:
    return _string(separator).join(_string(v) for v in _spread(values))


def _indexed_repeat(value: Value, *levels: Value) -> Value:
    """indexed-repeat(${x}, ${r}, i [, ${r2}, i2 ...]): ${x} in the instance numbered so."""
    if type(value) is not NodeSet:
        return value
    wanted: list[int] = []
    for index in levels[1::2]:
        number = _number(index)
        if not number.is_integer() or number < 1:  # NaN and infinities are not integers
            return ""
        wanted.append(int(number))
    key = tuple(wanted)
    for each, path in zip(value, value.paths, strict=False):
        if path[: len(key)] == key:
            return _answer(each)
    return ""


def _is_empty(value: Value) -> bool:
    if type(value) is NodeSet:
        return _is_empty(_first(value))
    return value == "" or (type(value) is float and value != value)


def _equal(left: Value, right: Value) -> bool:
    """XPath '=': as booleans, else as numbers (dates count as numbers), else as strings;
    a node-set as its first value."""
    if type(left) is bool or type(right) is bool:
        return _boolean(left) == _boolean(right)
    left = _first(left) if type(left) is NodeSet else left
    right = _first(right) if type(right) is NodeSet else right
    typed = _typed(left, right)
    if typed is not None:
        return typed[0] == typed[1]
    if type(left) is str and type(right) is str:
        return left == right
    return _number(left) == _number(right)


def _relational(compare: Callable[[float, float], bool]) -> Callable[[Value, Value], bool]:
    """``< <= > >=``: typed when either side is a date, moment or time, else numeric."""

    def relation(left: Value, right: Value) -> bool:
        typed = _typed(left, right)
        if typed is None:
            return compare(_number(left), _number(right))
        return compare(*typed)

    return relation


def _result(value: Value) -> Any:
    """An evaluation result for the caller: ints where integral, None where empty."""
    if type(value) is NodeSet:
        value = _first(value)
    if type(value) is float:
        if value != value or value in (_INF, -_INF):
            return None
        if value.is_integer() and abs(value) < _MAX_EXACT_INT:
            return int(value)
        return value
    if value == "":
        return None
    return value


# --- arithmetic that never raises -----------------------------------------------------


def _divide(left: float, right: float) -> float:
    try:
        return left / right
    except ZeroDivisionError:
        if left != left or left == 0:
            return _NAN
        return math.copysign(_INF, left) * math.copysign(1.0, right)


def _modulo(left: float, right: float) -> float:
    """The remainder with the dividend's sign (XPath and JavaScript), NaN for x mod 0."""
    try:
        return math.fmod(left, right)
    except ValueError:  # right is 0 or left is infinite
        return _NAN


def _power(base: float, exponent: float) -> float:
    """``base`` to ``exponent`` as JavaScript's Math.pow: overflow is ±Infinity, not an error."""
    if exponent != exponent or (abs(base) == 1 and exponent in (_INF, -_INF)):
        return _NAN
    odd = exponent.is_integer() and exponent % 2 == 1
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return -_INF if base < 0 and odd else _INF
    except ValueError:  # zero to a negative power, or a negative base to a fraction
        if base == 0:
            return math.copysign(_INF, base) if odd else _INF
        return _NAN


def _signed_zero(result: float, source: float) -> float:
    """``result``, keeping the sign of ``source`` when it is zero (JavaScript's -0)."""
    return math.copysign(0.0, source) if result == 0 else result


def _integral(value: Value, rounding: Callable[[float], int]) -> float:
    number = _number(value)
    if number != number or number in (_INF, -_INF):
        return number
    return _signed_zero(float(rounding(number)), number)


def _round(value: Value, digits: Value = 0.0) -> float:
    """round(x, digits): the shortest decimal form of x rounded half away from zero."""
    number, places = _number(value), _number(digits)
    if number != number or number in (_INF, -_INF) or places != places:
        return number if places == places else _NAN
    places = math.trunc(max(-_ROUND_DIGITS_LIMIT, min(_ROUND_DIGITS_LIMIT, places)))
    with localcontext() as context:
        context.prec = 4 * _ROUND_DIGITS_LIMIT
        rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return _signed_zero(float(rounded), number)


def _date(value: Value) -> Value:
    """date(x): a date from a date, a 'YYYY-MM-DD' string or a day count; else NaN."""
    if isinstance(value, date):
        return value
    if type(value) is str:
        day = _parse_iso_date(value.strip(_XML_SPACE))
        if day is not None:
            return day
    number = _number(value)
    if number != number or number in (_INF, -_INF):
        return _NAN
    ordinal = math.floor(number) + _EPOCH_ORDINAL
    if not 1 <= ordinal <= date.max.toordinal():
        return _NAN
    return date.fromordinal(ordinal)


def _codes(value: Value) -> list[str]:
    """The codes of a select_multiple answer (its space-separated string)."""
    return [code for code in _XML_SPACE_RE.split(_string(value)) if code]


def _selected(answer: Value, code: Value) -> bool:
    return _string(code).strip(_XML_SPACE) in _codes(answer)


def _sum(*values: Value) -> float:
    total = 0.0
    for value in _spread(values):  # in order, one addition at a time, as the browser does
        total += _number(value)
    return total


def _extreme(pick: Callable[..., float]) -> Callable[..., float]:
    def extreme(*values: Value) -> float:
        numbers = [_number(value) for value in _spread(values)]
        return _NAN if not numbers or any(n != n for n in numbers) else pick(numbers)

    return extreme


def _absolute(value: Value) -> float:
    return abs(_number(value))


def _slice_index(value: Value, length: int) -> int:
    """A position as JavaScript's ``slice`` reads it: NaN is 0, negatives count from the end."""
    number = _number(value)
    if number != number:
        return 0
    if number in (_INF, -_INF):
        return length if number > 0 else 0
    index = math.trunc(number)
    return max(length + index, 0) if index < 0 else min(index, length)


def _substr(text: Value, start: Value, end: Value | None = None) -> str:
    """substr(s, start, end?): from the 0-based ``start`` up to, not including, ``end``."""
    string = _string(text)
    length = len(string)
    stop = length if end is None else _slice_index(end, length)
    return string[_slice_index(start, length) : stop]


def _xpath_round(number: float) -> float:
    return number if number != number or number in (_INF, -_INF) else math.floor(number + 0.5)


def _substring(text: Value, start: Value, length: Value | None = None) -> str:
    """XPath substring(s, start, length?): the characters at 1-based positions p with
    round(start) <= p < round(start) + round(length); NaN selects nothing."""
    string = _string(text)
    first = _xpath_round(_number(start))
    last = _INF if length is None else first + _xpath_round(_number(length))
    if not first < last:  # also when either is NaN
        return ""
    low = 1 if first < 1 else first
    high = len(string) + 1 if last > len(string) + 1 else last
    return string[int(low) - 1 : int(high) - 1] if low < high else ""


def _substring_before(text: Value, part: Value) -> str:
    string, sought = _string(text), _string(part)
    found = string.find(sought)
    return "" if found < 0 else string[:found]


def _substring_after(text: Value, part: Value) -> str:
    string, sought = _string(text), _string(part)
    found = string.find(sought)
    return "" if found < 0 else string[found + len(sought) :]


def _translate(text: Value, source: Value, target: Value) -> str:
    """translate(s, from, to): each character of ``from`` becomes the one at its place in
    ``to``, or goes when ``to`` is shorter; the first occurrence in ``from`` counts."""
    table: dict[int, str] = {}
    to = _string(target)
    for index, character in enumerate(_string(source)):
        table.setdefault(ord(character), to[index] if index < len(to) else "")
    return _string(text).translate(table)


def _normalize_space(text: Value) -> str:
    return " ".join(_XML_SPACE_RE.split(_string(text).strip(_XML_SPACE)))


def _selected_at(answer: Value, index: Value) -> str:
    """selected-at(a, n): the code chosen n-th (from 0) in a select_multiple answer."""
    codes = _codes(answer)
    number = _number(index)
    if number != number or number in (_INF, -_INF):
        return ""
    position = math.trunc(number)
    return codes[position] if 0 <= position < len(codes) else ""


def _count_non_empty(value: Value) -> float:
    """count-non-empty(): the non-empty values of a node-set; 1 or 0 for a single value."""
    if type(value) is NodeSet:
        return float(sum(1 for each in value if not _is_empty(_answer(each))))
    return 0.0 if _is_empty(value) else 1.0


def _within(total: float, low: Value, high: Value) -> bool:
    """Whether ``total`` is within [low, high]; a negative bound is no bound."""
    least, most = _number(low), _number(high)
    return (least < 0 or total >= least) and (most < 0 or total <= most)


def _checklist(low: Value, high: Value, *values: Value) -> bool:
    """checklist(min, max, a, ...): whether the count of true values is within the bounds."""
    return _within(float(sum(1 for v in _spread(values) if _boolean(v))), low, high)


def _weighted_checklist(low: Value, high: Value, *pairs: Value) -> bool:
    """weighted-checklist(min, max, a, wa, ...): whether the weights of the true values add
    up to a total within the bounds."""
    total = 0.0
    for value, weight in zip(pairs[::2], pairs[1::2], strict=False):
        if _boolean(value):
            total += _number(weight)
    return _within(total, low, high)


def _math(function: Callable[[float], float]) -> Callable[[Value], float]:
    """A math function of one number, as JavaScript's: NaN outside its domain, ±Infinity
    on overflow, log(0) is -Infinity."""

    def apply(value: Value) -> float:
        number = _number(value)
        try:
            return function(number)
        except OverflowError:
            return _INF
        except ValueError:
            return -_INF if number == 0 else _NAN

    return apply


_QUOTED_REFERENCE_RE = re.compile(r"\s*\$\{\s*([^}]*?)\s*\}\s*")


def choice_name_question(node: Node) -> str:
    """The question a jr:choice-name() argument names ('${name}'), or '' if it names none."""
    if node["type"] != "string":
        return ""
    match = _QUOTED_REFERENCE_RE.fullmatch(node["value"])
    name = match[1] if match else ""
    return name if _NAME_RE.fullmatch(name) and not name.startswith(_SAMPLE_PREFIX) else ""


def _choice_name(code: Value, labels: Mapping[str, str] | None) -> str:
    """jr:choice-name(code, '${q}'): the label of choice ``code`` of q's list, or ''."""
    return (labels or {}).get(_string(code).strip(_XML_SPACE), "")


def with_choice_labels(tree: Node, labels: Mapping[str, Mapping[str, str]]) -> Node:
    """A copy of ``tree`` whose jr:choice-name() calls carry the labels they look up (a
    ``"labels": {code: label}`` member), for the browser, which has no questionnaire."""
    tree = _copy(tree)
    for node in _walk(tree):
        if node["type"] == "call" and node["name"] == "jr:choice-name":
            node["labels"] = dict(labels.get(choice_name_question(node["args"][1]), {}))
    return tree


_MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
    "pl": "sty lut mar kwi maj cze lip sie wrz paź lis gru".split(),
}
_WEEKDAYS = {  # from Sunday, as ODK's %a
    "en": "Sun Mon Tue Wed Thu Fri Sat".split(),
    "pl": "niedz. pon. wt. śr. czw. pt. sob.".split(),
}
_FORMAT_RE = re.compile(r"%(.?)", re.DOTALL)


def _format_date(value: Value, form: Value, language: str | None) -> str:
    """format-date(d, format): ODK's %Y %y %m %n %b %d %e %a and %H %h %M %S %3 (the time
    of a moment or time, zero for a date); names in Polish unless ``language`` is another
    one (then English)."""
    day = _date(value)
    if not isinstance(day, date):
        return ""
    names = "pl" if (language or "pl").startswith("pl") else "en"
    weekday = (day.toordinal() - _EPOCH_ORDINAL + 4) % 7  # 1970-01-01 was a Thursday
    seconds = _seconds_into_day(value)
    hour, minute, second = seconds // 3600, seconds // 60 % 60, seconds % 60
    fields = {
        "Y": f"{day.year:04d}",
        "y": f"{day.year % 100:02d}",
        "m": f"{day.month:02d}",
        "n": str(day.month),
        "b": _MONTHS[names][day.month - 1],
        "d": f"{day.day:02d}",
        "e": str(day.day),
        "a": _WEEKDAYS[names][weekday],
        "H": f"{hour:02d}",
        "h": str(hour),
        "M": f"{minute:02d}",
        "S": f"{second:02d}",
        "3": "000",
    }
    return _FORMAT_RE.sub(lambda m: fields.get(m[1], m[0]), _string(form))


class _Function(NamedTuple):
    min_args: int
    max_args: int | None  # None: any number
    apply: Callable[..., Value] | None  # None: compiled specially (lazy or needs context)


_FUNCTIONS: dict[str, _Function] = {
    "selected": _Function(2, 2, _selected),
    "count-selected": _Function(1, 1, lambda answer: float(len(_codes(answer)))),
    "if": _Function(3, 3, None),
    "coalesce": _Function(2, 2, lambda first, second: second if _is_empty(first) else first),
    "concat": _Function(1, None, lambda *values: "".join(map(_string, _spread(values)))),
    "regex": _Function(2, 2, None),
    "string-length": _Function(1, 1, lambda text: float(len(_string(text)))),
    "int": _Function(1, 1, lambda value: _integral(value, math.trunc)),
    "number": _Function(1, 1, _number),
    "round": _Function(1, 2, _round),
    "today": _Function(0, 0, None),
    "sum": _Function(1, None, _sum),
    "not": _Function(1, 1, lambda value: not _boolean(value)),
    "true": _Function(0, 0, lambda: True),
    "false": _Function(0, 0, lambda: False),
    "string": _Function(1, 1, _string),
    "contains": _Function(2, 2, lambda text, part: _string(part) in _string(text)),
    "starts-with": _Function(2, 2, lambda text, start: _string(text).startswith(_string(start))),
    "boolean": _Function(1, 1, _boolean),
    "min": _Function(1, None, _extreme(min)),
    "max": _Function(1, None, _extreme(max)),
    "abs": _Function(1, 1, _absolute),
    "floor": _Function(1, 1, lambda value: _integral(value, math.floor)),
    "ceiling": _Function(1, 1, lambda value: _integral(value, math.ceil)),
    "pow": _Function(2, 2, lambda base, exponent: _power(_number(base), _number(exponent))),
    "date": _Function(1, 1, _date),
    "count": _Function(1, 1, _count),
    "join": _Function(2, None, _join),
    "indexed-repeat": _Function(3, None, _indexed_repeat),
    "position": _Function(0, 0, None),
    "substr": _Function(2, 3, _substr),
    "substring": _Function(2, 3, _substring),
    "substring-before": _Function(2, 2, _substring_before),
    "substring-after": _Function(2, 2, _substring_after),
    "translate": _Function(3, 3, _translate),
    "normalize-space": _Function(1, 1, _normalize_space),
    "ends-with": _Function(2, 2, lambda text, end: _string(text).endswith(_string(end))),
    "boolean-from-string": _Function(1, 1, lambda text: _string(text) in ("true", "1")),
    "selected-at": _Function(2, 2, _selected_at),
    "count-non-empty": _Function(1, 1, _count_non_empty),
    "checklist": _Function(3, None, _checklist),
    "weighted-checklist": _Function(4, None, _weighted_checklist),
    "format-date": _Function(2, 2, None),
    "format-date-time": _Function(2, 2, None),
    "decimal-date-time": _Function(1, 1, _number),
    "jr:choice-name": _Function(2, 2, None),
    "sqrt": _Function(1, 1, _math(math.sqrt)),
    "exp": _Function(1, 1, _math(math.exp)),
    "exp10": _Function(1, 1, lambda value: _power(10.0, _number(value))),
    "log": _Function(1, 1, _math(math.log)),
    "log10": _Function(1, 1, _math(math.log10)),
    "sin": _Function(1, 1, _math(math.sin)),
    "cos": _Function(1, 1, _math(math.cos)),
    "tan": _Function(1, 1, _math(math.tan)),
    "asin": _Function(1, 1, _math(math.asin)),
    "acos": _Function(1, 1, _math(math.acos)),
    "atan": _Function(1, 1, _math(math.atan)),
    "atan2": _Function(2, 2, lambda y, x: math.atan2(_number(y), _number(x))),
    "pi": _Function(0, 0, lambda: math.pi),
    "now": _Function(0, 0, None),
    "decimal-time": _Function(1, 1, _decimal_time),
    "date-time": _Function(1, 1, _date_time),
    "once": _Function(1, 1, lambda value: value),
    "uuid": _Function(0, 1, _uuid),
}

# ODK functions Ankieta knows of and does not evaluate, each with why (%(function)s: its name).
_NOT_ATTACHED = N_(
    "%(function)s() is not supported: Ankieta reads no files or lists attached to a form; "
    "give each institution its data in the sample and read it with ${sample.NAME}"
)
_NOT_RANDOM = N_(
    "%(function)s() is not supported: a random value would differ between the page and the server"
)
_NOT_GEO = N_("%(function)s() is not supported: expressions do not compute with geographic points")
_NOT_LABELS = N_(
    "%(function)s() is not supported: a text's translations are not expressions (a label "
    "inserted in a text with ${name} already shows the choice's label in the page's language)"
)
_NOT_CRYPTO = N_("%(function)s() is not supported: expressions compute no digests or codes")
_NOT_NODES = N_(
    "%(function)s() is not supported: expressions name answers with ${name}, not XML nodes"
)
REFUSED_FUNCTIONS: dict[str, str] = {
    "pulldata": _NOT_ATTACHED,
    "instance": _NOT_ATTACHED,
    "random": _NOT_RANDOM,
    "randomize": _NOT_RANDOM,
    "area": _NOT_GEO,
    "distance": _NOT_GEO,
    "geofence": _NOT_GEO,
    "jr:itext": _NOT_LABELS,
    "digest": _NOT_CRYPTO,
    "base64-decode": _NOT_CRYPTO,
    "extract-signed": _NOT_CRYPTO,
    "current": _NOT_NODES,
    "last": _NOT_NODES,
    "name": _NOT_NODES,
    "local-name": _NOT_NODES,
    "namespace-uri": _NOT_NODES,
    "id": _NOT_NODES,
    "lang": _NOT_NODES,
}
AGGREGATES = frozenset(
    {
        "count",
        "count-non-empty",
        "sum",
        "min",
        "max",
        "join",
        "concat",
        "indexed-repeat",
        "checklist",
    }
)


# --- compiling the tree into closures -------------------------------------------------

_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda left, right: left + right,
    "-": lambda left, right: left - right,
    "*": lambda left, right: left * right,
    "div": _divide,
    "mod": _modulo,
}
_RELATIONAL: dict[str, Callable[[Value, Value], bool]] = {
    "<": _relational(lambda left, right: left < right),
    "<=": _relational(lambda left, right: left <= right),
    ">": _relational(lambda left, right: left > right),
    ">=": _relational(lambda left, right: left >= right),
}


def _compile(node: Node) -> Evaluator:
    """A closure computing ``node``'s value in a context."""
    kind = node["type"]
    if kind == "number":
        number = float(node["value"])
        return lambda ctx: number
    if kind == "string":
        text: str = node["value"]
        return lambda ctx: text
    if kind == "ref":
        name = node["name"]
        return lambda ctx: _answer(ctx.values.get(name))
    if kind == "sample":
        sample_name = node["name"]
        return lambda ctx: _answer(ctx.sample.get(sample_name))
    if kind == "column":
        column_name = node["name"]
        return lambda ctx: _answer(ctx.choice.get(column_name))
    if kind == "current":
        return lambda ctx: _answer(ctx.current)
    if kind == "neg":
        operand = _compile(node["operand"])
        return lambda ctx: -_number(operand(ctx))
    if kind == "binary":
        return _compile_binary(node["op"], _compile(node["left"]), _compile(node["right"]))
    return _compile_call(node["name"], [_compile(arg) for arg in node["args"]], node["args"])


def _compile_binary(operator: str, left: Evaluator, right: Evaluator) -> Evaluator:
    if operator == "and":
        return lambda ctx: _boolean(left(ctx)) and _boolean(right(ctx))
    if operator == "or":
        return lambda ctx: _boolean(left(ctx)) or _boolean(right(ctx))
    if operator == "=":
        return lambda ctx: _equal(left(ctx), right(ctx))
    if operator == "!=":
        return lambda ctx: not _equal(left(ctx), right(ctx))
    if operator in _RELATIONAL:
        compare = _RELATIONAL[operator]
        return lambda ctx: compare(left(ctx), right(ctx))
    arithmetic = _ARITHMETIC[operator]
    return lambda ctx: arithmetic(_number(left(ctx)), _number(right(ctx)))


def _compile_call(name: str, args: list[Evaluator], nodes: list[Node]) -> Evaluator:
    if name == "if":
        condition, then, otherwise = args
        return lambda ctx: then(ctx) if _boolean(condition(ctx)) else otherwise(ctx)
    if name == "today":
        return lambda ctx: ctx.today or date.today()
    if name == "now":
        return _now
    if name == "uuid" and not args:  # a new one at each evaluation: not a constant
        return lambda ctx: _uuid()
    if name == "position":
        return lambda ctx: _NAN if ctx.position is None else float(ctx.position)
    if name == "regex":
        return _compile_regex(args[0], _compile_pattern(nodes[1]["value"]))
    if name in ("format-date", "format-date-time"):  # a date's time of day is 00:00
        day, form = args
        return lambda ctx: _format_date(day(ctx), form(ctx), ctx.language)
    if name == "jr:choice-name":
        code, question = args[0], choice_name_question(nodes[1])
        return lambda ctx: _choice_name(code(ctx), ctx.labels.get(question))
    apply = _FUNCTIONS[name].apply
    assert apply is not None  # noqa: S101 - every other function has one
    if len(args) == 1:
        (only,) = args
        return lambda ctx: apply(only(ctx))
    if len(args) == 2:
        first, second = args
        return lambda ctx: apply(first(ctx), second(ctx))
    return lambda ctx: apply(*[arg(ctx) for arg in args])


def _compile_regex(text: Evaluator, pattern: regex.Pattern[str]) -> Evaluator:
    def matches(ctx: Context) -> bool:
        try:
            return pattern.search(_string(text(ctx)), timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:  # catastrophic backtracking: count it as no match
            return False

    return matches


# --- the public face --------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed, checked and compiled expression; equal when the source is equal."""

    source: str
    _tree: Node = field(repr=False, compare=False)
    _evaluator: Evaluator = field(repr=False, compare=False)
    references: frozenset[str] = field(repr=False, compare=False)
    sample_references: frozenset[str] = field(repr=False, compare=False)
    column_references: frozenset[str] = field(repr=False, compare=False)
    uses_current: bool = field(repr=False, compare=False)
    # the references not read through a repeat function (count, sum, min, max, join,
    # indexed-repeat): those must not name something inside a repeat the reader is not in
    scalar_references: frozenset[str] = field(repr=False, compare=False, default=frozenset())
    uses_position: bool = field(repr=False, compare=False, default=False)
    # uses once(), now() or uuid(): as a calculation, its first value is kept (KEPT_FUNCTIONS)
    kept: bool = field(repr=False, compare=False, default=False)

    def evaluate(self, ctx: Context) -> Any:
        """The value: bool, int, float, str or date; None when empty, NaN or infinite."""
        return _result(self._evaluator(ctx))

    def evaluate_bool(self, ctx: Context) -> bool:
        """The value as XPath boolean() sees it (relevance, constraints, required)."""
        return _boolean(self._evaluator(ctx))

    def to_json(self) -> Node:
        """The tree as fresh plain dicts and lists (see the module docstring)."""
        return _copy(self._tree)

    def calls(self) -> Iterator[tuple[str, tuple[Node, ...]]]:
        """Each function call as (name, argument nodes), outermost first; do not mutate nodes."""
        for node in _walk(self._tree):
            if node["type"] == "call":
                yield node["name"], tuple(node["args"])


def parse(source: str, column: str | None = None) -> Expression:
    """The expression written in ``source``; ``column`` names where it came from in errors."""
    if len(source) > MAX_LENGTH:
        message = Message(
            N_("the expression is too long (%(length)d characters, limit %(limit)d)"),
            {"length": len(source), "limit": MAX_LENGTH},
        )
        raise ExpressionError(message, source, None, column)
    try:
        return _parse_cached(source)
    except _Failure as failure:
        raise ExpressionError(failure.message, source, failure.position, column) from None


@lru_cache(maxsize=16384)
def _parse_cached(source: str) -> Expression:
    tree = _Parser(source).parse()
    names: dict[str, set[str]] = {"ref": set(), "sample": set(), "column": set(), "current": set()}
    for node in _walk(tree):
        if node["type"] in names:
            names[node["type"]].add(node.get("name", "."))
    return Expression(
        source=source,
        _tree=tree,
        _evaluator=_compile(tree),
        references=frozenset(names["ref"]),
        sample_references=frozenset(names["sample"]),
        column_references=frozenset(names["column"]),
        uses_current=bool(names["current"]),
        scalar_references=frozenset(_scalar_references(tree)),
        uses_position=any(
            node["type"] == "call" and node["name"] == "position" for node in _walk(tree)
        ),
        kept=any(node["type"] == "call" and node["name"] in KEPT_FUNCTIONS for node in _walk(tree)),
    )


def _scalar_references(tree: Node) -> Iterator[str]:
    """The ``${name}`` references that are not a direct argument of a repeat function."""
    stack: list[tuple[Node, bool]] = [(tree, False)]
    while stack:
        node, aggregated = stack.pop()
        kind = node["type"]
        if kind == "ref" and not aggregated:
            yield node["name"]
        elif kind == "binary":
            stack += ((node["right"], False), (node["left"], False))
        elif kind == "neg":
            stack.append((node["operand"], False))
        elif kind == "call":
            name = node["name"]
            for number, arg in enumerate(node["args"]):
                stack.append((arg, name in AGGREGATES and _reads_node_set(name, number)))


def _reads_node_set(function: str, number: int) -> bool:
    """Whether argument ``number`` of the repeat function ``function`` takes a node-set
    (not join's separator, indexed-repeat's instance numbers, checklist's bounds)."""
    if function == "join":
        return number > 0
    if function == "indexed-repeat":
        return number == 0 or number % 2 == 1
    if function == "checklist":
        return number > 1
    return True


_INTERPOLATION_RE = re.compile(r"\$\{([^}]*)\}")


def interpolate_references(text: str) -> frozenset[str]:
    """The item names a label or hint shows with ``${name}`` (``${sample.NAME}`` excluded)."""
    return frozenset(
        name
        for name in _INTERPOLATION_RE.findall(text)
        if _NAME_RE.fullmatch(name) and not name.startswith(_SAMPLE_PREFIX)
    )


def _walk(tree: Node) -> Iterator[Node]:
    """Every node of ``tree``, parents before children, left to right."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        kind = node["type"]
        if kind == "binary":
            stack += (node["right"], node["left"])
        elif kind == "neg":
            stack.append(node["operand"])
        elif kind == "call":
            stack += reversed(node["args"])


def _copy(node: Node) -> Node:
    copied = dict(node)
    for key in ("left", "right", "operand"):
        if key in copied:
            copied[key] = _copy(copied[key])
    if "args" in copied:
        copied["args"] = [_copy(arg) for arg in copied["args"]]
    return copied
