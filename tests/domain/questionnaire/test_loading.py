"""Loading YAML definitions: what the model gets, YAML's typing traps, and hostile files."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.questionnaire.expressions import Context, Expression
from app.domain.questionnaire.loading import MAX_DEFINITION_BYTES, load_definition
from app.domain.questionnaire.model import Availability, ItemType

EXAMPLE = """\
settings:
  id: monitoring_cis_kis
  title: {pl: "Monitoring CIS/KIS", en: "CIS/KIS monitoring"}
  version: 2026.1
  languages: [pl, en]
  paging: item
  dont_know: yes
  refused: no
  dont_know_code: -8
  refused_code: -9
choices:
  tak_nie:
    - {name: 1, label: {pl: Tak, en: Yes}}
    - {name: 2, label: {pl: Nie, en: No}}
  forma:
    - {name: spoldzielnia, label: {pl: Spółdzielnia socjalna, en: Social cooperative}}
    - {name: inna, label: {pl: "Inna (jaka?)", en: "Other (what?)"}, other: yes}
  gmina:
    - {name: 0201011, label: {pl: Bolesławiec, en: Bolesławiec}, subregion: zachodni}
  skala:
    - {name: "1", label: {pl: Źle, en: Bad}}
    - {name: "2", label: {pl: Dobrze, en: Good}}
survey:
  - type: group
    name: a
    label: {pl: A. Uczestnicy, en: A. Participants}
    relevant: "${sample.entity_type} = 'CIS'"
    appearance: field-list
    children:
      - type: integer
        name: a1
        label: {pl: Liczba uczestników, en: Number of participants}
        required: yes
        constraint: ". >= 0"
        interviewer_note: {pl: Zapytaj o szacunek., en: Ask for an estimate.}
        dont_know: no
        refused: phone
      - {type: select_one tak_nie, name: a2, label: {pl: "Czy?", en: "Whether?"}, default: 1}
      - type: select_multiple forma
        name: a3
        label: {pl: Formy, en: Forms}
        relevant: "${a2} = '1'"
        constraint: "count-selected(.) <= 3"
      - type: matrix skala
        name: ocena
        label: {pl: Ocena, en: Rating}
        rows:
          - {name: wspolpraca, label: {pl: Współpraca, en: Cooperation}}
          - {name: finanse, label: {pl: Finanse, en: Finances}}
      - {type: calculate, name: razem, calculation: "${a1} * 2"}
  - type: group
    name: b
    label: {pl: B, en: B}
    children:
      - type: select_one gmina
        name: gm
        label: {pl: Gmina, en: Municipality}
        choice_filter: "subregion = 'zachodni'"
      - {type: textarea, name: uwagi, label: {pl: Uwagi, en: Remarks}, read_only: no}
"""


def _load(text: str, name: str = "q.yaml"):  # noqa: ANN202 - a LoadResult
    return load_definition(text.encode(), name)


def test_example_definition_loads_without_problems() -> None:
    result = _load(EXAMPLE)
    assert result.problems == []
    assert result.ok and result.questionnaire is not None


def test_settings_are_read_with_yaml_booleans_as_availability() -> None:
    settings_ = _load(EXAMPLE).questionnaire.settings
    assert settings_.id == "monitoring_cis_kis"
    assert settings_.title.get("en") == "CIS/KIS monitoring"
    assert settings_.version == "2026.1"  # as written, not the float 2026.1
    assert (settings_.default_language, settings_.languages) == ("pl", ("pl", "en"))
    assert settings_.paging == "item"
    assert (settings_.dont_know, settings_.refused) == (Availability.YES, Availability.NO)
    assert (settings_.dont_know_code, settings_.refused_code) == (-8, -9)


def test_choice_codes_are_strings_exactly_as_written() -> None:
    choices = _load(EXAMPLE).questionnaire.choices
    assert choices["tak_nie"].codes == ("1", "2")
    assert choices["tak_nie"].get("1").label.get("en") == "Yes"  # YAML's boolean, as written
    assert choices["gmina"].codes == ("0201011",)  # not the octal number YAML 1.1 reads
    assert choices["gmina"].choices[0].extra == {"subregion": "zachodni"}
    assert choices["forma"].get("inna").other is True


def test_items_are_compiled_with_parents_and_parsed_expressions() -> None:
    questionnaire = _load(EXAMPLE).questionnaire
    a1 = questionnaire.item("a1")
    assert a1.type is ItemType.INTEGER and a1.required is True
    assert a1.parent is questionnaire.item("a")
    assert isinstance(a1.constraint, Expression)
    assert a1.constraint.evaluate_bool(Context(current=5))
    assert (a1.dont_know, a1.refused) == (Availability.NO, Availability.PHONE)
    assert a1.interviewer_note.get("en") == "Ask for an estimate."
    assert questionnaire.item("a").relevant.sample_references == {"entity_type"}
    assert questionnaire.item("a2").default == "1"
    assert questionnaire.item("a3").list_name == "forma"
    assert questionnaire.item("razem").calculation.references == {"a1"}
    assert questionnaire.item("gm").choice_filter.column_references == {"subregion"}
    assert questionnaire.item("uwagi").read_only is False


def test_matrix_rows_become_variables() -> None:
    ocena = _load(EXAMPLE).questionnaire.item("ocena")
    assert [row.name for row in ocena.rows] == ["wspolpraca", "finanse"]
    assert ocena.variable_names() == ["ocena_wspolpraca", "ocena_finanse"]


def test_locations_point_at_lines() -> None:
    questionnaire = _load(EXAMPLE, "surveys/cis.yaml").questionnaire
    assert str(questionnaire.item("a1").location) == "surveys/cis.yaml:30"
    assert questionnaire.source == "surveys/cis.yaml"


def test_required_may_be_an_expression() -> None:
    text = EXAMPLE.replace("required: yes", "required: \"${sample.gmina} != ''\"")
    required = _load(text).questionnaire.item("a1").required
    assert isinstance(required, Expression) and required.sample_references == {"gmina"}


def test_a_path_is_read_and_named_as_given(tmp_path: Path) -> None:
    path = tmp_path / "cis.yml"
    path.write_text(EXAMPLE, encoding="utf-8")
    result = load_definition(path)
    assert result.questionnaire is not None and result.questionnaire.source == str(path)


def test_a_file_too_large_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_DEFINITION_BYTES + 10))
    assert [str(p) for p in load_definition(path).problems] == [
        f"{path}: The file is larger than 10 MB."
    ]


def test_an_empty_file_is_one_problem() -> None:
    assert [str(p) for p in _load("").problems] == ["q.yaml: The file is empty."]


def test_a_document_that_is_not_a_mapping_is_one_problem() -> None:
    assert [str(p) for p in _load("- a\n- b\n").problems] == [
        "q.yaml: A definition is a mapping with settings, choices and survey."
    ]


def test_deep_nesting_is_a_clean_problem() -> None:
    problems = [str(p) for p in _load("survey: " + "[" * 5000 + "]" * 5000).problems]
    assert problems == ["q.yaml: The file is nested too deeply."]


def test_an_impossible_date_is_a_clean_problem() -> None:
    text = EXAMPLE.replace("version: 2026.1", "version: 2026-02-30")
    assert [str(p) for p in _load(text).problems] == [
        "q.yaml: A value cannot be read: day is out of range for month."
    ]


def test_bytes_that_are_not_text_are_a_clean_problem() -> None:
    result = load_definition(b"survey: \xff\xfe\xfa", "q.yaml")
    assert len(result.problems) == 1
    assert str(result.problems[0]).startswith("q.yaml: The file is not UTF-8 text: ")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=500))
def test_random_bytes_as_yaml_never_raise(data: bytes) -> None:
    result = load_definition(data, "random.yaml")
    assert result.questionnaire is None
    assert result.errors


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}[]:-,'\"!&*?|>#\n abcyesno01.$", max_size=200))
def test_random_yaml_like_text_never_raises(text: str) -> None:
    result = load_definition(text.encode(), "random.yaml")
    assert result.questionnaire is None
    assert result.errors


def test_the_documented_example_is_a_valid_definition() -> None:
    guide = Path(__file__).parents[3] / "docs" / "questionnaires.md"
    example = guide.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    result = load_definition(example.encode(), "example.yaml")
    assert result.problems == []
    assert result.questionnaire is not None


# --- libyaml -----------------------------------------------------------------------------

BROKEN_IN_PLACES = EXAMPLE.replace(
    "  paging: item\n", "  paging: item\n  paging: page\n  relevnat: 1\n"
).replace("    name: a\n", "    name: a\n    name: b\n")


def test_libyaml_parses_where_installed_with_the_same_problems_and_lines(monkeypatch) -> None:
    import yaml

    from app.domain.questionnaire import yaml_reader

    assert yaml.__with_libyaml__  # PyYAML's wheels ship it: the fast path is what runs here
    assert yaml_reader._LocatingLoader.__name__ == "_CLocatingLoader"
    with_libyaml = [str(p) for p in _load(BROKEN_IN_PLACES).problems]
    example = _load(EXAMPLE).questionnaire
    monkeypatch.setattr(yaml_reader, "_LocatingLoader", yaml_reader._PythonLocatingLoader)
    pure_python = [str(p) for p in _load(BROKEN_IN_PLACES).problems]
    assert with_libyaml == pure_python
    assert any(line.startswith("q.yaml:7: ") and "paging" in line for line in with_libyaml)
    assert any("relevnat" in line and line.startswith("q.yaml:8: ") for line in with_libyaml)
    assert _load(EXAMPLE).questionnaire == example  # the same questionnaire either way


def test_a_syntax_error_found_by_libyaml_keeps_the_usual_message() -> None:
    # libyaml words this "did not find expected '-' indicator"; the file is read again by
    # the pure-Python parser for the message Ankieta has always given, at the same line
    problems = [str(p) for p in _load("survey:\n  - a\n b: c\n").problems]
    assert problems == [
        "q.yaml:3: YAML syntax error: expected <block end>, but found '<block mapping start>'."
    ]


PARADATA = """\
settings:
  id: wizyty
  title: Wizyty
  paradata: {PARADATA}
survey:
  - {type: integer, name: liczba, label: Liczba}
"""


def test_paradata_names_what_the_system_records_for_each_response() -> None:
    text = PARADATA.replace("{PARADATA}", "{poczatek: start, koniec: end, kto: username}")
    result = load_definition(text.encode(), "wizyty.yaml")
    assert result.problems == []
    assert result.questionnaire is not None
    assert result.questionnaire.settings.paradata == (
        ("poczatek", "start"), ("koniec", "end"), ("kto", "username")
    )  # fmt: skip


def test_paradata_of_an_unknown_kind_or_an_items_name_is_refused() -> None:
    text = PARADATA.replace("{PARADATA}", "{liczba: start, gdzie: geopoint, 1x: end}")
    result = load_definition(text.encode(), "wizyty.yaml")
    assert [str(problem) for problem in result.problems] == [
        "wizyty.yaml:4: paradata gdzie must be a name given one of start, end, today, username.",
        "wizyty.yaml:4: paradata 1x must be a name given one of start, end, today, username.",
        "wizyty.yaml:4: paradata liczba has the name of an item.",
    ]
    listed = load_definition(PARADATA.replace("{PARADATA}", "[start]").encode(), "w.yaml")
    assert [str(problem) for problem in listed.problems] == [
        "w.yaml:4: paradata must be a mapping of column names to one of start, end, today, "
        "username."
    ]
