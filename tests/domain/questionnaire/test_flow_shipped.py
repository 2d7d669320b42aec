"""Walk each shipped questionnaire in ``surveys/`` along several answer paths.

A walker plays the respondent (or the interviewer): it asks the flow for the first page,
fills every question on it following a strategy, submits it, and moves to the next page
until there is none. Where a value is refused (a constraint such as "no more than the
total given before") it tries the strategy's next candidate, as a person would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.domain.questionnaire.answers import (
    DONT_KNOW,
    REFUSED,
    Missing,
    Variable,
    VariableKind,
    answers_from_json,
    answers_to_json,
)
from app.domain.questionnaire.fields import DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE
from app.domain.questionnaire.flow import PHONE, WEB, Flow, State
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Availability, Choice, ItemType
from tests.support import shipped_questionnaires

SURVEYS = Path(__file__).resolve().parents[3] / "surveys"
TODAY = date(2026, 3, 31)
SAMPLE = {"name": "Gmina Testowo", "entity_type": "CIS", "subregion": "poludniowy", "rok": 2025}
MAX_TRIES = 60

Candidates = Callable[[Flow, Variable], list[list[str]]]


def load(name: str) -> Flow:
    result = load_definition(SURVEYS / f"{name}.yaml")
    assert result.questionnaire is not None, [str(problem) for problem in result.problems]
    return Flow(result.questionnaire)


# -- strategies: what a respondent answers, in order of preference ---------------------


def _offered(flow: Flow, var: Variable) -> tuple[list[Choice], list[Choice]]:
    """The choices of ``var``'s list, split into ordinary ones and ``other`` ones.

    The whole list, not ``choices_for``: a choice_filter may depend on an answer given on
    the same page, so the flow itself must refuse the codes filtered out."""
    choice_list = flow.questionnaire.choice_list(var.item)
    offered = choice_list.choices if choice_list else ()
    return [c for c in offered if not c.other], [c for c in offered if c.other]


def _numbers(var: Variable, preferred: list[str]) -> list[list[str]]:
    fallbacks = ["0", "1", "5", "10", "100", "2025", "2026"]
    values = preferred + [value for value in fallbacks if value not in preferred]
    if var.value_type is ItemType.DECIMAL:
        values = [value.replace(".", ",") for value in values]
    return [[value] for value in values]


def generous(flow: Flow, var: Variable) -> list[list[str]]:
    """Say yes, tick things (the ``other`` choice too), give non-zero numbers."""
    kind = var.value_type
    if var.kind is VariableKind.OTHER:
        return [["Inna odpowiedź"]]
    if kind in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
        plain, other = _offered(flow, var)
        if kind is ItemType.SELECT_ONE:
            return [[c.name] for c in plain + other]
        first = [plain[0].name] if plain else []
        return [first + [c.name for c in other], first, *([c.name] for c in plain[1:])]
    if kind in (ItemType.INTEGER, ItemType.DECIMAL):
        return _numbers(var, ["5", "2", "1"])
    if kind is ItemType.DATE:
        return [["15.01.2026"], ["2025-06-30"]]
    return [["Odpowiedź testowa"]]


def sparse(flow: Flow, var: Variable) -> list[list[str]]:
    """Say no (the last ordinary choice), tick one thing, give zeros, skip what may be skipped."""
    kind = var.value_type
    if var.kind is VariableKind.OTHER:
        return [["Inna odpowiedź"]]
    if kind in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
        plain, other = _offered(flow, var)
        return [[c.name] for c in reversed(plain)] + [[c.name] for c in other]
    candidates = [[]]  # leave it empty unless it is required
    if kind in (ItemType.INTEGER, ItemType.DECIMAL):
        return candidates + _numbers(var, ["0"])
    if kind is ItemType.DATE:
        return [*candidates, ["15.01.2026"]]
    return [*candidates, ["Odpowiedź testowa"]]


def dont_know_heavy(flow: Flow, var: Variable) -> list[list[str]]:
    """Don't know wherever the interviewer may record it, refusal next, else generous."""
    return [[DONT_KNOW_FIELD_VALUE], [REFUSED_FIELD_VALUE], *generous(flow, var)]


def refusal_heavy(flow: Flow, var: Variable) -> list[list[str]]:
    """Refusal wherever allowed, else the sparse answers."""
    return [[REFUSED_FIELD_VALUE], *sparse(flow, var)]


# -- the walker -------------------------------------------------------------------------


@dataclass
class Walk:
    """What a walk through a questionnaire saw."""

    flow: Flow
    mode: str
    visited: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped(self) -> list[str]:
        return [page.id for page in self.flow.pages(self.mode) if page.id not in self.visited]

    def state(self) -> State:
        return self.flow.state(self.answers, sample=SAMPLE, today=TODAY)

    @property
    def clean(self) -> dict[str, Any]:
        return self.flow.clean_answers(self.state())


def walk(
    flow: Flow,
    mode: str,
    strategy: Candidates,
    fixed: dict[str, list[str]] | None = None,
    entries: int = 0,
) -> Walk:
    """Fill the questionnaire page by page with ``strategy`` until the flow ends; ``fixed``
    values are tried first (coupled numbers a per-field search would not find); an open
    list gets ``entries`` instances (at least its minimum, at most its maximum)."""
    seen = Walk(flow, mode)
    page = flow.next_page(seen.state(), mode, None)
    while page is not None:
        seen.visited.append(page.id)
        seen.answers = _submit(flow, page, mode, strategy, fixed or {}, seen, entries)
        page = flow.next_page(seen.state(), mode, page.id)
    return seen


def _submit(
    flow: Flow,
    page: Any,
    mode: str,
    strategy: Candidates,
    fixed: dict[str, list[str]],
    seen: Walk,
    entries: int,
) -> dict:
    """Submit ``page``, moving each refused field on to its next candidate; the instances
    of its lists are laid out again after each try (a count given on the same page)."""
    options: dict[str, list[list[str]]] = {}
    choice: dict[str, int] = {}
    answers = seen.answers
    for _ in range(MAX_TRIES):
        state = flow.state(
            _with_entries(flow, page.repeats, answers, entries), sample=SAMPLE, today=TODAY
        )
        fields, lists = _layout(flow, page.questions + page.repeats, state, "")
        for key, (scope, var) in fields.items():
            if key not in options:
                name = key.rsplit(".", 1)[-1]
                options[key] = ([fixed[name]] if name in fixed else []) + strategy(scope, var)
                choice[key] = 0
        form = {key: options[key][choice[key]] for key in fields} | lists
        result = flow.validate_page(page, form, seen.answers, mode=mode, sample=SAMPLE, today=TODAY)
        answers = result.apply(seen.answers)
        if result.ok:
            after = flow.state(answers, sample=SAMPLE, today=TODAY)
            if _layout(flow, page.questions + page.repeats, after, "")[1] == lists:
                return answers
        for key in result.errors:
            if key in fields:  # else an instance that the next try lays out
                assert choice[key] + 1 < len(options[key]), (page.id, key, result.errors[key])
                choice[key] += 1
    raise AssertionError(f"page {page.id} never validated")


def _with_entries(flow: Flow, repeats: Any, answers: Any, entries: int) -> dict[str, Any]:
    """``answers`` with every open list (nested ones too) holding ``entries`` instances."""
    shaped = dict(answers)
    for repeat in repeats:
        inner = flow.repeat_flows[repeat.name]
        nested = [item for item in inner.shown_items() if item.is_repeat]
        stored = answers.get(repeat.name)
        instances = list(stored) if isinstance(stored, tuple) else []
        if repeat.repeat_count is None:
            wanted = min(max(entries, repeat.repeat_min or 0), repeat.max_instances)
            instances = (instances + [{}] * wanted)[:wanted]
        shaped[repeat.name] = tuple(
            _with_entries(inner, nested, instance, entries) for instance in instances
        )
    return shaped


def _layout(
    flow: Flow, items: Any, state: State, prefix: str
) -> tuple[dict[str, tuple[Flow, Variable]], dict[str, list[str]]]:
    """The fields of ``items`` (each with its scope's flow) and the count and marker
    fields of their relevant lists, as the form sends them (``R``, ``R.2``, ``R.2.x``)."""
    fields: dict[str, tuple[Flow, Variable]] = {}
    lists: dict[str, list[str]] = {}
    for item in items:
        if item.read_only:
            continue
        if item.is_repeat:
            if not state.is_relevant(item.name):
                continue
            key, inner = prefix + item.name, flow.repeat_flows[item.name]
            instances = state.instances(item.name)
            lists[key] = [str(len(instances))]
            shown = [
                each for each in inner.shown_items() if each.type.is_question or each.is_repeat
            ]
            for number, instance in enumerate(instances, 1):
                lists[f"{key}.{number}"] = ["1"]
                more_fields, more_lists = _layout(inner, shown, instance, f"{key}.{number}.")
                fields.update(more_fields)
                lists.update(more_lists)
        elif item.type.is_question:
            fields.update({prefix + var.name: (flow, var) for var in flow.variables_of(item)})
    return fields, lists


def missing_allowed(flow: Flow, var: Variable, mode: str) -> Iterator[Missing]:
    """The non-answers the interviewer may record for ``var`` in ``mode``."""
    for missing, own, setting in (
        (DONT_KNOW, var.item.dont_know, flow.settings.dont_know),
        (REFUSED, var.item.refused, flow.settings.refused),
    ):
        availability = own or setting
        if availability is Availability.YES or (
            availability is Availability.PHONE and mode == PHONE
        ):
            yield missing


SURVEY_NAMES = [path.stem for path in shipped_questionnaires(SURVEYS)]
PATHS: dict[str, Candidates] = {
    "generous": generous,
    "sparse": sparse,
    "dont_know": dont_know_heavy,
    "refusal": refusal_heavy,
}
# How many entries each path gives an open list (its minimum when it asks for more).
LIST_ENTRIES = {"generous": 2, "sparse": 0, "dont_know": 2, "refusal": 0}
# Coupled numbers for the generous path ("parts cannot exceed the total"), tried first.
GENEROUS_NUMBERS = {
    "monitoring_cis_kis": {
        **{name: ["20"] for name in ("b1_k", "b1_m", "b2")},
        **{"b3": ["10"], "d1": ["5"], "d2": ["3"], "d3": ["4"], "d4": ["3"], "d5": ["2"]},
        **{"g1": ["250 000,00"], "g2": ["100000.5"], "g3": ["50 000"], "g4": ["20000"]},
        "g5": ["1234,56"],
    },
    "wtz": {
        **{"b1_k": ["12"], "b1_m": ["8"], "b2": ["9"], "b3": ["11"], "b5": ["10"]},
        **{"d1": ["3"], "d2": ["2"], "d3": ["1"], "d4": ["1"], "d5": ["2"]},
        **{"a3": ["25"], "g3": ["600 000,00"], "g4": ["540000"], "g5": ["60 000"]},
    },
    "zaz": {
        **{"b1": ["50"], "b2_k": ["20"], "b2_m": ["18"], "b3": ["25"], "b4": ["10"]},
        **{"c3": ["6"], "c4": ["2"], "c5": ["1"], "d1": ["100 000"], "f1": ["400000,00"]},
    },
}


@cache
def walked(name: str, mode: str, path: str) -> Walk:
    """The walk of survey ``name`` in ``mode`` along ``path`` (each walked once)."""
    fixed = GENEROUS_NUMBERS.get(name) if path in ("generous", "dont_know") else None
    return walk(load(name), mode, PATHS[path], fixed, LIST_ENTRIES[path])


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("mode", [WEB, PHONE])
@pytest.mark.parametrize("name", SURVEY_NAMES)
def test_shipped_questionnaire_walks_to_a_complete_response(
    name: str, mode: str, path: str
) -> None:
    seen = walked(name, mode, path)
    flow, current = seen.flow, seen.state()
    assert len(set(seen.visited)) == len(seen.visited)
    assert flow.is_complete(current)
    assert flow.resume_page(current, mode, seen.visited[-1]) is None
    assert flow.progress(current, mode, seen.visited[-1]) == 1.0
    clean = flow.clean_answers(current)
    assert all(current.is_relevant_variable(variable) for variable in clean)
    for variable, value in clean.items():
        if isinstance(value, Missing):
            assert value in missing_allowed(flow, flow.variables[variable], mode)
    q = flow.questionnaire
    assert answers_from_json(q, answers_to_json(q, seen.answers)) == seen.answers
    json.dumps(answers_to_json(q, clean))


def test_every_shipped_questionnaire_is_walked() -> None:
    assert SURVEY_NAMES == [
        "jst_gmina",
        "monitoring_cis_kis",
        "ocena_koordynacji",
        "ops_pcpr",
        "owes_polroczne",
        "pes",
        "pup",
        "wtz",
        "zaz",
    ]


SKIPPED = {
    # Phone: one question a screen, so every filtered-out question is a skipped screen.
    ("jst_gmina", PHONE, "generous"): "b6",
    # "No" to social clauses skips their details and asks about barriers (b6) instead.
    ("jst_gmina", PHONE, "sparse"): "b2 b3 b4 b5 c2 c3 c4 d2 e2 f3",
    # Don't know on a filter is neither yes nor no: both branches are skipped.
    ("jst_gmina", PHONE, "dont_know"): "b2 b3 b4 b5 b6 c2 c3 c4 d2 e2 f3",
    ("jst_gmina", PHONE, "refusal"): "b2 b3 b4 b5 b6 c2 c3 c4 d2 e2 f3",
    ("jst_gmina", WEB, "sparse"): "",
    ("monitoring_cis_kis", PHONE, "generous"): "",
    # No participants: the pages about them (c, d) are skipped, as is a5 (only for a CIS).
    # ... and with no cooperation, the forms of it (e2) and the list of partners.
    ("monitoring_cis_kis", PHONE, "sparse"): "a5 c d e2 partnerzy e4",
    ("monitoring_cis_kis", WEB, "sparse"): "c d",
    ("monitoring_cis_kis", PHONE, "dont_know"): "a5 e2 partnerzy e4",
    ("ocena_koordynacji", WEB, "generous"): "",
    ("ocena_koordynacji", WEB, "sparse"): "c",
    ("ocena_koordynacji", PHONE, "generous"): "c2 c3",
    ("ocena_koordynacji", PHONE, "sparse"): "c1 c2 c3",
    # No jobs created: no list of the enterprises that created them, nor its summary.
    ("owes_polroczne", PHONE, "sparse"): "przedsiebiorstwa pe_kompletna",
    # The first type, a gmina's OPS, gets no page of powiat tasks; the last, a PCPR, no
    # page of gmina tasks.
    ("ops_pcpr", WEB, "generous"): "c",
    ("ops_pcpr", WEB, "sparse"): "b",
    # No services commissioned from PES: their details are skipped, barriers (d6) asked.
    ("ops_pcpr", PHONE, "sparse"): "b d2 d3 d4 d5",
    ("ops_pcpr", PHONE, "dont_know"): "c d2 d3 d4 d5 d6",
    # The legal form opens its own page: a social cooperative's only, and none for a
    # workers' cooperative.
    ("pes", WEB, "generous"): "b_ngo b_spolka",
    ("pes", WEB, "sparse"): "b_spoldzielnia b_ngo b_spolka",
    ("pes", PHONE, "sparse"): "b_spoldzielnia b_ngo b_spolka e2 e3",
    ("pup", WEB, "sparse"): "",
    ("pup", PHONE, "sparse"): "d2 d3 e2 e6",
    # No participants: the pages about them are skipped.
    ("wtz", WEB, "sparse"): "c d",
    ("wtz", PHONE, "sparse"): "c d e2 e3 f_formy f2",
    ("wtz", PHONE, "generous"): "",
    ("zaz", PHONE, "sparse"): "d2 d_odbiorcy d4 e2",
}


@pytest.mark.parametrize(("case", "skipped"), SKIPPED.items(), ids=" ".join)
def test_shipped_path_skips_the_pages_its_answers_filter_out(
    case: tuple[str, str, str], skipped: str
) -> None:
    seen = walked(*case)
    assert seen.skipped == skipped.split()
    assert [p.id for p in seen.flow.pages(case[1]) if p.id in seen.visited] == seen.visited


def test_interviewer_dont_know_lands_on_every_question_that_allows_it() -> None:
    seen = walked("jst_gmina", PHONE, "dont_know")
    clean = seen.clean
    assert clean["b1"] is DONT_KNOW
    asked = [
        var.name
        for var in seen.flow.variables.values()
        if var.kind is not VariableKind.CALCULATION and seen.state().is_relevant_variable(var.name)
    ]
    assert all(clean[name] is DONT_KNOW for name in asked)
    assert DONT_KNOW.code(seen.flow.settings) == -98
    assert answers_to_json(seen.flow.questionnaire, clean)["b1"] == {"missing": "dont_know"}


def test_respondent_on_the_web_says_dont_know_only_where_the_item_allows_it() -> None:
    seen = walked("ocena_koordynacji", WEB, "dont_know")
    clean = seen.clean
    missing = {name for name, value in clean.items() if isinstance(value, Missing)}
    allowed = {
        name for name in clean if seen.flow.variables[name].item.dont_know is Availability.YES
    }
    assert "a2" in missing
    assert missing == allowed
    assert REFUSED not in clean.values()


def test_report_without_dont_know_gets_real_answers_even_by_phone() -> None:
    clean = walked("owes_polroczne", PHONE, "dont_know").clean
    assert not any(isinstance(value, Missing) for value in clean.values())


def test_changing_a_filter_answer_keeps_old_answers_out_of_the_result() -> None:
    seen = walked("jst_gmina", PHONE, "generous")
    flow = seen.flow
    before = seen.clean
    assert {"b2", "b3"} <= set(before)
    page = flow.page(PHONE, "b1")
    result = flow.validate_page(
        page, {"b1": ["2"]}, seen.answers, mode=PHONE, sample=SAMPLE, today=TODAY
    )
    answers = result.apply(seen.answers)
    assert answers["b2"] == seen.answers["b2"]
    current = flow.state(answers, sample=SAMPLE, today=TODAY)
    assert not {"b2", "b3", "b4", "b5"} & set(flow.clean_answers(current))
    assert flow.next_page(current, PHONE, "b1").id == "b6"
    restored = flow.state({**answers, "b1": "1"}, sample=SAMPLE, today=TODAY)
    assert flow.clean_answers(restored) == before


def test_calculations_of_the_monitoring_follow_the_answers() -> None:
    clean = walked("monitoring_cis_kis", WEB, "generous").clean
    assert clean["b1"] == 40
    assert clean["d_efekt"] == 5 + 4 + 3 + 2
    assert clean["d_wskaznik"] == 70
    assert clean["g1"] == Decimal("250000.00")


@pytest.mark.parametrize("mode", [WEB, PHONE])
def test_lists_of_the_shipped_questionnaires_are_filled_counted_and_summed(mode: str) -> None:
    monitoring = walked("monitoring_cis_kis", mode, "generous").clean
    assert [partner["partner_nazwa"] for partner in monitoring["partnerzy"]] == [
        "Odpowiedź testowa"
    ] * 2
    assert monitoring["e_partnerzy"] == 2
    owes = walked("owes_polroczne", mode, "generous").clean
    enterprises = owes["przedsiebiorstwa"]
    assert len(enterprises) == 2 and owes["pe_liczba"] == 2
    # the jobs of each enterprise: a nested list as long as the number it gave
    assert [len(each["pe_etaty"]) for each in enterprises] == [
        each["pe_miejsca"] for each in enterprises
    ]
    assert owes["pe_suma_miejsc"] == sum(each["pe_miejsca"] for each in enterprises)
    jobs = [job for each in enterprises for job in each["pe_etaty"]]
    assert owes["pe_suma_zagrozonych"] == sum(job["pe_zagrozona"] == "1" for job in jobs)
    # the list adds up to more jobs than part B gave: it cannot be called complete
    assert owes["pe_suma_miejsc"] != owes["b3"] and owes["pe_kompletna"] == "2"
    assert "przedsiebiorstwa" not in walked("owes_polroczne", mode, "sparse").clean


def test_gmina_offered_belongs_to_the_chosen_subregion() -> None:
    for path in PATHS:
        seen = walked("owes_polroczne", WEB, path)
        gminy = seen.flow.questionnaire.choices["gmina"]
        clean = seen.clean
        assert gminy.get(clean["a4"]).extra["subregion"] == clean["a1"]


def test_question_filtered_out_on_the_same_page_is_left_out() -> None:
    clean = walked("owes_polroczne", WEB, "sparse").clean
    assert clean["c1"] == 0
    assert "c2" not in clean
    generous_clean = walked("owes_polroczne", WEB, "generous").clean
    assert "c2" in generous_clean


def test_sample_name_is_filled_into_the_opening_note() -> None:
    seen = walked("jst_gmina", WEB, "generous")
    note = seen.flow.questionnaire.item("a_intro")
    assert "Gmina Testowo" in seen.flow.render_text(note.label, "pl", seen.state())
    assert "Gmina Testowo" in seen.flow.render_text(note.label, "en", seen.state())


def test_calculations_of_the_wtz_and_zaz_follow_the_answers() -> None:
    wtz = walked("wtz", WEB, "generous").clean
    assert wtz["b1"] == 20
    assert wtz["d_zatrudnienie"] == 3 + 2 + 1 + 1
    assert wtz["d_wskaznik"] == 35
    assert wtz["g_na_miejsce"] == 24000
    zaz = walked("zaz", WEB, "generous").clean
    assert zaz["b2"] == 38
    assert zaz["b_udzial"] == 76
    assert zaz["b_status"] == 70
    assert zaz["c_przejscia"] == 3
    assert zaz["f_pokrycie"] == 25


def test_parts_above_their_total_are_refused_in_the_new_questionnaires() -> None:
    cases = [
        ("wtz", "b", {"b1_k": ["3"], "b1_m": ["2"], "b2": ["4"], "b3": ["2"]}, "b3"),
        ("zaz", "b", {"b1": ["10"], "b2_k": ["6"], "b2_m": ["5"]}, "b2_m"),
        ("pes", "c", {"c1_k": ["2"], "c1_m": ["1"], "c3": ["2"], "c4": ["3"]}, "c4"),
        ("pup", "b", {"b1": ["100"], "b2": ["101"]}, "b2"),
    ]
    for name, page_id, fields, refused in cases:
        flow = load(name)
        page = flow.page(WEB, page_id)
        result = flow.validate_page(page, fields, {}, mode=WEB, sample=SAMPLE, today=TODAY)
        assert refused in result.errors, (name, result.errors)
        fitting = flow.validate_page(
            page, {**fields, refused: ["0"]}, {}, mode=WEB, sample=SAMPLE, today=TODAY
        )
        assert refused not in fitting.errors, (name, fitting.errors)


def test_the_legal_form_of_a_social_economy_entity_chooses_its_pages() -> None:
    flow = load("pes")

    def shown(answers: dict[str, Any]) -> list[str]:
        state = flow.state(answers, sample=SAMPLE, today=TODAY)
        return [p.id for p in flow.pages(WEB) if flow.is_shown(p, state, WEB)]

    assert shown({"a1": "fundacja", "b5": "obie"}) == ["a", "b_ngo", "c", "d", "e", "f"]
    # an organisation with unpaid activity only is asked nothing about income
    assert shown({"a1": "stowarzyszenie", "b5": "nieodplatna"}) == ["a", "b_ngo", "c", "e", "f"]
    assert shown({"a1": "spolka_np"}) == ["a", "b_spolka", "c", "d", "e", "f"]
    assert shown({"a1": "inna"}) == ["a", "c", "d", "e", "f"]
