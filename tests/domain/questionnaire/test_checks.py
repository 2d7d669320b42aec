"""The checker: each broken definition gives its problems at the exact line, and exit 1."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.domain.check_files import check_paths, run_check
from app.domain.questionnaire.loading import load_definition

HEADER = """\
settings:
  id: t
  title: T
"""

BROKEN = [
    pytest.param(
        HEADER
        + """\
survey:
  - type: text
    name: a
   label: A
""",
        [
            "q.yaml:7: YAML syntax error: expected <block end>, but found '<block mapping start>'.",
        ],
        id="yaml_syntax",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: interger
    name: a
    label: A
""",
        [
            "q.yaml:5: item a: Unknown type interger (did you mean integer?).",
        ],
        id="unknown_type",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: integer
    name: a
    label: A
    relevnat: "1 = 1"
""",
        [
            "q.yaml:8: item a: Unknown key relevnat (did you mean relevant?).",
        ],
        id="unknown_key",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: integer
    name: a
    label: A
    rows: []
""",
        [
            "q.yaml:8: item a: The key rows does not apply to integer items.",
        ],
        id="key_not_applicable",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A}
  - {type: text, name: a, label: B}
""",
        [
            "q.yaml:6: item a: The name a is already used (line 5).",
        ],
        id="duplicate_name",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  skala: [{name: "1", label: Tak}]
survey:
  - {type: integer, name: m_r1, label: A}
  - type: matrix skala
    name: m
    label: M
    rows: [{name: r1, label: R}]
""",
        [
            "q.yaml:9: item m: The name m_r1 is already used (line 7).",
        ],
        id="duplicate_matrix_variable",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  forma:
    - {name: x, label: X}
    - {name: inna, label: Inna, other: yes}
survey:
  - {type: select_one forma, name: f, label: F}
  - {type: text, name: f_other, label: G}
""",
        [
            "q.yaml:10: item f_other: The name f_other is already used (line 9).",
        ],
        id="duplicate_other_variable",
    ),
    pytest.param(
        """\
settings:
  id: t
  title: {pl: T, en: T}
  languages: [pl, en]
survey:
  - type: integer
    name: a
    label: {pl: Liczba}
    hint: {pl: H, en: H}
""",
        [
            "q.yaml:8: item a: label has no text in en.",
        ],
        id="missing_translation",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: integer
    name: a
    label: {pl: Liczba, de: Zahl}
""",
        [
            "q.yaml:7: item a: label has a text in de, which is not among the languages.",
        ],
        id="undeclared_language",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: select_one tak_nie, name: a, label: A}
""",
        [
            "q.yaml:5: item a: The choice list tak_nie does not exist.",
        ],
        id="unknown_choice_list",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  yn:
    - {name: 1, label: Tak}
    - {name: "1", label: Nie}
survey:
  - {type: select_one yn, name: a, label: A}
""",
        [
            "q.yaml:7: The code 1 appears twice in list yn (first on line 6).",
        ],
        id="duplicate_choice_code",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  yn: []
survey:
  - {type: select_one yn, name: a, label: A}
""",
        [
            "q.yaml:5: The choice list yn is empty.",
        ],
        id="empty_choice_list",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  yn:
    - {name: yes, label: Tak}
    - {name: "no", label: Nie}
survey:
  - {type: select_one yn, name: a, label: A}
""",
        [
            'q.yaml:6: The name yes is read as yes/no: put it in quotes ("yes").',
        ],
        id="boolean_choice_name",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A}
  - {type: integer, name: b, label: B, relevant: "${c} > 0"}
""",
        [
            "q.yaml:6: item b: relevant refers to ${c}, which is not in the questionnaire.",
        ],
        id="unknown_reference",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A, relevant: "${b} > 0"}
  - {type: integer, name: b, label: B}
""",
        [
            "q.yaml:5: item a: relevant refers to ${b}, which comes later in the questionnaire.",
        ],
        id="relevance_refers_later",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A, constraint: ". <= ${b}"}
  - {type: integer, name: b, label: B}
""",
        [
            "q.yaml:5: item a: constraint refers to ${b}, which comes later in the questionnaire.",
        ],
        id="constraint_refers_later",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: calculate, name: x, calculation: "${y} + 1"}
  - {type: calculate, name: y, calculation: "${x} * 2"}
""",
        [
            "q.yaml:5: item x: These calculations depend on each other in a circle: x, y.",
        ],
        id="calculation_cycle",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A}
  - {type: integer, name: b, label: B, relevant: "${a} > )"}
""",
        [
            "q.yaml:6: item b: relevant: unexpected ')' at position 7 in \"${a} > )\"",
        ],
        id="expression_syntax",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: text, name: a, label: A}
  - {type: integer, name: b, label: B, relevant: "selected(${a}, '1')"}
""",
        [
            "q.yaml:6: item b: selected() is used on ${a}, which is not a select question.",
        ],
        id="selected_on_text",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  yn: [{name: "1", label: Tak}, {name: "2", label: Nie}]
survey:
  - {type: select_multiple yn, name: a, label: A}
  - {type: integer, name: b, label: B, relevant: "selected(${a}, '3')"}
""",
        [
            "q.yaml:8: item b: selected() looks for code 3, which list yn does not have.",
        ],
        id="selected_unknown_code",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A, relevant: ". > 0"}
""",
        [
            "q.yaml:5: item a: relevant uses . (the answer being checked), "
            "which only a constraint can use.",
        ],
        id="current_outside_constraint",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: group
    name: g
    label: G
    children: []
""",
        [
            "q.yaml:8: item g: The group has no items.",
        ],
        id="group_without_items",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  skala: [{name: "1", label: Dobrze}]
survey:
  - type: matrix skala
    name: m
    label: M
""",
        [
            "q.yaml:7: item m: The matrix has no rows.",
        ],
        id="matrix_without_rows",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: 1a, label: A}
""",
        [
            "q.yaml:5: The name 1a is not valid: use letters, digits and _, "
            "not starting with a digit.",
        ],
        id="invalid_name",
    ),
    pytest.param(
        """\
settings:
  version: "1"
survey:
  - {type: integer, name: a, label: A}
""",
        [
            "q.yaml:2: The settings have no id.",
            "q.yaml:2: title is missing.",
        ],
        id="settings_missing_id_and_title",
    ),
    pytest.param(
        HEADER
        + """\
  default_language: en
  languages: [pl]
survey:
  - {type: integer, name: a, label: A}
""",
        [
            "q.yaml:3: title has no text in pl.",
            "q.yaml:4: The default_language en is not among the languages (pl).",
            "q.yaml:7: item a: label has no text in pl.",
        ],
        id="default_language_not_declared",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A}
  - {type: integer, name: b, label: B, relevant: "a > 0"}
""",
        [
            "q.yaml:6: item b: relevant uses a without ${}: write ${a} to use an answer.",
        ],
        id="bare_name_outside_filter",
    ),
    pytest.param(
        HEADER
        + """\
choices:
  gmina: [{name: "246101", label: Bielsko-Biała, subregion: poludniowy}]
survey:
  - {type: select_one gmina, name: g, label: G, choice_filter: "powiat = 'x'"}
""",
        [
            "q.yaml:7: item g: choice_filter uses the column powiat, "
            "which list gmina does not have.",
        ],
        id="choice_filter_unknown_column",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - &a {type: integer, name: a, label: A}
  - *a
""",
        [
            "q.yaml:6: YAML anchors and aliases (*name) are not supported: write it out.",
        ],
        id="yaml_alias",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: integer
    name: a
    label: A
    label: B
""",
        [
            "q.yaml:8: The key label is written twice here.",
        ],
        id="duplicate_key",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: calculate, name: c}
""",
        [
            "q.yaml:5: item c: A calculate item needs a calculation.",
        ],
        id="calculate_without_calculation",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: note, name: n, label: "Dane za rok ${rok}."}
""",
        [
            "q.yaml:5: item n: label refers to ${rok}, which is not in the questionnaire.",
        ],
        id="label_unknown_reference",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: group
    name: g
    label: G
    children:
      - {type: integer, name: a, label: A}
  - {type: integer, name: b, label: B, relevant: "${g} = 1"}
""",
        [
            "q.yaml:10: item b: relevant refers to ${g}, a group, which has no answer.",
        ],
        id="reference_to_group",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: a, label: A, constraint: "count-selected(.) <= 2"}
""",
        [
            "q.yaml:5: item a: count-selected() is used on ., which is not a select question.",
        ],
        id="count_selected_on_integer",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: select_one, name: a, label: A}
""",
        [
            "q.yaml:5: item a: Write the type as select_one LIST, naming one choice list.",
        ],
        id="type_without_list",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X}
  - {type: integer, name: y, label: Y, relevant: "${x} > 1"}
""",
        [
            "q.yaml:10: item y: relevant reads ${x}, which is inside the repeat r, as one value: "
            "use count(), sum(), min(), max(), join() or indexed-repeat().",
        ],
        id="repeat_field_read_outside_in_expression",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X}
  - {type: note, name: y, label: "X is ${x}"}
""",
        [
            "q.yaml:10: item y: label reads ${x}, which is inside the repeat r, as one value: use "
            "count(), sum(), min(), max(), join() or indexed-repeat().",
        ],
        id="repeat_field_read_outside_in_label",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X}
  - type: repeat
    name: s
    label: S
    children:
      - {type: integer, name: y, label: Y, constraint: ". > ${x}"}
""",
        [
            "q.yaml:14: item y: constraint reads ${x}, which is inside the repeat r, as one "
            "value: use count(), sum(), min(), max(), join() or indexed-repeat().",
        ],
        id="repeat_field_read_from_a_sibling_repeat",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X, relevant: "${y} > 1"}
      - type: repeat
        name: s
        label: S
        children:
          - {type: integer, name: y, label: Y}
""",
        [
            "q.yaml:9: item x: relevant refers to ${y}, which comes later in the questionnaire.",
            "q.yaml:9: item x: relevant reads ${y}, which is inside the repeat s, as one value: "
            "use count(), sum(), min(), max(), join() or indexed-repeat().",
        ],
        id="nested_repeat_field_read_by_the_outer_instance",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X}
  - {type: integer, name: y, label: Y, relevant: "${r} > 1"}
""",
        [
            "q.yaml:10: item y: relevant reads the repeat ${r} as one value: count(${r}) gives "
            "its number of entries.",
        ],
        id="repeat_read_as_one_value",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_count: "${n}"
    children:
      - {type: integer, name: x, label: X}
  - {type: integer, name: n, label: N}
""",
        [
            "q.yaml:8: item r: repeat_count refers to ${n}, which comes later in the "
            "questionnaire.",
        ],
        id="repeat_count_refers_forward",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_count: "count(${r})"
    children:
      - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:8: item r: repeat_count refers to the item itself.",
        ],
        id="repeat_count_counts_its_own_repeat",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_count: "sum(${x})"
    children:
      - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:8: item r: repeat_count refers to ${x}, which comes later in the "
            "questionnaire.",
        ],
        id="repeat_count_uses_its_own_field",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
""",
        [
            "q.yaml:5: item r: The repeat has no items.",
        ],
        id="repeat_without_children",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r1
    label: R
    children:
      - type: repeat
        name: r2
        label: R
        children:
          - type: repeat
            name: r3
            label: R
            children:
              - type: repeat
                name: r4
                label: R
                children:
                  - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:17: item r4: Repeats nest at most 3 deep; r4 is deeper.",
        ],
        id="repeats_nested_past_three",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: integer, name: y, label: Y}
  - type: repeat
    name: r
    label: R
    instance_label: y
    children:
      - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:9: item r: instance_label names y, which is not a question of this repeat.",
        ],
        id="instance_label_names_no_question_of_the_repeat",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - {type: calculate, name: p, calculation: "position(..)"}
""",
        [
            "q.yaml:5: item p: calculation uses position(..), which only means something inside a "
            "repeat.",
        ],
        id="position_outside_a_repeat",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_min: 3
    repeat_max: 2
    children:
      - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:8: item r: repeat_min (3) is more than repeat_max (2).",
        ],
        id="repeat_min_above_repeat_max",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_count: 2
    repeat_max: 4
    children:
      - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:8: item r: With repeat_count the count is fixed: remove repeat_min and "
            "repeat_max.",
        ],
        id="repeat_count_with_bounds",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_min: -1
    repeat_max: 101
    children:
      - {type: integer, name: x, label: X}
""",
        [
            "q.yaml:8: item r: repeat_min must be a whole number from 0 to 100.",
            "q.yaml:9: item r: repeat_max must be a whole number from 1 to 100.",
        ],
        id="repeat_bounds_out_of_range",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    repeat_max: dużo
    children:
      - {type: integer, name: x, label: X}
  - type: repeat
    name: s
    label: S
    repeat_max: "²"
    children:
      - {type: integer, name: y, label: Y}
""",
        [
            "q.yaml:8: item r: repeat_max must be a whole number from 1 to 100.",
            "q.yaml:14: item s: repeat_max must be a whole number from 1 to 100.",
        ],
        id="repeat_max_zero_or_not_a_number",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X}
      - {type: calculate, name: share, calculation: "${x} div ${total}"}
      - {type: integer, name: y, label: Y, relevant: "${half} > 1", constraint: ". < ${total}"}
  - {type: calculate, name: total, calculation: "sum(${x})"}
  - {type: calculate, name: half, calculation: "${total} div 2"}
""",
        [
            "q.yaml:10: item share: calculation reads ${total}, which is calculated from the "
            "entries of the repeat r: inside an entry it is still empty (a constraint or a "
            "label may use it).",
            "q.yaml:11: item y: relevant reads ${half}, which is calculated from the entries "
            "of the repeat r: inside an entry it is still empty (a constraint or a label may "
            "use it).",
        ],
        id="instance_reads_a_total_of_its_own_repeat",
    ),
    pytest.param(
        HEADER
        + """\
survey:
  - type: repeat
    name: r
    label: R
    children:
      - {type: integer, name: x, label: X}
      - {type: calculate, name: prev, calculation: "indexed-repeat(${x}, ${r}, position(..) - 1)"}
      - type: repeat
        name: s
        label: S
        children:
          - {type: integer, name: y, label: Y}
      - {type: calculate, name: own, calculation: "indexed-repeat(${y}, ${s}, 2)"}
""",
        [
            "q.yaml:10: item prev: calculation uses indexed-repeat() over the repeat r it is "
            "inside: there a name of the repeat reads this entry's own answer, so "
            "indexed-repeat() can only pick an entry from outside the repeat.",
        ],
        id="indexed_repeat_over_the_repeat_it_is_in",
    ),
]


def _check(directory: Path, text: str, name: str = "q.yaml") -> tuple[int, list[str]]:
    """Write ``text`` to ``name`` in ``directory`` and run the checker on it, as the CLI does."""
    (directory / name).write_text(text, encoding="utf-8")
    out = io.StringIO()
    status = run_check([name], out)
    return status, out.getvalue().splitlines()


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_definition_reports_its_problem_at_its_line_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, lines = _check(tmp_path, text)
    assert lines == expected
    assert status == 1


def test_broken_suite_has_at_least_twenty_definitions() -> None:
    assert len(BROKEN) >= 20


VALID = (
    HEADER
    + """\
choices:
  yn:
    - {name: "1", label: Tak}
    - {name: "2", label: Nie}
survey:
  - type: group
    name: a
    label: A
    children:
      - {type: select_one yn, name: a1, label: A1, required: yes}
      - {type: integer, name: a2, label: A2, relevant: "selected(${a1}, '1')"}
      - {type: calculate, name: a3, calculation: "${a2} * 2"}
"""
)


def test_valid_definition_prints_nothing_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _check(tmp_path, VALID) == (0, [])


def test_warnings_alone_are_printed_but_exit_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = VALID.replace("survey:", "  unused: [{name: x, label: X}]\nsurvey:")
    status, lines = _check(tmp_path, text)
    assert lines == ["q.yaml:8: warning: The choice list unused is not used by any item."]
    assert status == 0


def test_unknown_sample_variable_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = VALID.replace("label: A1,", "label: A1, relevant: \"${sample.typ} = 'CIS'\",")
    status, lines = _check(tmp_path, text)
    assert lines == [
        "q.yaml:13: item a1: warning: relevant uses ${sample.typ}, which samples do not have "
        "(known: entity_type, external_id, gmina, name, powiat, subregion)."
    ]
    assert status == 0


def test_one_definition_reports_all_of_its_problems_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = """\
settings:
  id: Zly
  title: {pl: Tytuł}
  languages: [pl, en]
choices:
  yn:
    - {name: "1", label: {pl: Tak, en: "Yes"}}
    - {name: "1", label: {pl: Nie, en: "No"}}
survey:
  - type: group
    name: a
    label: {pl: A, en: A}
    relevant: "${b1} = 1"
    children:
      - type: integer
        name: a1
        label: {pl: L, en: L}
        constraint: ". > ${a2}"
      - {type: select_one yn, name: a2, label: {pl: L, en: L}, relevant: "${a2} = '1'"}
      - {type: calculate, name: c1, calculation: "${c1} + 1"}
      - {type: interger, name: a3}
  - {type: group, name: b, label: {pl: B, en: B}, children: []}
"""
    status, lines = _check(tmp_path, text)
    assert lines == [
        "q.yaml:2: The id Zly is not valid: use lowercase letters, digits and _, "
        "starting with a letter.",
        "q.yaml:3: title has no text in en.",
        "q.yaml:8: The code 1 appears twice in list yn (first on line 7).",
        "q.yaml:13: item a: relevant refers to ${b1}, which is not in the questionnaire.",
        "q.yaml:18: item a1: constraint refers to ${a2}, which comes later in the questionnaire.",
        "q.yaml:19: item a2: relevant refers to the item itself.",
        "q.yaml:20: item c1: These calculations depend on each other in a circle: c1.",
        "q.yaml:21: item a3: Unknown type interger (did you mean integer?).",
        "q.yaml:22: item b: The group has no items.",
    ]
    assert status == 1


def test_exit_status_is_1_when_any_of_several_files_has_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(HEADER + "survey: []\n", encoding="utf-8")
    out = io.StringIO()
    assert run_check(["good.yaml", "bad.yaml"], out) == 1
    assert out.getvalue() == "bad.yaml:4: The survey has no items.\n"


def test_a_directory_is_checked_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "a.yml").write_text(VALID, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a definition", encoding="utf-8")
    results = check_paths([tmp_path])
    assert [r.questionnaire.source for r in results if r.questionnaire] == [
        str(tmp_path / "a.yml"),
        str(tmp_path / "b.yaml"),
    ]


def test_a_directory_without_definitions_is_an_error(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_check([tmp_path], out) == 1
    assert out.getvalue() == f"{tmp_path}: There is no .yaml, .yml or .xlsx file here.\n"


def test_a_missing_file_is_a_clean_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert run_check(["nowhere.yaml"], out) == 1
    assert out.getvalue() == "nowhere.yaml: The file cannot be read: No such file or directory.\n"


def test_an_unknown_kind_of_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, lines = _check(tmp_path, VALID, name="q.json")
    assert (status, lines) == (1, ["q.json: Unknown kind of file .json: use .yaml, .yml or .xlsx."])


def test_problems_render_in_the_readers_language(tmp_path: Path) -> None:
    polish = {
        "item %(name)s": "pytanie %(name)s",
        "Unknown type %(type)s (did you mean %(suggestion)s?).": (
            "Nieznany typ %(type)s (czy chodziło o %(suggestion)s?)."
        ),
    }
    text = HEADER + "survey:\n  - {type: interger, name: a, label: A}\n"
    result = load_definition(text.encode(), "q.yaml")
    out = io.StringIO()
    for problem in result.problems:
        print(problem.render(lambda msgid: polish.get(msgid, msgid)), file=out)
    assert (
        out.getvalue() == "q.yaml:5: pytanie a: Nieznany typ interger (czy chodziło o integer?).\n"
    )
    assert (
        str(result.problems[0])
        == "q.yaml:5: item a: Unknown type interger (did you mean integer?)."
    )


def test_a_workbook_problem_names_sheet_and_row(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["integer", "a", "A"])
    sheet.append(["osm", "where", "Where?"])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["geo", "Geo"])
    workbook.save(tmp_path / "geo.xlsx")
    out = io.StringIO()
    assert run_check([tmp_path / "geo.xlsx"], out) == 1
    assert out.getvalue() == (
        f"{tmp_path / 'geo.xlsx'}:survey:3: item where: The type osm is not supported.\n"
    )


def test_repeats_used_as_documented_check_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = (
        HEADER
        + """\
survey:
  - {type: integer, name: n, label: N}
  - type: repeat
    name: r
    label: "R (${n})"
    repeat_count: "${n}"
    instance_label: x
    children:
      - {type: integer, name: x, label: X, relevant: "${n} > 0"}
      - type: repeat
        name: s
        label: S
        children:
          - {type: integer, name: y, label: "Y of ${x}", constraint: ". > ${x}"}
          - {type: calculate, name: p, calculation: "position(..)"}
      - {type: calculate, name: t, calculation: "sum(${y})"}
  - {type: calculate, name: tot, calculation: "sum(${y}) + count(${r})"}
  - {type: calculate, name: pick, calculation: "indexed-repeat(${y}, ${r}, 1, ${s}, 2)"}
  - {type: note, name: nn, label: "Suma ${tot}: ${pick}"}
"""
    )
    assert _check(tmp_path, text) == (0, [])
