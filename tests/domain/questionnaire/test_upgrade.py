"""Moving a fieldwork to a newer version with lists: a new optional list is allowed, a
list's entries are compared like questions, a count that stored entries may not fit is
refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.upgrade import VersionChanges, compare

SURVEYS = Path(__file__).resolve().parents[3] / "surveys"
LISTS = {
    "settings": {"id": "partnerzy_test", "title": "Partnerzy", "languages": ["pl"]},
    "choices": {"typ": [{"name": "ngo", "label": "NGO"}, {"name": "firma", "label": "Firma"}]},
    "survey": [
        {"type": "integer", "name": "liczba", "label": "Ilu partnerów?"},
        {
            "type": "repeat",
            "name": "partnerzy",
            "label": "Partner",
            "repeat_max": 5,
            "children": [
                {"type": "text", "name": "nazwa", "label": "Nazwa", "required": "yes"},
                {"type": "select_one typ", "name": "typ_partnera", "label": "Typ"},
                {
                    "type": "repeat",
                    "name": "etaty",
                    "label": "Etat",
                    "children": [{"type": "text", "name": "stanowisko", "label": "Stanowisko"}],
                },
            ],
        },
    ],
}


def _flow(document: dict[str, Any]) -> Flow:
    result = load_definition(yaml.safe_dump(document, allow_unicode=True).encode(), "q.yaml")
    assert result.questionnaire is not None, [str(problem) for problem in result.problems]
    return Flow(result.questionnaire)


def _changed(change: Any) -> VersionChanges:
    """Compare the list questionnaire with a copy that ``change`` altered."""
    new = yaml.safe_load(yaml.safe_dump(LISTS))
    change(new["survey"], new["choices"])
    return compare(_flow(LISTS), _flow(new))


def _refusals(changes: VersionChanges) -> list[str]:
    return [message.msgid % message.params for message in changes.refused]


def _without(items: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The items without the one called ``name`` (looked for inside groups too)."""
    kept = []
    for item in items:
        if item.get("name") == name:
            continue
        if "children" in item and item["type"] == "group":
            item = {**item, "children": _without(item["children"], name)}
        kept.append(item)
    return kept


@pytest.mark.parametrize(
    ("survey", "items", "lists"),
    [
        # the list, and what is computed from it
        ("monitoring_cis_kis", ["partnerzy", "e_partnerzy"], ["partnerzy"]),
        ("owes_polroczne", ["przedsiebiorstwa", "b_podsumowanie"], ["przedsiebiorstwa"]),
    ],
)
def test_the_shipped_lists_are_an_allowed_upgrade_of_the_versions_without_them(
    survey: str, items: list[str], lists: list[str]
) -> None:
    current = yaml.safe_load((SURVEYS / f"{survey}.yaml").read_text(encoding="utf-8"))
    earlier = dict(current)
    for name in items:
        earlier["survey"] = _without(earlier["survey"], name)
    changes = compare(_flow(earlier), _flow(current))
    assert changes.ok, _refusals(changes)
    assert set(lists) <= set(changes.added)


def test_a_new_optional_list_is_allowed_and_one_that_needs_entries_is_not() -> None:
    optional = {"type": "repeat", "name": "nowa", "label": "Nowa",
                "children": [{"type": "text", "name": "opis", "label": "Opis",
                              "required": "yes"}]}  # fmt: skip
    changes = _changed(lambda survey, _: survey.append(optional))
    assert changes.ok and changes.added == ["nowa"]
    at_least_one = {**optional, "repeat_min": 1}
    assert _refusals(_changed(lambda survey, _: survey.append(at_least_one))) == [
        "nowa: a new required question (complete responses lack it)."
    ]
    fixed = {**optional, "repeat_count": "${liczba}"}
    assert not _changed(lambda survey, _: survey.append(fixed)).ok


def test_the_children_of_a_list_are_compared_like_questions() -> None:
    def change(survey: list[dict[str, Any]], choices: dict[str, Any]) -> None:
        partners = survey[1]["children"]
        partners[0]["label"] = "Pełna nazwa"  # a text
        partners.append({"type": "integer", "name": "miejsca", "label": "Miejsca"})  # optional
        partners[2]["children"].append(
            {"type": "text", "name": "wymiar", "label": "Wymiar", "required": "yes"}
        )
        choices["typ"] = [{"name": "ngo", "label": "NGO"}, {"name": "jst", "label": "JST"}]

    changes = _changed(change)
    assert changes.texts == ["partnerzy.nazwa", "partnerzy.typ_partnera"]
    assert changes.added == ["partnerzy.miejsca"]
    assert changes.new_choices == ["partnerzy.typ_partnera: jst"]
    assert _refusals(changes) == [
        "partnerzy.typ_partnera: answer codes removed: firma.",
        "partnerzy.etaty.wymiar: a new required question (complete responses lack it).",
    ]


def test_a_removed_child_is_removed_and_a_changed_type_refused() -> None:
    def change(survey: list[dict[str, Any]], _: Any) -> None:
        partners = survey[1]["children"]
        partners[0]["type"] = "textarea"
        partners[2]["children"] = [{"type": "text", "name": "etat", "label": "Etat"}]

    changes = _changed(change)
    assert changes.removed == ["partnerzy.etaty.stanowisko"]
    assert changes.added == ["partnerzy.etaty.etat"]
    assert _refusals(changes) == ["partnerzy.nazwa: the type changed from text to textarea."]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"repeat_min": 2}, "partnerzy: the list now needs at least 2 entries."),
        ({"repeat_max": 3}, "partnerzy: the list now holds at most 3 entries."),
        (
            {"repeat_max": None, "repeat_count": 2},
            "partnerzy: the list's count changed between fixed and open.",
        ),
    ],
)
def test_a_count_that_stored_entries_may_not_fit_is_refused(
    change: dict[str, Any], refusal: str
) -> None:
    assert _refusals(_changed(lambda survey, _: _set(survey[1], change))) == [refusal]


@pytest.mark.parametrize("change", [{"repeat_max": 10}, {"repeat_max": None}])
def test_a_larger_maximum_is_allowed(change: dict[str, Any]) -> None:
    changes = _changed(lambda survey, _: _set(survey[1], change))
    assert changes.ok and changes.added == changes.removed == []


def _set(item: dict[str, Any], change: dict[str, Any]) -> None:
    """Set the keys of ``change`` on ``item``; None removes a key."""
    for key, value in change.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value


def test_answers_to_a_removed_question_are_found_in_the_entries_of_a_list() -> None:
    def change(survey: list[dict[str, Any]], _: Any) -> None:
        survey[1]["children"][2]["children"].append(
            {"type": "text", "name": "wymiar", "label": "Wymiar"}
        )
        survey[1]["children"][2]["children"].pop(0)  # stanowisko

    changes = _changed(change)
    assert changes.ok and changes.removed == ["partnerzy.etaty.stanowisko"]
    holding = {"partnerzy": [{"nazwa": "A"}, {"nazwa": "B", "etaty": [{"stanowisko": "x"}]}]}
    assert changes.holds_removed(holding)
    assert not changes.holds_removed({"partnerzy": [{"nazwa": "A", "etaty": [{}]}]})
    assert not changes.holds_removed({"liczba": 3})
    assert not changes.holds_removed(None)
