"""Benchmark: check + compile a generated 1,000-item definition, then evaluate one page.

Run it from the repository root: ``.venv/bin/python bench/definitions.py``. It prints

- the time to check and compile the definition (``load_definition``; target < 0.5 s),
  min and median of 6 runs, next to the same with PyYAML's pure-Python parser;
- the time to build the ``Flow`` once (done once per definition version and cached);
- the median time to evaluate one page's relevance and constraints for a fresh request
  (``Flow.validate_page`` on a full set of answers; target < 2 ms).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.questionnaire import yaml_reader  # noqa: E402 - needs the path above
from app.domain.questionnaire.flow import PHONE, WEB, Flow  # noqa: E402
from app.domain.questionnaire.loading import load_definition  # noqa: E402

GROUPS = 50
ITEMS_PER_GROUP = 20  # 1 group + 19 children: 50 * 20 = 1,000 items
RUNS = 500
CHECK_RUNS = 2  # per turn; 3 turns
TODAY = date(2026, 3, 31)


def generate_yaml(groups: int = GROUPS) -> str:
    """A definition with ``groups`` pages of 19 items each, relevance, constraints, selects."""
    lines = [
        "settings:",
        "  id: bench",
        "  title: {pl: Benchmark, en: Benchmark}",
        "  languages: [pl, en]",
        "choices:",
        "  tak_nie:",
        "    - {name: '1', label: {pl: Tak, en: 'Yes'}}",
        "    - {name: '2', label: {pl: Nie, en: 'No'}}",
        "  forma:",
        *(f"    - {{name: f{n}, label: {{pl: Forma {n}, en: Form {n}}}}}" for n in range(8)),
        "    - {name: inna, label: {pl: Inna, en: Other}, other: yes}",
        "  likert:",
        *(
            f"    - {{name: '{n}', label: {{pl: 'Ocena {n}', en: 'Grade {n}'}}}}"
            for n in range(1, 6)
        ),
        "survey:",
    ]
    for g in range(groups):
        lines += _group_yaml(g)
    return "\n".join(lines) + "\n"


def _group_yaml(g: int) -> list[str]:
    """One page: a filter question, dependent numbers, selects, a matrix, calculations."""
    relevant = f"\"${{g{g - 1}_filter}} != '2'\"" if g else "\"${sample.kind} != 'none'\""
    p = f"g{g}_"
    label = f"{{pl: 'Pytanie {g}', en: 'Question {g}'}}"
    children = [
        f"{{type: note, name: {p}intro, label: {{pl: 'Część {g}: ${{{p}sum}}', en: 'Part {g}'}}}}",
        f"{{type: select_one tak_nie, name: {p}filter, label: {label}, required: yes}}",
        *(
            f"{{type: integer, name: {p}n{k}, label: {label}, required: yes,"
            f" relevant: \"${{{p}filter}} = '1'\", constraint: '. >= 0 and . <= 10000',"
            f" constraint_message: {{pl: 'Od 0 do 10000', en: 'From 0 to 10000'}}}}"
            for k in range(6)
        ),
        f"{{type: integer, name: {p}part, label: {label}, constraint: '. <= ${{{p}n0}}',"
        f' relevant: "${{{p}n0}} > 0"}}',
        f"{{type: decimal, name: {p}amount, label: {label}, constraint: '. >= 0'}}",
        f"{{type: date, name: {p}date, label: {label}, constraint: '. <= today()'}}",
        f"{{type: select_multiple forma, name: {p}forms, label: {label},"
        f" constraint: 'count-selected(.) <= 3'}}",
        f"{{type: text, name: {p}comment, label: {label},"
        f" relevant: \"selected(${{{p}forms}}, 'f1') or ${{{p}n1}} > 5\"}}",
        f'{{type: select_one tak_nie, name: {p}more, label: {label}, required: "${{{p}n2}} > 0"}}',
        f"{{type: matrix likert, name: {p}grid, label: {label}, rows: ["
        f"{{name: a, label: {{pl: A, en: A}}}}, {{name: b, label: {{pl: B, en: B}}}}]}}",
        f"{{type: calculate, name: {p}sum,"
        f" calculation: 'sum(${{{p}n0}}, ${{{p}n1}}, ${{{p}n2}})'}}",
        f"{{type: calculate, name: {p}share, calculation: 'if(${{{p}sum}} > 0,"
        f" ${{{p}n3}} div ${{{p}sum}}, 0)'}}",
        f"{{type: note, name: {p}high, label: {label}, relevant: '${{{p}share}} > 0.5'}}",
        f"{{type: textarea, name: {p}notes, label: {label}}}",
    ]
    return [
        "  - type: group",
        f"    name: g{g}",
        f"    label: {{pl: 'Strona {g}', en: 'Page {g}'}}",
        f"    relevant: {relevant}",
        "    children:",
        *(f"      - {child}" for child in children),
    ]


def page_form(g: int) -> dict[str, list[str]]:
    """A full, valid submission of page ``g``."""
    p = f"g{g}_"
    form = {f"{p}filter": ["1"], f"{p}part": ["3"], f"{p}amount": ["12,5"]}
    form |= {f"{p}n{k}": [str(10 + k)] for k in range(6)}
    form |= {f"{p}date": ["31.03.2026"], f"{p}forms": ["f1", "inna"], f"{p}forms_other": ["x"]}
    form |= {f"{p}comment": ["ok"], f"{p}more": ["2"], f"{p}grid_a": ["1"], f"{p}grid_b": ["5"]}
    return form | {f"{p}notes": ["długi tekst"]}


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    """The median wall time of ``action`` in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def check_times(source: bytes, loader: type | None) -> list[float]:
    """Seconds to check + compile ``source``, CHECK_RUNS times (with ``loader``, if given)."""
    saved = yaml_reader._LocatingLoader
    if loader is not None:
        yaml_reader._LocatingLoader = loader
    try:
        times = []
        for _ in range(CHECK_RUNS):
            start = time.perf_counter()
            load_definition(source, "bench.yaml")
            times.append(time.perf_counter() - start)
        return times
    finally:
        yaml_reader._LocatingLoader = saved


def main() -> None:
    source = generate_yaml().encode()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # side by side, in turn: the loader in use (libyaml's parser where installed) and
    # PyYAML's pure-Python parser
    in_use: list[float] = []
    python: list[float] = []
    for _ in range(3):
        in_use += check_times(source, None)
        python += check_times(source, yaml_reader._PythonLocatingLoader)
    result = load_definition(source, "bench.yaml")
    errors = [p for p in result.problems if p.severity == "error"]
    if result.questionnaire is None or errors:
        for problem in result.problems:
            print(problem)
        raise SystemExit(1)
    q = result.questionnaire
    item_count = sum(1 for _ in q.walk())
    start = time.perf_counter()
    flow = Flow(q)
    flow_ms = (time.perf_counter() - start) * 1000

    flow.pages(WEB)
    flow.pages(PHONE)
    sample = {"kind": "CIS"}
    answers: dict[str, object] = {}
    for g in range(GROUPS):
        page = flow.page(WEB, f"g{g}")
        page_result = flow.validate_page(
            page, page_form(g), answers, mode=WEB, sample=sample, today=TODAY
        )
        assert page_result.ok, page_result.errors
        answers = page_result.apply(answers)
    middle = flow.page(WEB, f"g{GROUPS // 2}")
    form = page_form(GROUPS // 2)

    def validate_middle_page() -> object:
        return flow.validate_page(middle, form, answers, mode=WEB, sample=sample, today=TODAY)

    def relevance_of_middle_page() -> object:
        return flow.is_shown(middle, flow.state(answers, sample=sample, today=TODAY), WEB)

    def whole_response() -> object:
        return flow.is_complete(flow.state(answers, sample=sample, today=TODAY))

    loader = yaml_reader._LocatingLoader.__name__
    print(
        f"check+compile {item_count} items ({loader}): min {min(in_use):.2f} s, median "
        f"{statistics.median(in_use):.2f} s of {len(in_use)} (target < 0.5 s); pure-Python "
        f"parser: min {min(python):.2f} s, median {statistics.median(python):.2f} s"
    )
    print(f"build Flow (once per version): {flow_ms:.1f} ms")
    print(
        f"one page's relevance + constraints (validate_page, median of {RUNS}): "
        f"{median_ms(validate_middle_page):.3f} ms (target < 2 ms)"
    )
    print(f"one page's relevance only (is_shown): {median_ms(relevance_of_middle_page):.3f} ms")
    print(f"whole response complete? ({item_count} items): {median_ms(whole_response, 50):.2f} ms")


if __name__ == "__main__":
    main()
