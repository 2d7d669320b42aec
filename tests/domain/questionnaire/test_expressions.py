"""Tests of the expression language: values, errors, the public API and its properties."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.questionnaire.expressions import (
    _FUNCTIONS,
    MAX_LENGTH,
    REFUSED_FUNCTIONS,
    Context,
    Expression,
    ExpressionError,
    interpolate_references,
    parse,
    with_choice_labels,
)

from .expression_cases import (
    CASES,
    CHOICE,
    LABELS,
    NOW,
    POSITION,
    SAMPLE,
    TODAY,
    VALUES,
    Case,
)

CONTEXT = Context(
    values=VALUES,
    sample=SAMPLE,
    choice=CHOICE,
    today=TODAY,
    now=NOW,
    position=POSITION,
    labels=LABELS,
)


def _same(result: Any, expected: Any) -> bool:
    """Equal and of the same type, so True is not taken for 1 nor 5.0 for 5."""
    return type(result) is type(expected) and result == expected


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize("case", CASES, ids=[case.source for case in CASES])
def test_case_evaluates_to_expected(case: Case) -> None:
    result = parse(case.source).evaluate(dataclasses.replace(CONTEXT, current=case.current))
    assert _same(result, case.expected), f"{case.source!r} gave {result!r}"


@pytest.mark.parametrize("case", CASES, ids=[case.source for case in CASES])
def test_evaluate_bool_is_xpath_boolean_of_the_value(case: Case) -> None:
    ctx = dataclasses.replace(CONTEXT, current=case.current)
    expression = parse(case.source)
    boolean = parse(f"boolean({case.source})").evaluate(ctx)
    assert expression.evaluate_bool(ctx) is boolean


# --- errors ---------------------------------------------------------------------------

PARSE_ERRORS = [
    ("${a} > )", 7, "unexpected ')'"),
    ("", None, "the expression is empty"),
    ("   ", None, "the expression is empty"),
    ("1 +", 3, "unexpected end of the expression"),
    ("1 and", 5, "unexpected end of the expression"),
    ("(1 + 2", 6, "missing ')'"),
    ("concat(1 2)", 9, "expected ')', found '2'"),
    ("concat(1,)", 9, "unexpected ')'"),
    (")", 0, "unexpected ')'"),
    ("(,)", 1, "unexpected ','"),
    ("* 2", 0, "unexpected '*'"),
    ("1 = = 2", 4, "unexpected '='"),
    ("${a} = 1)", 8, "unexpected ')'"),
    ("${a} ${b}", 5, "unexpected '${b}'"),
    ("'a' 'b'", 4, "unexpected \"'b'\""),
    ("..", 0, "unexpected '..'"),
    ("1e6", 1, "unexpected 'e6'"),
    ("2 ** 3", 3, "unexpected '*'"),
    ("${a} @ 1", 5, "unexpected character '@'"),
    ("${a} == 1", 6, "unexpected '='"),
    ("${a} = 'x", 7, "unterminated string: closing ' is missing"),
    ('"x', 0, 'unterminated string: closing " is missing'),
    ("${a", 0, "unterminated reference: '}' is missing"),
    ("${a b} = 1", 0, "invalid name in reference ${a b}"),
    ("${} = 1", 0, "invalid name in reference ${}"),
    ("${1a}", 0, "invalid name in reference ${1a}"),
    ("1 + ${sample.}", 4, "invalid name in reference ${sample.}"),
    ("foo(1)", 0, "unknown function foo()"),
    ("__import__('os')", 0, "unknown function __import__()"),
    ("1 + eval('1')", 4, "unknown function eval()"),
    ("selected(${a})", 0, "wrong number of arguments to selected(): 1 given, 2 expected"),
    ("if(1, 2)", 0, "wrong number of arguments to if(): 2 given, 3 expected"),
    ("today(1)", 0, "wrong number of arguments to today(): 1 given, 0 expected"),
    ("round(1, 2, 3)", 0, "wrong number of arguments to round(): 3 given, 1 to 2 expected"),
    ("concat()", 0, "wrong number of arguments to concat(): 0 given, at least 1 expected"),
    ("regex(${a}, ${b})", 12, "the pattern of regex() must be a quoted string"),
    ("regex(., concat('a', 'b'))", 9, "the pattern of regex() must be a quoted string"),
    ("regex(., '[')", 9, "invalid regular expression '['"),
    ("date('2024-13-01')", 5, "invalid date '2024-13-01', expected YYYY-MM-DD"),
    ("date('yesterday')", 5, "invalid date 'yesterday', expected YYYY-MM-DD"),
    ("1 + " + "9" * 400, 4, "number 99999999999999999999… is too large"),
    ("weighted-checklist(1, 2, ${a}, 1, ${b})", 34, "weighted-checklist() takes a minimum"),
    ("substr(${a})", 0, "wrong number of arguments to substr(): 1 given, 2 to 3 expected"),
    ("format-date(${a})", 0, "wrong number of arguments to format-date(): 1 given, 2 expected"),
    ("1 + pulldata('f', 'b', 'k', ${a})", 4, "pulldata() is not supported: Ankieta reads no"),
    ("instance('gminy')", 0, "instance() is not supported: Ankieta reads no files"),
    ("jr:choice-name(${a}, ${a})", 21, "the second argument of jr:choice-name() must name"),
    ("jr:choice-name(${a}, 'a')", 21, "the second argument of jr:choice-name() must name"),
    ("jr:choice-name(${a}, '${sample.x}')", 21, "the second argument of jr:choice-name()"),
    ("jr:itext('a')", 0, "jr:itext() is not supported: a text's translations are not"),
    ("random() < 0.5", 0, "random() is not supported: a random value"),
    ("once()", 0, "wrong number of arguments to once(): 0 given, 1 expected"),
    ("uuid(8, 9)", 0, "wrong number of arguments to uuid(): 2 given, 0 to 1 expected"),
    ("now(1)", 0, "wrong number of arguments to now(): 1 given, 0 expected"),
    ("distance(${a})", 0, "distance() is not supported: expressions do not compute"),
    ("digest(${a}, 'SHA-256')", 0, "digest() is not supported: expressions compute no"),
    ("last()", 0, "last() is not supported: expressions name answers with ${name}"),
    ("jr:foo(1)", 0, "unknown function jr:foo()"),
]


def test_every_refused_function_says_why_and_is_not_also_evaluated() -> None:
    for name, reason in REFUSED_FUNCTIONS.items():
        assert name not in _FUNCTIONS
        with pytest.raises(ExpressionError) as caught:
            parse(f"{name}()")
        assert caught.value.message.msgid == reason
        assert str(caught.value.message).startswith(f"{name}() is not supported: ")


def test_format_date_names_months_and_days_in_english_for_other_languages() -> None:
    expression = parse("format-date(${d}, '%a %e %b %Y')")
    ctx = dataclasses.replace(CONTEXT, language="en")
    assert expression.evaluate(ctx) == "Fri 5 Jan 2024"
    assert expression.evaluate(dataclasses.replace(CONTEXT, language="pl")) == "pt. 5 sty 2024"
    assert expression.evaluate(CONTEXT) == "pt. 5 sty 2024"  # Polish unless told otherwise


def test_choice_labels_go_into_the_tree_for_the_browser_only_where_looked_up() -> None:
    expression = parse("jr:choice-name(${m}, '${m}') != '' and jr:choice-name(1, '${x}') = ''")
    tree = with_choice_labels(expression.to_json(), LABELS)
    first, second = tree["left"]["left"], tree["right"]["left"]
    assert first["labels"] == LABELS["m"] and second["labels"] == {}
    assert "labels" not in expression.to_json()["left"]["left"]  # the parse is not changed
    assert expression.references == {"m"}  # the quoted name is not an answer read


def test_checklist_bounds_and_weighted_pairs_do_not_read_as_node_sets() -> None:
    expression = parse("checklist(${lo}, ${hi}, ${x}) and weighted-checklist(1, 2, ${y}, ${w})")
    assert expression.scalar_references == {"lo", "hi", "y", "w"}


@pytest.mark.parametrize(("source", "position", "problem"), PARSE_ERRORS)
def test_parse_error_names_problem_and_position(
    source: str, position: int | None, problem: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source, "constraint")
    error = caught.value
    assert str(error.message).startswith(problem)
    assert error.position == position
    assert error.expression == source
    assert error.column == "constraint"


def test_error_reads_as_one_english_sentence() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("${a} > )", "relevant")
    assert str(caught.value) == "relevant: unexpected ')' at position 7 in \"${a} > )\""


def test_error_is_a_value_error_without_column_when_none_given() -> None:
    with pytest.raises(ValueError, match=r"^unknown function foo\(\) at position 0 in "):
        parse("foo()")


def test_error_column_comes_from_each_call_even_for_the_same_source() -> None:
    for column in ("relevant", "calculation"):
        with pytest.raises(ExpressionError) as caught:
            parse("1 +", column)
        assert caught.value.column == column
        assert str(caught.value).startswith(f"{column}: ")


def test_error_renders_frame_and_problem_through_gettext() -> None:
    polish = {
        "unknown function %(function)s()": "nieznana funkcja %(function)s()",
        '%(column)s: %(problem)s at position %(position)d in "%(expression)s"': (
            '%(column)s: %(problem)s na pozycji %(position)d w "%(expression)s"'
        ),
    }
    with pytest.raises(ExpressionError) as caught:
        parse("foo()", "relevant")
    rendered = caught.value.render(lambda msgid: polish.get(msgid, msgid))
    assert rendered == 'relevant: nieznana funkcja foo() na pozycji 0 w "foo()"'


def test_error_quotes_only_the_start_of_a_long_expression() -> None:
    source = "1 + " * 300 + ")"
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert len(str(caught.value)) < 200
    assert caught.value.expression == source


def test_too_long_expression_is_refused_before_parsing() -> None:
    source = "1" + " " * MAX_LENGTH
    with pytest.raises(ExpressionError) as caught:
        parse(source, "calculation")
    assert caught.value.position is None
    assert str(caught.value.message) == (
        f"the expression is too long ({MAX_LENGTH + 1} characters, limit {MAX_LENGTH})"
    )


def test_expression_of_exactly_the_length_limit_is_accepted() -> None:
    source = "1" + " " * (MAX_LENGTH - 1)
    assert parse(source).evaluate(Context()) == 1


# --- the public API ---------------------------------------------------------------------


def test_parse_returns_the_same_object_for_the_same_source() -> None:
    first = parse("${a} + ${b} > 10", "relevant")
    assert parse("${a} + ${b} > 10", "constraint") is first


def test_expressions_are_equal_and_hash_alike_by_source() -> None:
    expression = parse("${a} = 1")
    assert expression == dataclasses.replace(expression)
    assert hash(expression) == hash(dataclasses.replace(expression))
    assert expression != parse("${a} = 2")
    assert {expression, parse("${a} = 1")} == {expression}


def test_expression_is_immutable() -> None:
    expression = parse("${a}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "${b}"  # type: ignore[misc]


def test_references_are_collected_by_kind() -> None:
    expression = parse(
        "subregion = ${region} and . > ${sample.size} + ${x} and selected(${region}, kind)"
    )
    assert expression.references == frozenset({"region", "x"})
    assert expression.sample_references == frozenset({"size"})
    assert expression.column_references == frozenset({"subregion", "kind"})
    assert expression.uses_current is True


def test_expression_without_references_has_empty_sets() -> None:
    expression = parse("1 + 2")
    assert expression.references == frozenset()
    assert expression.sample_references == frozenset()
    assert expression.column_references == frozenset()
    assert expression.uses_current is False


def test_calls_yield_each_function_with_its_argument_nodes() -> None:
    expression = parse("if(selected(${m}, 'a'), count-selected(${m}), 0) > 1 and true()")
    calls = list(expression.calls())
    assert [name for name, _args in calls] == ["if", "selected", "count-selected", "true"]
    selected_args = calls[1][1]
    assert selected_args == (
        {"type": "ref", "name": "m"},
        {"type": "string", "value": "a"},
    )


def test_to_json_gives_the_documented_tree() -> None:
    assert parse("-${a} + f.x * 2 != concat(., ${sample.s}, 'z', 1.5)").to_json() == {
        "type": "binary",
        "op": "!=",
        "left": {
            "type": "binary",
            "op": "+",
            "left": {"type": "neg", "operand": {"type": "ref", "name": "a"}},
            "right": {
                "type": "binary",
                "op": "*",
                "left": {"type": "column", "name": "f.x"},
                "right": {"type": "number", "value": 2},
            },
        },
        "right": {
            "type": "call",
            "name": "concat",
            "args": [
                {"type": "current"},
                {"type": "sample", "name": "s"},
                {"type": "string", "value": "z"},
                {"type": "number", "value": 1.5},
            ],
        },
    }


def test_to_json_returns_a_copy_the_caller_may_change() -> None:
    expression = parse("${a} + 1")
    tree = expression.to_json()
    tree["left"]["name"] = "b"
    assert expression.to_json()["left"]["name"] == "a"
    assert expression.evaluate(Context(values={"a": 1, "b": 5})) == 2


def test_word_operators_are_names_where_an_operand_is_expected() -> None:
    expression = parse("div = ${a} and mod")
    assert expression.column_references == frozenset({"div", "mod"})
    assert expression.evaluate_bool(Context(values={"a": "x"}, choice={"div": "x", "mod": "y"}))


def test_hyphenated_and_dotted_names_are_one_token() -> None:
    assert parse("${first-name} = ${last.name}").references == {"first-name", "last.name"}


def test_minus_between_operands_is_subtraction() -> None:
    assert parse("${a}-1").evaluate(Context(values={"a": 3})) == 2
    assert parse("3-1").evaluate(Context()) == 2


def test_context_defaults_to_no_answers_and_todays_date() -> None:
    assert parse("${a}").evaluate(Context()) is None
    assert parse("today()").evaluate(Context()) == date.today()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.50"), "2.5"),
        (datetime(2024, 5, 1, 13, 30), "2024-05-01T13:30"),
        (datetime(2024, 5, 1, 11, 30, tzinfo=UTC), "2024-05-01T13:30"),  # in Warsaw time
        (time(8, 5), "08:05"),
        (["a", "b"], "a b"),
        (("a",), "a"),
        (10**400, "Infinity"),
        (-(10**400), "-Infinity"),
        (Decimal("NaN"), "NaN"),
        (object, str(object)),
    ],
)
def test_answers_of_any_python_type_convert_to_expression_values(value: Any, expected: str) -> None:
    assert parse("string(${a})").evaluate(Context(values={"a": value})) == expected


def test_decimal_and_integer_answers_compare_as_numbers() -> None:
    ctx = Context(values={"a": Decimal("0.10"), "b": 3})
    assert parse("${a} = 0.1 and ${b} = '3.0'").evaluate_bool(ctx)


def test_date_answers_subtract_to_days() -> None:
    ctx = Context(values={"start": date(2024, 2, 27), "end": date(2024, 3, 1)})
    assert parse("${end} - ${start}").evaluate(ctx) == 3


def test_if_evaluates_only_the_chosen_branch() -> None:
    # A branch that would time out a regex is never reached.
    expression = parse("if(${a} = 1, 'one', regex(${s}, '(a|aa)+$'))")
    ctx = Context(values={"a": 1, "s": "a" * 5000 + "!"})
    assert expression.evaluate(ctx) == "one"


def test_interpolate_references_finds_item_names_in_labels() -> None:
    text = "Ile osób w ${org}? (${sample.name}, rok ${year}, ${bad name}, ${org})"
    assert interpolate_references(text) == frozenset({"org", "year"})
    assert interpolate_references("no references") == frozenset()


# --- properties -----------------------------------------------------------------------

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
_ATOM = 8
_FUNCTION_ARITIES = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "if": (3, 3),
    "coalesce": (2, 2),
    "concat": (1, 4),
    "string-length": (1, 1),
    "int": (1, 1),
    "number": (1, 1),
    "round": (1, 2),
    "today": (0, 0),
    "sum": (1, 4),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "string": (1, 1),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "boolean": (1, 1),
    "min": (1, 3),
    "max": (1, 3),
    "abs": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "pow": (2, 2),
    "substr": (2, 3),
    "substring": (2, 3),
    "substring-before": (2, 2),
    "substring-after": (2, 2),
    "translate": (3, 3),
    "normalize-space": (1, 1),
    "ends-with": (2, 2),
    "boolean-from-string": (1, 1),
    "selected-at": (2, 2),
    "count-non-empty": (1, 1),
    "checklist": (3, 5),
    "weighted-checklist": (4, 4),
    "format-date": (2, 2),
    "sqrt": (1, 1),
    "exp": (1, 1),
    "exp10": (1, 1),
    "log": (1, 1),
    "log10": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "asin": (1, 1),
    "acos": (1, 1),
    "atan": (1, 1),
    "atan2": (2, 2),
    "pi": (0, 0),
    "format-date-time": (2, 2),
    "decimal-date-time": (1, 1),
}  # jr:choice-name() is left out: its second argument must be a quoted ${name}

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
_leaves = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(lambda n: {"type": "number", "value": n}),
    st.floats(min_value=0, max_value=1e9, allow_nan=False)
    .filter(lambda x: "e" not in repr(x))
    .map(lambda x: {"type": "number", "value": x}),
    st.text(st.characters(exclude_characters="'"), max_size=8).map(
        lambda s: {"type": "string", "value": s}
    ),
    _names.map(lambda name: {"type": "ref", "name": name}),
    _names.map(lambda name: {"type": "sample", "name": name}),
    _names.map(lambda name: {"type": "column", "name": name}),
    st.just({"type": "current"}),
)


def _calls(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    def call(name: str) -> st.SearchStrategy[dict[str, Any]]:
        low, high = _FUNCTION_ARITIES[name]
        args = st.lists(children, min_size=low, max_size=high)
        return args.map(lambda items: {"type": "call", "name": name, "args": items})

    return st.sampled_from(sorted(_FUNCTION_ARITIES)).flatmap(call)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    binary = st.builds(
        lambda op, left, right: {"type": "binary", "op": op, "left": left, "right": right},
        st.sampled_from(sorted(_PRECEDENCE)),
        children,
        children,
    )
    negation = children.map(lambda operand: {"type": "neg", "operand": operand})
    return st.one_of(binary, negation, _calls(children))


trees = st.recursive(_leaves, _extend, max_leaves=25)


def _source(node: dict[str, Any]) -> str:
    """Source text for ``node``, with only the parentheses precedence needs."""
    text, _precedence = _printed(node)
    return text


def _printed(node: dict[str, Any]) -> tuple[str, int]:
    kind = node["type"]
    if kind == "number":
        return str(node["value"]) if isinstance(node["value"], int) else repr(node["value"]), _ATOM
    if kind == "string":
        return "'" + node["value"] + "'", _ATOM
    if kind == "ref":
        return "${" + node["name"] + "}", _ATOM
    if kind == "sample":
        return "${sample." + node["name"] + "}", _ATOM
    if kind == "column":
        return node["name"], _ATOM
    if kind == "current":
        return ".", _ATOM
    if kind == "call":
        return node["name"] + "(" + ", ".join(_source(arg) for arg in node["args"]) + ")", _ATOM
    if kind == "neg":
        operand, precedence = _printed(node["operand"])
        return "-" + (operand if precedence >= 7 else f"({operand})"), 7
    precedence = _PRECEDENCE[node["op"]]
    left, left_precedence = _printed(node["left"])
    right, right_precedence = _printed(node["right"])
    left = left if left_precedence >= precedence else f"({left})"
    right = right if right_precedence > precedence else f"({right})"
    return f"{left} {node['op']} {right}", precedence


def _parse_tree(tree: dict[str, Any]) -> Expression | None:
    """The parse of ``tree``'s source, or None when the tree is deeper than allowed."""
    try:
        return parse(_source(tree))
    except ExpressionError as error:
        assert "nested too deeply" in str(error.message) or "too long" in str(error.message)
        return None


@settings(max_examples=300)
@given(trees)
def test_printed_tree_parses_back_to_the_same_tree(tree: dict[str, Any]) -> None:
    expression = _parse_tree(tree)
    if expression is not None:
        assert expression.to_json() == tree


@given(trees)
def test_tree_survives_a_json_round_trip(tree: dict[str, Any]) -> None:
    expression = _parse_tree(tree)
    if expression is not None:
        assert json.loads(json.dumps(expression.to_json(), allow_nan=False)) == tree


_answers = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.sampled_from(["", "0", "12", "-3.5", "2024-02-29", "a b", " 7 "]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.decimals(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
)
_contexts = st.builds(
    Context,
    values=st.dictionaries(_names, _answers, max_size=6),
    current=_answers,
    sample=st.dictionaries(_names, _answers, max_size=3),
    choice=st.dictionaries(_names, _answers, max_size=3),
    today=st.dates(),
    language=st.sampled_from([None, "pl", "en", "uk"]),
    labels=st.dictionaries(_names, st.dictionaries(st.text(max_size=3), st.text(max_size=5))),
)


@settings(max_examples=300)
@given(trees, _contexts)
def test_evaluation_never_raises_and_returns_a_plain_value(
    tree: dict[str, Any], ctx: Context
) -> None:
    expression = _parse_tree(tree)
    if expression is not None:
        result = expression.evaluate(ctx)
        assert result is None or isinstance(result, bool | int | float | str | date)
        if isinstance(result, float):
            assert math.isfinite(result)
        assert isinstance(expression.evaluate_bool(ctx), bool)


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_any_text_parses_or_raises_expression_error(source: str) -> None:
    try:
        parse(source)
    except ExpressionError as error:
        assert error.position is None or 0 <= error.position <= len(source)


_TOKEN_SOUP = list("${}()'\".,-+*=<>!/ \tabdivmorn0123456789_") + [
    "and",
    "or",
    "div",
    "mod",
    "selected(",
    "regex(",
    "date(",
    "${a}",
    "${sample.x}",
]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_TOKEN_SOUP), max_size=30).map("".join))
def test_token_soup_parses_or_raises_expression_error(source: str) -> None:
    try:
        expression = parse(source)
    except ExpressionError as error:
        assert error.position is None or 0 <= error.position <= len(source)
    else:
        expression.evaluate(CONTEXT)
