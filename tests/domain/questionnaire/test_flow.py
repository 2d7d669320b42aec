"""The interview flow: values, validation, relevance, calculations, pages and storage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.domain.messages import Message
from app.domain.questionnaire.answers import (
    ASIDE_KEY,
    DONT_KNOW,
    REFUSED,
    Missing,
    answers_from_json,
    answers_to_json,
)
from app.domain.questionnaire.expressions import parse
from app.domain.questionnaire.fields import DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE
from app.domain.questionnaire.flow import PHONE, REQUIRED, WEB, Flow, PageResult
from app.domain.questionnaire.model import (
    Availability,
    Choice,
    ChoiceList,
    Item,
    ItemType,
    MatrixRow,
    Questionnaire,
    Settings,
    Text,
)

TODAY = date(2026, 3, 31)
EXPRESSION_KEYS = ("relevant", "constraint", "calculation", "choice_filter")


# -- building questionnaires by hand ---------------------------------------------------


def text(value: str, en: str | None = None) -> Text:
    return Text({"pl": value, **({"en": en} if en else {})})


def item(kind: str, name: str, *children: Item, **keys: Any) -> Item:
    """An item; ``kind`` may be 'select_one LIST'; string expressions are parsed."""
    type_name, _, list_name = kind.partition(" ")
    for key in EXPRESSION_KEYS:
        if isinstance(keys.get(key), str):
            keys[key] = parse(keys[key], key)
    if isinstance(keys.get("required"), str):
        keys["required"] = parse(keys["required"], "required")
    for key in ("label", "hint", "constraint_message", "required_message"):
        if isinstance(keys.get(key), str):
            keys[key] = text(keys[key])
    keys.setdefault("label", None if type_name == "calculate" else text(name))
    made = Item(ItemType(type_name), name, list_name=list_name or None, **keys)
    made.children = list(children)
    for child in children:
        child.parent = made
    return made


def choices(name: str, *codes: str, other: str | None = None, **extra: dict) -> ChoiceList:
    return ChoiceList(
        name,
        tuple(
            Choice(code, text(f"L{code}"), other=code == other, extra=extra.get(f"c{code}", {}))
            for code in codes
        ),
    )


YES_NO = choices("yn", "1", "2")


def questionnaire(*items: Item, lists: tuple[ChoiceList, ...] = (YES_NO,), **settings) -> Flow:
    return Flow(
        Questionnaire(
            Settings(id="t", title=text("T"), **settings),
            {choice_list.name: choice_list for choice_list in lists},
            list(items),
        )
    )


def submit(
    flow: Flow,
    form: dict[str, Any],
    answers: dict[str, Any] | None = None,
    *,
    mode: str = WEB,
    page: str | None = None,
    sample: dict[str, Any] | None = None,
) -> PageResult:
    """Submit ``form`` (a value or a list per field) for a page (default: the first one)."""
    target = flow.page(mode, page) if page else flow.pages(mode)[0]
    fields = {name: value if isinstance(value, list) else [value] for name, value in form.items()}
    return flow.validate_page(
        target, fields, answers or {}, mode=mode, sample=sample or {}, today=TODAY
    )


def state(flow: Flow, answers: dict[str, Any], sample: dict[str, Any] | None = None):
    return flow.state(answers, sample=sample or {}, today=TODAY)


def msgid(problem: Any) -> str:
    return problem.msgid if isinstance(problem, Message) else problem.get("pl")


# -- parsing submitted values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("integer", "12", 12),
        ("integer", " 1 234 ", 1234),
        ("integer", "1\u00a0234\u00a0567", 1234567),
        ("integer", "-5", -5),
        ("integer", "\u22125", -5),
        ("integer", "9007199254740992", 2**53),
        ("decimal", "12,5", Decimal("12.5")),
        ("decimal", "12.5", Decimal("12.5")),
        ("decimal", "1 234,50", Decimal("1234.50")),
        ("decimal", "-0,25", Decimal("-0.25")),
        ("decimal", ",5", Decimal("0.5")),
        ("decimal", "10", Decimal("10")),
        ("decimal", "12,50", Decimal("12.50")),
        ("date", "2026-03-31", date(2026, 3, 31)),
        ("date", "31.03.2026", date(2026, 3, 31)),
        ("date", "1.3.2026", date(2026, 3, 1)),
        ("text", "  Ala ma kota  ", "Ala ma kota"),
        ("text", "a\x00b", "ab"),
        ("text", "\x00", None),
        ("textarea", "line 1\r\nline 2", "line 1\nline 2"),
        ("text", "x" * 10_000, "x" * 10_000),
        ("select_one yn", "2", "2"),
    ],
)
def test_submitted_value_is_parsed_to_its_python_type(kind: str, raw: str, expected: Any) -> None:
    flow = questionnaire(item(kind, "q"))
    result = submit(flow, {"q": raw})
    assert result.errors == {}
    assert result.values == {"q": expected}
    assert type(result.values["q"]) is type(expected)
    assert str(result.values["q"]) == str(expected)  # no "1E+1" for a typed "10"


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("integer", "1.5", "Enter a whole number."),
        ("integer", "abc", "Enter a whole number."),
        ("integer", "1 23", "Enter a whole number."),
        ("integer", "\u0661\u0662", "Enter a whole number."),
        ("integer", "9007199254740993", "The number is too large."),
        ("integer", "-9007199254740993", "The number is too large."),
        ("integer", "9" * 5000, "The number is too large."),
        ("decimal", "1,234.5", "Enter a number."),
        ("decimal", "abc", "Enter a number."),
        ("decimal", "1e5", "Enter a number."),
        ("decimal", "NaN", "Enter a number."),
        ("decimal", "-", "Enter a number."),
        ("decimal", "1" * 16, "The number is too large."),
        ("decimal", "0," + "1" * 11, "Use at most %(places)d decimal places."),
        ("date", "31.02.2026", "Enter a date as DD.MM.YYYY."),
        ("date", "2026/03/31", "Enter a date as DD.MM.YYYY."),
        ("date", "jutro", "Enter a date as DD.MM.YYYY."),
        ("date", "01.01.0001", "Enter a date between %(earliest)s and %(latest)s."),
        ("date", "0001-01-01", "Enter a date between %(earliest)s and %(latest)s."),
        ("date", "31.12.1899", "Enter a date between %(earliest)s and %(latest)s."),
        ("date", "9999-12-31", "Enter a date between %(earliest)s and %(latest)s."),
        ("text", "x" * 10_001, "The text is too long: at most %(max)d characters."),
        ("select_one yn", "3", "Choose one of the listed answers."),
        ("select_multiple yn", ["1", "9"], "Choose one of the listed answers."),
        ("select_one yn", ["1", "2"], "Give only one answer."),
        ("integer", ["1", "2"], "Give only one answer."),
    ],
)
def test_malformed_value_is_refused_with_a_message(kind: str, raw: Any, message: str) -> None:
    flow = questionnaire(item(kind, "q"))
    result = submit(flow, {"q": raw})
    assert msgid(result.errors["q"]) == message
    assert "q" not in result.values


def test_empty_values_beside_a_real_one_are_ignored() -> None:
    flow = questionnaire(item("text", "q"))
    assert submit(flow, {"q": ["", "abc", " "]}).values == {"q": "abc"}


def test_select_multiple_drops_repeats_and_keeps_list_order() -> None:
    flow = questionnaire(item("select_multiple abc", "q"), lists=(choices("abc", "a", "b", "c"),))
    assert submit(flow, {"q": ["c", "a", "c"]}).values == {"q": ("a", "c")}


def test_empty_field_clears_an_optional_answer() -> None:
    flow = questionnaire(item("text", "q"))
    result = submit(flow, {"q": "   "}, {"q": "old"})
    assert result.values == {"q": None}
    assert result.apply({"q": "old", "x": 1}) == {"x": 1}


def test_other_text_is_capped_shorter_than_a_text_answer() -> None:
    flow = questionnaire(item("select_one f", "q"), lists=(choices("f", "a", "x", other="x"),))
    result = submit(flow, {"q": "x", "q_other": "y" * 256})
    assert msgid(result.errors["q_other"]) == "The text is too long: at most %(max)d characters."


# -- required, constraint, other, matrix ---------------------------------------------------


def test_required_question_left_empty_gets_the_required_message() -> None:
    flow = questionnaire(item("integer", "q", required=True))
    assert submit(flow, {"q": ""}).errors == {"q": REQUIRED}


def test_required_message_of_the_definition_replaces_the_default() -> None:
    flow = questionnaire(item("integer", "q", required=True, required_message="Podaj liczbę"))
    assert msgid(submit(flow, {}).errors["q"]) == "Podaj liczbę"


@pytest.mark.parametrize(("a", "errors"), [("1", {"b": REQUIRED}), ("2", {})])
def test_required_may_be_an_expression(a: str, errors: dict) -> None:
    flow = questionnaire(item("select_one yn", "a"), item("text", "b", required="${a} = '1'"))
    assert submit(flow, {"a": a}).errors == errors


@pytest.mark.parametrize(
    ("raw", "ok"), [("10", True), ("0", True), ("-1", False), ("10001", False), ("", True)]
)
def test_constraint_is_checked_on_the_parsed_value_and_skipped_when_empty(
    raw: str, ok: bool
) -> None:
    flow = questionnaire(
        item("integer", "q", constraint=". >= 0 and . <= 10000", constraint_message="0-10000")
    )
    errors = submit(flow, {"q": raw}).errors
    assert errors == ({} if ok else {"q": text("0-10000")})


def test_constraint_without_message_gets_a_generic_one() -> None:
    flow = questionnaire(item("decimal", "q", constraint=". > 1.5"))
    assert msgid(submit(flow, {"q": "1,5"}).errors["q"]) == "This answer is not allowed."
    assert submit(flow, {"q": "1,6"}).errors == {}


def test_constraint_may_refer_to_an_earlier_answer_on_the_same_page() -> None:
    flow = questionnaire(item("integer", "all"), item("integer", "part", constraint=". <= ${all}"))
    assert "part" in submit(flow, {"all": "5", "part": "6"}).errors
    assert submit(flow, {"all": "5", "part": "5"}).errors == {}


def test_count_selected_constraint_on_select_multiple() -> None:
    flow = questionnaire(
        item("select_multiple abc", "q", constraint="count-selected(.) <= 2"),
        lists=(choices("abc", "a", "b", "c"),),
    )
    assert submit(flow, {"q": ["a", "b"]}).errors == {}
    assert "q" in submit(flow, {"q": ["a", "b", "c"]}).errors


def test_date_constraint_against_injected_today() -> None:
    flow = questionnaire(item("date", "d", constraint=". <= today()"))
    assert submit(flow, {"d": "31.03.2026"}).errors == {}
    assert "d" in submit(flow, {"d": "01.04.2026"}).errors


@pytest.mark.parametrize("kind", ["select_one f", "select_multiple f"])
def test_other_choice_requires_its_text(kind: str) -> None:
    flow = questionnaire(item(kind, "q"), lists=(choices("f", "a", "x", other="x"),))
    result = submit(flow, {"q": "x", "q_other": ""})
    assert msgid(result.errors["q_other"]) == "Say what the other answer is."
    ok = submit(flow, {"q": "x", "q_other": " Fundacja "})
    assert ok.errors == {}
    assert ok.values["q_other"] == "Fundacja"


def test_other_text_without_the_other_choice_is_not_stored() -> None:
    flow = questionnaire(item("select_one f", "q"), lists=(choices("f", "a", "x", other="x"),))
    result = submit(flow, {"q": "a", "q_other": "stale"}, {"q_other": "kept"})
    assert result.errors == {}
    assert result.values == {"q": "a"}
    assert result.ignored_fields == ["q_other"]
    assert result.unknown_fields == []
    assert flow.clean_answers(state(flow, result.apply({"q_other": "kept"}))) == {"q": "a"}


def matrix_flow(**keys: Any) -> Flow:
    rows = (MatrixRow("w", text("W")), MatrixRow("f", text("F")))
    return questionnaire(
        item("matrix likert", "m", rows=rows, **keys), lists=(choices("likert", "1", "2", "3"),)
    )


def test_matrix_stores_each_row_as_its_own_select_one() -> None:
    result = submit(matrix_flow(), {"m_w": "1", "m_f": "3"})
    assert result.errors == {}
    assert result.values == {"m_w": "1", "m_f": "3"}


def test_matrix_required_applies_to_every_row() -> None:
    result = submit(matrix_flow(required=True), {"m_w": "1"})
    assert result.errors == {"m_f": REQUIRED}
    assert result.values == {"m_w": "1"}


def test_matrix_row_with_unknown_code_is_refused() -> None:
    assert msgid(submit(matrix_flow(), {"m_w": "7"}).errors["m_w"]) == (
        "Choose one of the listed answers."
    )


def test_matrix_row_constraint_uses_the_row_value_as_dot() -> None:
    result = submit(matrix_flow(constraint=". != '2'"), {"m_w": "2", "m_f": "1"})
    assert set(result.errors) == {"m_w"}


# -- don't know and refused ---------------------------------------------------------------

DK_CASES = [
    # (settings dont_know, item dont_know, mode, allowed)
    (Availability.PHONE, None, PHONE, True),
    (Availability.PHONE, None, WEB, False),
    (Availability.YES, None, WEB, True),
    (Availability.NO, None, PHONE, False),
    (Availability.PHONE, Availability.YES, WEB, True),
    (Availability.YES, Availability.NO, PHONE, False),
    (Availability.NO, Availability.PHONE, PHONE, True),
]


@pytest.mark.parametrize(("setting", "override", "mode", "allowed"), DK_CASES)
def test_dont_know_is_allowed_per_item_settings_and_mode(
    setting: Availability, override: Availability | None, mode: str, allowed: bool
) -> None:
    flow = questionnaire(item("integer", "q", required=True, dont_know=override), dont_know=setting)
    result = submit(flow, {"q": DONT_KNOW_FIELD_VALUE}, mode=mode)
    if allowed:
        assert result.errors == {}
        assert result.values == {"q": DONT_KNOW}
    else:
        assert msgid(result.errors["q"]) == "Don't know is not allowed for this question."


@pytest.mark.parametrize(("setting", "override", "mode", "allowed"), DK_CASES)
def test_refused_is_allowed_per_item_settings_and_mode(
    setting: Availability, override: Availability | None, mode: str, allowed: bool
) -> None:
    flow = questionnaire(item("select_one yn", "q", refused=override), refused=setting)
    result = submit(flow, {"q": REFUSED_FIELD_VALUE}, mode=mode)
    if allowed:
        assert result.values == {"q": REFUSED}
    else:
        assert msgid(result.errors["q"]) == "Refusal is not allowed for this question."


def test_dont_know_cannot_be_combined_with_a_code() -> None:
    flow = questionnaire(item("select_multiple yn", "q"))
    result = submit(flow, {"q": ["1", DONT_KNOW_FIELD_VALUE]}, mode=PHONE)
    assert msgid(result.errors["q"]) == (
        "Don't know or refused cannot be combined with another answer."
    )


def test_dont_know_skips_the_constraint_and_behaves_as_empty_in_expressions() -> None:
    flow = questionnaire(
        item("integer", "a", constraint=". > 100"),
        item("note", "n", relevant="${a} = ''"),
        item("calculate", "c", calculation="coalesce(${a}, 7)"),
    )
    result = submit(flow, {"a": DONT_KNOW_FIELD_VALUE}, mode=PHONE)
    assert result.errors == {}
    current = state(flow, result.apply({}))
    assert current.is_relevant("n")
    assert flow.clean_answers(current) == {"a": DONT_KNOW, "c": 7}


def test_dont_know_and_refused_codes_come_from_settings() -> None:
    settings = Settings(id="t", title=text("T"), dont_know_code=-8, refused_code=-9)
    assert (DONT_KNOW.code(settings), REFUSED.code(settings)) == (-8, -9)


def test_other_text_cannot_be_dont_know() -> None:
    flow = questionnaire(item("select_one f", "q"), lists=(choices("f", "a", "x", other="x"),))
    result = submit(flow, {"q": "x", "q_other": DONT_KNOW_FIELD_VALUE}, mode=PHONE)
    assert msgid(result.errors["q_other"]) == "Say what the other answer is."


# -- relevance and calculations ------------------------------------------------------------


def chain_flow() -> Flow:
    return questionnaire(
        item("select_one yn", "a"),
        item(
            "group",
            "g",
            item("select_one yn", "b"),
            item("group", "inner", item("text", "c", relevant="${b} = '1'")),
            relevant="${a} = '1'",
        ),
        item("text", "d", relevant="${c} != ''"),
    )


@pytest.mark.parametrize(
    ("answers", "relevant"),
    [
        ({"a": "1", "b": "1", "c": "x"}, {"b", "c", "d"}),
        ({"a": "1", "b": "2", "c": "x"}, {"b"}),
        ({"a": "2", "b": "1", "c": "x"}, set()),
        ({}, set()),
    ],
)
def test_relevance_chains_through_groups_and_irrelevant_answers_count_as_empty(
    answers: dict, relevant: set
) -> None:
    flow = chain_flow()
    current = state(flow, answers)
    assert {name for name in "bcd" if current.is_relevant(name)} == relevant


def test_sample_variables_drive_relevance() -> None:
    flow = questionnaire(item("integer", "q", relevant="${sample.entity_type} = 'CIS'"))
    assert state(flow, {}, {"entity_type": "CIS"}).is_relevant("q")
    assert not state(flow, {}, {"entity_type": "KIS"}).is_relevant("q")


def test_calculations_run_in_dependency_order_not_questionnaire_order() -> None:
    flow = questionnaire(
        item("calculate", "total", calculation="${double} + 1"),
        item("integer", "a"),
        item("calculate", "double", calculation="${a} * 2"),
        item("note", "big", relevant="${total} > 10"),
    )
    current = state(flow, {"a": 5})
    assert flow.clean_answers(current) == {"total": 11, "a": 5, "double": 10}
    assert current.is_relevant("big")


def test_calculation_inside_an_irrelevant_group_is_empty() -> None:
    flow = questionnaire(
        item("integer", "a"),
        item("group", "g", item("calculate", "c", calculation="${a} + 1"), relevant="${a} > 1"),
    )
    assert flow.clean_answers(state(flow, {"a": 1})) == {"a": 1}
    assert flow.clean_answers(state(flow, {"a": 2})) == {"a": 2, "c": 3}


def test_choice_filter_offers_the_choices_whose_columns_match() -> None:
    gminy = ChoiceList(
        "gm",
        tuple(
            Choice(code, text(code), extra={"sub": sub})
            for code, sub in (("g1", "north"), ("g2", "south"), ("g3", "north"))
        ),
    )
    flow = questionnaire(
        item("text", "region"),
        item("select_one gm", "gmina", choice_filter="sub = ${region}"),
        lists=(gminy,),
    )
    offered = flow.choices_for(flow.questionnaire.item("gmina"), state(flow, {"region": "north"}))
    assert [choice.name for choice in offered] == ["g1", "g3"]
    assert submit(flow, {"region": "north", "gmina": "g3"}).errors == {}
    result = submit(flow, {"region": "north", "gmina": "g2"})
    assert msgid(result.errors["gmina"]) == "Choose one of the listed answers."


# -- irrelevant answers: kept, but left out -------------------------------------------------


def test_answer_made_irrelevant_is_kept_but_left_out_of_the_result() -> None:
    flow = questionnaire(
        item("select_one yn", "a"), item("text", "b", relevant="${a} = '1'", required=True)
    )
    answers = submit(flow, {"a": "1", "b": "typed"}).apply({})
    assert answers == {"a": "1", "b": "typed"}
    result = submit(flow, {"a": "2", "b": "typed"}, answers)
    assert result.errors == {}
    assert result.values == {"a": "2"}
    assert result.ignored_fields == ["b"]
    answers = result.apply(answers)
    assert answers == {"a": "2", "b": "typed"}
    current = state(flow, answers)
    assert flow.clean_answers(current) == {"a": "2"}
    assert flow.is_complete(current)
    assert flow.clean_answers(state(flow, {**answers, "a": "1"})) == {"a": "1", "b": "typed"}


def test_empty_field_of_an_irrelevant_item_is_not_reported() -> None:
    flow = questionnaire(item("select_one yn", "a"), item("text", "b", relevant="${a} = '1'"))
    assert submit(flow, {"a": "2", "b": ""}).ignored_fields == []


# -- forged and stray fields ------------------------------------------------------------


def test_forged_and_other_page_fields_are_ignored_and_reported() -> None:
    flow = questionnaire(
        item("group", "p1", item("text", "a")),
        item("group", "p2", item("text", "b")),
    )
    result = submit(flow, {"a": "x", "b": "sneaky", "__class__": "y"})
    assert result.values == {"a": "x"}
    assert result.unknown_fields == ["b", "__class__"]
    assert result.ignored_fields == ["b", "__class__"]


def test_read_only_question_cannot_be_written() -> None:
    flow = questionnaire(item("text", "fixed", read_only=True, default="abc"), item("text", "a"))
    result = submit(flow, {"fixed": "changed", "a": "x"})
    assert result.values == {"a": "x"}
    assert result.ignored_fields == ["fixed"]


def test_werkzeug_style_multidict_is_accepted() -> None:
    class MultiDict(dict):
        def getlist(self, name: str) -> list[str]:
            return self.get(name, [])

    flow = questionnaire(item("select_multiple yn", "q"))
    page = flow.pages(WEB)[0]
    result = flow.validate_page(page, MultiDict(q=["2", "1"]), {}, mode=WEB, sample={}, today=TODAY)
    assert result.values == {"q": ("1", "2")}


# -- completeness -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "complete"),
    [
        ({"a": 1, "b": "1"}, True),
        ({"a": 1}, False),
        ({"a": DONT_KNOW, "b": "1"}, True),
        ({"a": -1, "b": "1"}, False),
        ({"a": 1, "b": "9"}, False),
        ({"b": "1"}, False),
    ],
)
def test_complete_when_relevant_required_answered_and_constraints_met(
    answers: dict, complete: bool
) -> None:
    flow = questionnaire(
        item("integer", "a", required=True, constraint=". >= 0"),
        item("select_one yn", "b", required=True),
    )
    assert flow.is_complete(state(flow, answers)) is complete


# -- pages and navigation -------------------------------------------------------------------


def paged_flow(paging: str = "group") -> Flow:
    return questionnaire(
        item("note", "intro"),
        item("text", "name"),
        item("calculate", "calc", calculation="1"),
        item(
            "group",
            "a",
            item("note", "a_note"),
            item("select_one yn", "a1"),
            item("integer", "a2", relevant="${a1} = '1'"),
            relevant="${sample.kind} = 'CIS'",
        ),
        item(
            "group",
            "b",
            item(
                "group", "b_grid", item("text", "b1"), item("text", "b2"), appearance="field-list"
            ),
            item("text", "b3"),
            item("note", "b_end"),
        ),
        item("calculate", "tail", calculation="2"),
        paging=paging,
    )


@pytest.mark.parametrize(
    ("paging", "mode", "expected"),
    [
        (
            "group",
            WEB,
            [
                ("intro", ["intro", "name"]),
                ("a", ["a_note", "a1", "a2"]),
                ("b", ["b_grid", "b1", "b2", "b3", "b_end"]),
            ],
        ),
        (
            "item",
            WEB,
            [
                ("name", ["intro", "name"]),
                ("a1", ["a_note", "a1"]),
                ("a2", ["a2"]),
                ("b_grid", ["b1", "b2"]),
                ("b3", ["b3"]),
                ("b_end", ["b_end"]),
            ],
        ),
        (
            "group",
            PHONE,
            [
                ("name", ["intro", "name"]),
                ("a1", ["a_note", "a1"]),
                ("a2", ["a2"]),
                ("b_grid", ["b1", "b2"]),
                ("b3", ["b3"]),
                ("b_end", ["b_end"]),
            ],
        ),
    ],
)
def test_pages_follow_paging_and_mode(paging: str, mode: str, expected: list) -> None:
    pages = paged_flow(paging).pages(mode)
    assert [(p.id, [i.name for i in p.items]) for p in pages] == expected
    assert [p.index for p in pages] == list(range(len(expected)))


def test_page_knows_its_group() -> None:
    flow = paged_flow()

    def groups(mode: str) -> str:
        return " ".join(p.group.name if p.group else "-" for p in flow.pages(mode))

    assert groups(WEB) == "- a b"
    assert groups(PHONE) == "- a a b_grid b b"


def test_navigation_skips_pages_with_nothing_relevant() -> None:
    flow = paged_flow()
    kis = state(flow, {}, {"kind": "KIS"})
    assert flow.next_page(kis, WEB, None).id == "intro"
    assert flow.next_page(kis, WEB, "intro").id == "b"
    assert flow.next_page(kis, WEB, "b") is None
    assert flow.previous_page(kis, WEB, "b").id == "intro"
    assert flow.previous_page(kis, WEB, "intro") is None
    cis = state(flow, {}, {"kind": "CIS"})
    assert flow.next_page(cis, WEB, "intro").id == "a"


def test_phone_navigation_skips_the_question_filtered_out() -> None:
    flow = paged_flow()
    answers = {"a1": "2"}
    current = state(flow, answers, {"kind": "CIS"})
    assert flow.next_page(current, PHONE, "a1").id == "b_grid"
    assert flow.previous_page(current, PHONE, "b_grid").id == "a1"


def test_resume_at_first_page_with_a_missing_required_answer() -> None:
    flow = questionnaire(
        item("group", "p1", item("text", "a")),
        item("group", "p2", item("text", "b", required=True)),
        item("group", "p3", item("text", "c")),
    )
    assert flow.resume_page(state(flow, {}), WEB, None).id == "p1"
    assert flow.resume_page(state(flow, {"a": "x"}), WEB, "p1").id == "p2"
    assert flow.resume_page(state(flow, {"a": "x"}), WEB, "p3").id == "p2"
    assert flow.resume_page(state(flow, {"b": "x"}), WEB, "p2").id == "p3"
    assert flow.resume_page(state(flow, {"b": "x"}), WEB, "p3") is None


def test_progress_counts_shown_pages_submitted() -> None:
    flow = paged_flow()
    kis = state(flow, {}, {"kind": "KIS"})
    assert flow.progress(kis, WEB, None) == 0.0
    assert flow.progress(kis, WEB, "intro") == 0.5
    assert flow.progress(kis, WEB, "b") == 1.0


def test_unknown_mode_and_page_are_refused() -> None:
    flow = paged_flow()
    with pytest.raises(ValueError, match="unknown mode"):
        flow.pages("paper")
    with pytest.raises(KeyError):
        flow.page(WEB, "nope")


# -- showing ------------------------------------------------------------------------------


def test_render_text_fills_in_answers_and_sample_values() -> None:
    flow = questionnaire(
        item("select_one yn", "a"),
        item("select_multiple abc", "m"),
        item("date", "d"),
        item("decimal", "x"),
        item("integer", "dk"),
        item("text", "hidden", relevant="false()"),
        lists=(YES_NO, choices("abc", "a", "b", "c")),
    )
    current = state(
        flow,
        {
            "a": "1",
            "m": ("a", "c"),
            "d": date(2026, 3, 1),
            "x": Decimal("12.5"),
            "dk": DONT_KNOW,
            "hidden": "secret",
        },
        {"rok": 2025},
    )
    label = Text(
        {
            "pl": "${a}|${m}|${d}|${x}|${dk}|${hidden}|${sample.rok}|${ sample.missing }",
            "en": "${x}",
        }
    )
    assert flow.render_text(label, "pl", current) == "L1|La, Lc|01.03.2026|12,5|||2025|"
    assert flow.render_text(label, "en", current) == "12.5"


def test_form_values_prefill_stored_answers_then_defaults() -> None:
    flow = questionnaire(
        item("text", "t", default="abc"),
        item("integer", "i", default="5"),
        item("select_multiple yn", "m"),
        item("date", "d"),
        item("decimal", "x"),
    )
    current = state(
        flow, {"i": DONT_KNOW, "m": ("1", "2"), "d": date(2026, 1, 2), "x": Decimal("1.5")}
    )
    assert flow.form_values(flow.pages(WEB)[0], current) == {
        "t": ["abc"],
        "i": [DONT_KNOW_FIELD_VALUE],
        "m": ["1", "2"],
        "d": ["2026-01-02"],
        "x": ["1.5"],
    }


# -- storage ----------------------------------------------------------------------------


def storage_flow() -> Flow:
    return questionnaire(
        item("text", "t"),
        item("integer", "i"),
        item("decimal", "x"),
        item("date", "d"),
        item("select_one f", "s"),
        item("select_multiple f", "m"),
        item("matrix yn", "g", rows=(MatrixRow("r", text("R")),)),
        item("integer", "dk"),
        item("integer", "rf"),
        item("calculate", "c", calculation="1"),
        lists=(YES_NO, choices("f", "a", "b", "x", other="x")),
    )


ANSWERS = {
    "t": "Ala",
    "i": -3,
    "x": Decimal("0.10"),
    "d": date(2026, 3, 31),
    "s": "x",
    "s_other": "inna",
    "m": ("a", "b"),
    "g_r": "2",
    "dk": DONT_KNOW,
    "rf": REFUSED,
    "c": 1,
}
STORED = {
    "t": "Ala",
    "i": -3,
    "x": "0.10",
    "d": "2026-03-31",
    "s": "x",
    "s_other": "inna",
    "m": ["a", "b"],
    "g_r": "2",
    "dk": {"missing": "dont_know"},
    "rf": {"missing": "refused"},
    "c": 1,
}


def test_answers_round_trip_through_json() -> None:
    q = storage_flow().questionnaire
    assert answers_to_json(q, ANSWERS) == STORED
    assert answers_from_json(q, STORED) == ANSWERS


def test_dont_know_json_form_cannot_be_a_real_answer() -> None:
    assert isinstance(Missing.DONT_KNOW.to_json(), dict)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("gone", "from an older version"),
        ("i", "12"),
        ("i", True),
        ("x", "abc"),
        ("x", "NaN"),
        ("d", "31.03.2026"),
        ("d", "2026-02-30"),
        ("s", "z"),
        ("m", ["a", "z"]),
        ("t", {"missing": "maybe"}),
        ("c", {"missing": "dont_know"}),
    ],
)
def test_stored_value_that_no_longer_fits_is_kept_aside_and_written_back(
    name: str, raw: Any
) -> None:
    q = storage_flow().questionnaire
    answers = answers_from_json(q, {"t": "ok", name: raw} if name != "t" else {name: raw})
    assert answers[ASIDE_KEY] == {name: raw}
    assert answers_to_json(q, answers)[name] == raw
    assert flow_ignores_aside(answers)


def flow_ignores_aside(answers: dict) -> bool:
    flow = storage_flow()
    return ASIDE_KEY not in flow.clean_answers(state(flow, answers))


def test_new_answer_wins_over_the_one_kept_aside() -> None:
    q = storage_flow().questionnaire
    answers = answers_from_json(q, {"i": "12"})
    answers["i"] = 12
    assert answers_to_json(q, answers) == {"i": 12}


def test_calculation_cycle_the_checker_missed_reads_as_empty_instead_of_failing() -> None:
    flow = questionnaire(
        item("calculate", "x", calculation="coalesce(${y}, 1) + 1"),
        item("calculate", "y", calculation="${x} + 1"),
    )
    assert flow.clean_answers(state(flow, {})) == {"x": 2, "y": 3}
