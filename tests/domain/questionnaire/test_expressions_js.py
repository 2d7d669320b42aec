"""The browser evaluator (app/static/js/expressions.js) agrees with the Python one.

Both evaluate the same JSON trees in the same contexts: the shared case table, then
randomly generated trees. Runs ``node`` once per test; skipped when it is not installed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
import subprocess
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain.questionnaire.expressions import (
    _FUNCTIONS as SERVER_FUNCTIONS,
)
from app.domain.questionnaire.expressions import (
    Context,
    ExpressionError,
    NodeSet,
    moment_text,
    parse,
    with_choice_labels,
)

from .expression_cases import CASES, CHOICE, LABELS, NOW, POSITION, SAMPLE, TODAY, VALUES

SCRIPT = Path(__file__).resolve().parents[3] / "app" / "static" / "js" / "expressions.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed, cannot run JS")

RUNNER = """
const api = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(({ tree, ctx }) => {
    try {
      return { value: api.evaluate(tree, ctx), bool: api.evaluateBool(tree, ctx) };
    } catch (error) {
      return { error: String(error) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def _json_value(value: Any) -> Any:
    """A Python answer as the browser holds it: dates as 'YYYY-MM-DD', moments as
    'YYYY-MM-DDTHH:MM', times as 'HH:MM', numbers as numbers, a node-set as
    ``{nodeset: [values], paths: [[instance numbers], ...]}``."""
    if isinstance(value, NodeSet):
        return {
            "nodeset": [_json_value(each) for each in value],
            "paths": [list(path) for path in value.paths],
        }
    if isinstance(value, datetime):
        return moment_text(value, seconds=False)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple | list):
        return list(value)
    return value


def _json_context(ctx: Context) -> dict[str, Any]:
    return {
        "values": {name: _json_value(v) for name, v in ctx.values.items()},
        "current": _json_value(ctx.current),
        "sample": {name: _json_value(v) for name, v in ctx.sample.items()},
        "choice": {name: _json_value(v) for name, v in ctx.choice.items()},
        "today": _json_value(ctx.today),
        "now": moment_text(ctx.now) if ctx.now is not None else None,
        "position": ctx.position,
        "language": ctx.language,
    }


def _run_node(jobs: list[tuple[dict[str, Any], Context]]) -> list[dict[str, Any]]:
    payload = json.dumps(
        [{"tree": tree, "ctx": _json_context(ctx)} for tree, ctx in jobs], allow_nan=False
    )
    completed = subprocess.run(
        [str(NODE), "-e", RUNNER, str(SCRIPT)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(completed.stdout)


def _python_result(tree: dict[str, Any], source: str, ctx: Context) -> tuple[Any, bool]:
    expression = parse(source)
    assert with_choice_labels(expression.to_json(), ctx.labels) == tree
    value = expression.evaluate(ctx)
    return (value.isoformat() if isinstance(value, date) else value), expression.evaluate_bool(ctx)


def _agree(python: Any, browser: Any) -> bool:
    if isinstance(python, bool) or isinstance(browser, bool):
        return python is browser
    if isinstance(python, int | float) and isinstance(browser, int | float):
        return math.isclose(python, browser, rel_tol=1e-12, abs_tol=1e-300)
    return python == browser


def test_every_server_function_has_a_browser_case() -> None:
    """A function added to the server without a case here would go unchecked in the
    browser: each one appears in the shared table, so both evaluate it."""
    called = {name for case in CASES for name, _args in parse(case.source).calls()}
    assert sorted(set(SERVER_FUNCTIONS) - called) == []


def test_every_server_function_is_in_the_random_trees_or_says_why_not() -> None:
    assert sorted(set(SERVER_FUNCTIONS) - set(_FUNCTIONS) - set(_TABLE_ONLY)) == []


@pytest.mark.parametrize("language", [None, "pl", "en"])
def test_browser_agrees_with_python_on_every_table_case(language: str | None) -> None:
    base = Context(
        values=VALUES,
        sample=SAMPLE,
        choice=CHOICE,
        today=TODAY,
        now=NOW,
        position=POSITION,
        language=language,
        labels=LABELS,
    )
    jobs = []
    for case in CASES:
        ctx = dataclasses.replace(base, current=case.current)
        jobs.append((with_choice_labels(parse(case.source).to_json(), LABELS), ctx))
    disagreements = []
    for case, (tree, ctx), browser in zip(CASES, jobs, _run_node(jobs), strict=True):
        value, boolean = _python_result(tree, case.source, ctx)
        if "error" in browser or not _agree(value, browser["value"]) or boolean != browser["bool"]:
            disagreements.append((case.source, value, boolean, browser))
    assert disagreements == []


# Random trees over the whole language except the functions below: regex() and
# jr:choice-name(), whose last argument is a literal (the table has many), and those whose
# last bit may differ between C's math library and the browser's (a rounding or a
# comparison of the result would turn that bit into a different answer); the table checks
# them on chosen values, within 1e-12.
_TABLE_ONLY = {
    "regex", "jr:choice-name", "pow", "exp", "exp10", "log", "log10", "sqrt", "sin", "cos",
    "tan", "asin", "acos", "atan", "atan2", "pi", "uuid",
}  # fmt: skip
_FUNCTIONS = {
    "selected": 2,
    "count-selected": 1,
    "if": 3,
    "coalesce": 2,
    "concat": 3,
    "string-length": 1,
    "int": 1,
    "number": 1,
    "round": 2,
    "today": 0,
    "sum": 3,
    "not": 1,
    "string": 1,
    "contains": 2,
    "starts-with": 2,
    "boolean": 1,
    "min": 2,
    "max": 2,
    "abs": 1,
    "floor": 1,
    "ceiling": 1,
    "date": 1,
    "count": 1,
    "join": 3,
    "indexed-repeat": 3,
    "position": 0,
    "true": 0,
    "false": 0,
    "substr": 3,
    "substring": 3,
    "substring-before": 2,
    "substring-after": 2,
    "translate": 3,
    "normalize-space": 1,
    "ends-with": 2,
    "boolean-from-string": 1,
    "selected-at": 2,
    "count-non-empty": 1,
    "checklist": 4,
    "weighted-checklist": 4,
    "format-date": 2,
    "format-date-time": 2,
    "decimal-date-time": 1,
    "decimal-time": 1,
    "date-time": 1,
    "now": 0,
    "once": 1,
}
_OPERATORS = ["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]
_NAMES = ["a", "b", "c", "d", "m"]
_STRINGS = [
    "", "a", "b", "a b", "12", " 3.5 ", "-0", "2024-02-29", "1999-12-31", "x", "true", "ż",
    "%d.%m.%Y %a %b", "%e %n %y %%", "08:30", "23:59:59", "24:00", "2024-02-29T12:00",
    "1999-12-31T23:59:59.5", "%H:%M:%S %h",
]  # fmt: skip
_NUMBERS = [0, 1, 2, 3, 7, 10, 0.5, 2.5, 1.005, 2.675, 1000000, 0.1]


def _random_tree(rng: random.Random, depth: int) -> dict[str, Any]:
    roll = rng.random()
    if depth <= 0 or roll < 0.3:
        return _random_leaf(rng)
    if roll < 0.55:
        return {
            "type": "binary",
            "op": rng.choice(_OPERATORS),
            "left": _random_tree(rng, depth - 1),
            "right": _random_tree(rng, depth - 1),
        }
    if roll < 0.6:
        return {"type": "neg", "operand": _random_tree(rng, depth - 1)}
    name = rng.choice(sorted(_FUNCTIONS))
    args = [_random_tree(rng, depth - 1) for _ in range(_FUNCTIONS[name])]
    return {"type": "call", "name": name, "args": args}


def _random_leaf(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["number", "string", "ref", "ref", "sample", "column", "current"])
    if kind == "number":
        return {"type": "number", "value": rng.choice(_NUMBERS)}
    if kind == "string":
        return {"type": "string", "value": rng.choice(_STRINGS)}
    if kind == "current":
        return {"type": "current"}
    return {"type": kind, "name": rng.choice(_NAMES)}


def _random_node_set(rng: random.Random) -> NodeSet:
    """Values of a name inside a repeat (nested one level deep half the time)."""
    size = rng.randint(0, 4)
    values = [
        rng.choice([None, "", rng.choice(_STRINGS), rng.choice(_NUMBERS)]) for _ in range(size)
    ]
    if rng.random() < 0.5:
        return NodeSet(values, [(number,) for number in range(1, size + 1)])
    return NodeSet(values, [(1 + number // 2, 1 + number % 2) for number in range(size)])


def _random_answer(rng: random.Random) -> Any:
    return rng.choice(
        [
            _random_node_set(rng),
            None,
            rng.choice(_STRINGS),
            rng.choice(_NUMBERS),
            -rng.choice(_NUMBERS),
            rng.random() * 1000,
            rng.choice([True, False]),
            rng.sample(["a", "b", "c"], rng.randint(0, 3)),
        ]
    )


def _random_context(rng: random.Random) -> Context:
    return Context(
        values={name: _random_answer(rng) for name in _NAMES},
        current=_random_answer(rng),
        sample={name: _random_answer(rng) for name in _NAMES},
        choice={name: _random_answer(rng) for name in _NAMES},
        today=date(2024, 1, 1) + (date(2024, 12, 31) - date(2024, 1, 1)) * rng.random(),
        now=rng.choice([None, datetime(2024, 6, 1, 12, 0, 30)]),
        position=rng.choice([None, 1, 2, 7]),
        language=rng.choice([None, "pl", "en"]),
    )


def _source(node: dict[str, Any]) -> str:
    """Source for ``node``, fully parenthesised (precedence is tested in Python alone)."""
    kind = node["type"]
    if kind == "number":
        return repr(node["value"])
    if kind == "string":
        return "'" + node["value"] + "'"
    if kind == "ref":
        return "${" + node["name"] + "}"
    if kind == "sample":
        return "${sample." + node["name"] + "}"
    if kind == "column":
        return node["name"]
    if kind == "current":
        return "."
    if kind == "neg":
        return "-(" + _source(node["operand"]) + ")"
    if kind == "binary":
        return f"({_source(node['left'])}) {node['op']} ({_source(node['right'])})"
    return node["name"] + "(" + ", ".join(_source(arg) for arg in node["args"]) + ")"


def test_browser_agrees_with_python_on_random_trees() -> None:
    rng = random.Random(20240315)
    jobs: list[tuple[dict[str, Any], Context, str]] = []
    while len(jobs) < 3000:
        tree = _random_tree(rng, 4)
        source = _source(tree)
        try:
            tree = parse(source).to_json()
        except ExpressionError:  # deeper than the parser allows
            continue
        jobs.append((tree, _random_context(rng), source))
    results = _run_node([(tree, ctx) for tree, ctx, _source_text in jobs])
    disagreements = []
    for (tree, ctx, source), browser in zip(jobs, results, strict=True):
        value, boolean = _python_result(tree, source, ctx)
        if "error" in browser or not _agree(value, browser["value"]) or boolean != browser["bool"]:
            disagreements.append((source, ctx, value, boolean, browser))
    assert disagreements[:5] == []
