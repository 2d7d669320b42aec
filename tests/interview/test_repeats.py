"""Lists (repeats) in the shared interview layer: the view objects of a list on a page
(app.interview.pages), its add and remove buttons in the one page-submit decision
(app.interview.submit), and the changes between two answer sets named per entry and field
(app.interview.service, for the corrections log)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.interview.pages import (
    InstanceView,
    PageBuilder,
    PagePost,
    RepeatView,
    expression_values,
    field_label,
    live_calculations,
    read_page_post,
    summary,
)
from app.interview.service import Interview, answer_changes, start_unit_response
from app.interview.submit import ACTIONS, PageOutcome, Step, post_page
from app.models.fieldwork import Response, SampleUnit
from tests.support.partners import PARTNERS, partners_fieldwork


def _identity(text: str) -> str:
    return text


@pytest.fixture(scope="module")
def flow() -> Flow:
    loaded = load_definition(PARTNERS.encode(), "partnerzy.yaml")
    assert loaded.questionnaire is not None, [p.render() for p in loaded.problems]
    return Flow(loaded.questionnaire)


SZANSA = {"nazwa": "Fundacja Szansa", "typ_partnera": "firma", "miejsca": 3}
ANSWERS = {
    "liczba": 2,
    "partnerzy": (
        {"nazwa": "Gmina Rybnik", "typ_partnera": "jst", "etaty": ({"stanowisko": "Kucharz"},)},
        {**SZANSA, "etaty": ({"stanowisko": "Kierowca"}, {"stanowisko": "Sprzątacz"})},
    ),
    "stale": ({"opis": "pierwszy"},),
}


def _builder(flow: Flow, answers, *, errors=None, values=None, **options) -> PageBuilder:
    state = flow.state(answers, sample={}, today=date(2026, 3, 16))
    page = flow.page("web", "partnerzy")
    return PageBuilder(
        flow,
        state,
        language="pl",
        mode="web",
        gettext=_identity,
        values=flow.form_values(page, state) if values is None else values,
        errors=errors or {},
        **options,
    )


def test_a_list_on_a_page_holds_its_entries_titled_by_their_answer(flow):
    [view] = _builder(flow, ANSWERS).page(flow.page("web", "partnerzy"))
    assert isinstance(view, RepeatView)
    assert (view.name, view.label, view.count, view.fixed) == ("partnerzy", "Partner", 2, False)
    assert (view.minimum, view.maximum, view.can_add) == (1, 5, True)
    assert [i.title for i in view.instances] == [
        "Partner 1: Gmina Rybnik",
        "Partner 2: Fundacja Szansa",
    ]
    second = view.instances[1]
    assert second.prefix == "partnerzy.2" and second.anchor == "instance-partnerzy.2"
    assert second.removable
    names = [item.name for item in second.items]
    assert names == [
        "partnerzy.2.nazwa",
        "partnerzy.2.typ_partnera",
        "partnerzy.2.miejsca",
        "partnerzy.2.o_partnerze",
        "partnerzy.2.etaty",
    ]
    note = second.items[3]
    assert note.label == "O partnerze: Fundacja Szansa, miejsc razy dwa: 6"
    assert note.label_template == "O partnerze: ${nazwa}, miejsc razy dwa: ${podwojone}"
    assert second.items[0].values == ["Fundacja Szansa"]
    assert second.items[0].context == "Partner 2: Fundacja Szansa"
    jobs = second.items[4]
    assert isinstance(jobs, RepeatView) and jobs.depth == 1
    assert [i.title for i in jobs.instances] == ["Etat 1", "Etat 2"]
    assert jobs.instances[1].items[0].name == "partnerzy.2.etaty.2.stanowisko"
    assert jobs.instances[1].items[0].values == ["Sprzątacz"]
    # the relevance of a field inside an entry is the entry's own: the first is no firm
    assert view.instances[0].items[2].relevant is False
    assert second.items[2].relevant is True
    assert json.loads(second.items[2].relevance_tree)  # the browser evaluates it per entry


def test_one_entry_is_built_alone_for_the_roster(flow):
    builder = _builder(flow, ANSWERS)
    alone = builder.instance_at("partnerzy.2")
    assert isinstance(alone, InstanceView) and alone.title == "Partner 2: Fundacja Szansa"
    assert alone.items[0].name == "partnerzy.2.nazwa"
    nested = builder.instance_at("partnerzy.2.etaty.1")
    assert (nested.title, nested.prefix) == ("Etat 1", "partnerzy.2.etaty.1")
    assert nested.items[0].name == "partnerzy.2.etaty.1.stanowisko"
    for missing in (
        "partnerzy.3",
        "partnerzy.0",
        "partnerzy",
        "liczba.1",
        "partnerzy.x",
        "stale.1.opis",
    ):
        with pytest.raises(LookupError):
            builder.instance_at(missing)


def test_errors_come_to_the_entry_field_they_are_keyed_by(flow):
    errors = flow.problems(
        flow.state({"partnerzy": ({}, SZANSA)}, sample={}, today=date(2026, 3, 16))
    )
    assert "partnerzy.1.nazwa" in errors
    [view] = _builder(flow, {"partnerzy": ({}, SZANSA)}, errors=errors).page(
        flow.page("web", "partnerzy")
    )
    first, second = view.instances
    assert first.title == "Partner 1"  # no name yet
    assert first.items[0].error == "This question requires an answer."
    assert second.items[0].error is None


def test_a_list_with_too_few_entries_says_so_on_the_list(flow):
    errors = flow.problems(flow.state({}, sample={}, today=date(2026, 3, 16)))
    [view] = _builder(flow, {}, errors=errors).page(flow.page("web", "partnerzy"))
    assert view.count == 0 and view.error == "Add at least 1 (there are 0)."


def test_a_full_list_offers_no_add_and_a_fixed_one_neither_add_nor_remove(flow):
    full = {"liczba": 2, "partnerzy": tuple({"nazwa": f"P{n}"} for n in range(5))}
    [view] = _builder(flow, full).page(flow.page("web", "partnerzy"))
    assert view.count == 5 and not view.can_add
    state = flow.state(ANSWERS, sample={}, today=date(2026, 3, 16))
    page = flow.page("web", "stale")
    builder = PageBuilder(
        flow,
        state,
        language="pl",
        mode="web",
        gettext=_identity,
        values=flow.form_values(page, state),
        errors={},
    )
    [fixed] = builder.page(page)
    assert fixed.fixed and not fixed.can_add and fixed.count == 2  # liczba = 2
    assert [i.removable for i in fixed.instances] == [False, False]
    assert fixed.instances[0].items[0].values == ["pierwszy"]


def test_staff_edits_and_the_viewer_offer_no_list_buttons(flow):
    for options in ({"list_changes": False}, {"read_only": True}):
        [view] = _builder(flow, ANSWERS, **options).page(flow.page("web", "partnerzy"))
        assert not view.can_add and not any(i.removable for i in view.instances)


def test_the_summary_lists_each_entry(flow):
    state = flow.state(ANSWERS, sample={}, today=date(2026, 3, 16))
    rows = summary(flow, state, "pl", _identity)
    assert ("Partner 2: Fundacja Szansa: Nazwa", "Fundacja Szansa") in rows
    assert ("Partner 2: Fundacja Szansa: Typ", "Firma") in rows
    assert ("Partner 2: Fundacja Szansa: Miejsca pracy", "3") in rows
    assert ("Partner 2: Fundacja Szansa › Etat 2: Stanowisko", "Sprzątacz") in rows
    assert ("Stały 1: Opis", "pierwszy") in rows
    questions = [q for q, _ in rows]
    assert questions.index("Ilu partnerów?") < questions.index("Partner 1: Gmina Rybnik: Nazwa")
    assert not any("Gmina Rybnik: Miejsca" in q for q in questions)  # irrelevant there


def test_a_field_is_named_with_its_entry(flow):
    state = flow.state(ANSWERS, sample={}, today=date(2026, 3, 16))

    def label(name: str) -> str:
        return field_label(flow, state, name, "pl", _identity)

    assert label("liczba") == "Ilu partnerów?"
    assert label("partnerzy") == "Partner"
    assert label("partnerzy.2.miejsca") == "Partner 2: Fundacja Szansa: Miejsca pracy"
    assert label("partnerzy.2.etaty.1.stanowisko") == (
        "Partner 2: Fundacja Szansa › Etat 1: Stanowisko"
    )
    assert label("partnerzy.2.etaty") == "Partner 2: Fundacja Szansa: Etat"
    for nothing in (
        "partnerzy.9.nazwa",
        "partnerzy.x.nazwa",
        "liczba.1.x",
        "nie_ma",
        "partnerzy.2",
    ):
        assert label(nothing) == nothing


def test_the_browser_gets_lists_as_node_sets(flow):
    state = flow.state(ANSWERS, sample={}, today=date(2026, 3, 16))
    values = expression_values(flow, state)
    assert values["partnerzy"] == {"nodeset": [1, 2], "paths": [[1], [2]]}
    assert values["nazwa"] == {"nodeset": ["Gmina Rybnik", "Fundacja Szansa"], "paths": [[1], [2]]}
    assert values["miejsca"] == {"nodeset": ["", 3], "paths": [[1], [2]]}
    assert values["stanowisko"] == {
        "nodeset": ["Kucharz", "Kierowca", "Sprzątacz"],
        "paths": [[1, 1], [2, 1], [2, 2]],
    }
    assert values["etaty"]["paths"] == [[1, 1], [2, 1], [2, 2]]
    assert values["liczba"] == 2 and values["ile"] == 2
    calculations = live_calculations(flow)
    by_name = {c["name"]: c for c in calculations}
    assert by_name["nr_etatu"]["repeat"] == "partnerzy.etaty"
    assert "repeat" not in by_name["suma"]
    names = [c["name"] for c in calculations]
    assert names.index("nr_etatu") < names.index("suma")


def test_a_list_button_is_read_with_its_path():
    form = MultiDict({"action": "remove:partnerzy.2", "revision": "3", "partnerzy": "2"})
    post = read_page_post(form, ACTIONS)
    assert (post.action, post.target, post.revision) == ("remove", "partnerzy.2", 3)
    assert "action" not in post.fields and post.fields["partnerzy"] == "2"
    forged = read_page_post(MultiDict({"action": "next:partnerzy", "revision": "3"}), ACTIONS)
    assert (forged.action, forged.target) == ("next", "")
    unknown = read_page_post(MultiDict({"action": "add:x", "revision": "3"}), ("next", "back"))
    assert (unknown.action, unknown.target) == ("next", "")


def test_changes_between_answers_are_named_per_entry_and_field():
    before = {"q": 1, "partnerzy": [{"nazwa": "A"}, {"nazwa": "B", "etaty": [{"s": "x"}]}]}
    after = {"q": 1, "partnerzy": [{"nazwa": "B", "etaty": [{"s": "y"}]}]}
    assert answer_changes(before, after) == [
        ("partnerzy", 2, 1),
        ("partnerzy[1].etaty", 0, 1),
        ("partnerzy[1].etaty[1].s", None, "y"),
        ("partnerzy[1].nazwa", "A", "B"),
        ("partnerzy[2].etaty", 1, 0),
        ("partnerzy[2].etaty[1].s", "x", None),
        ("partnerzy[2].nazwa", "B", None),
    ]
    assert answer_changes({"m": ["a"]}, {"m": ["a", "b"]}) == [("m", ["a"], ["a", "b"])]


# --- posting a page with a list (post_page, stored in the database) --------------------------


@pytest.fixture
def session(app: Flask, clock) -> Iterator[Session]:
    partners_fieldwork(app, clock)
    with app.extensions["ankieta.db"].session() as session:
        yield session


@pytest.fixture
def interview(session: Session, clock) -> Interview:
    unit = session.scalar(select(SampleUnit).where(SampleUnit.external_id == "P-01"))
    response = start_unit_response(session, unit, clock())
    session.flush()
    return Interview.of(response, clock())


def _post(session, interview, action: str, *, now, mode="web", page_id="partnerzy", **fields):
    page = interview.flow.page(mode, page_id)
    form = MultiDict({"action": action, "revision": str(interview.response.revision)})
    for name, value in fields.items():
        form.add(name.replace("__", "."), value)
    post = read_page_post(form, ACTIONS)
    return post_page(session, interview, page, post, mode=mode, language="pl", now=now)


def _stored(session: Session, interview: Interview) -> Response:
    session.expire_all()
    return session.get(Response, interview.response.id)


def _names(response: Response) -> list[str]:
    return [entry.get("nazwa") for entry in response.answers["partnerzy"]]


def _with_two(session, interview, clock) -> None:
    """Two partners stored: "Gmina" and "Szansa"."""
    _post(session, interview, "add:partnerzy", partnerzy="0", now=clock())
    _post(
        session,
        interview,
        "add:partnerzy",
        partnerzy="1",
        partnerzy__1="1",
        partnerzy__1__nazwa="Gmina",
        now=clock(),
    )
    outcome = _post(
        session,
        interview,
        "next",
        partnerzy="2",
        partnerzy__1="1",
        partnerzy__1__nazwa="Gmina",
        partnerzy__2="1",
        partnerzy__2__nazwa="Szansa",
        now=clock(),
    )
    assert outcome.step is Step.NEXT, outcome.errors


@pytest.mark.parametrize("mode", ["web", "phone"])
def test_add_keeps_what_was_typed_and_shows_the_page_again(session, interview, clock, mode):
    outcome = _post(session, interview, "add:partnerzy", mode=mode, partnerzy="0", now=clock())
    assert (outcome.step, outcome.page.id, outcome.target) == (
        Step.CHANGED,
        "partnerzy",
        "partnerzy.1",
    )
    outcome = _post(
        session,
        interview,
        "add:partnerzy",
        mode=mode,
        partnerzy="1",
        partnerzy__1="1",
        partnerzy__1__nazwa="Fundacja Szansa",
        now=clock(),
    )
    assert outcome.step is Step.CHANGED and outcome.target == "partnerzy.2"
    stored = _stored(session, interview)
    assert stored.answers["partnerzy"] == [{"nazwa": "Fundacja Szansa", "etaty": []}, {}]
    assert stored.revision == 2 and stored.last_page is None  # not yet answered


def test_add_inside_an_entry_adds_to_that_entry(session, interview, clock):
    _with_two(session, interview, clock)
    outcome = _post(
        session,
        interview,
        "add:partnerzy.2.etaty",
        partnerzy="2",
        partnerzy__1="1",
        partnerzy__1__nazwa="Gmina",
        partnerzy__2="1",
        partnerzy__2__nazwa="Szansa",
        now=clock(),
    )
    assert outcome.step is Step.CHANGED and outcome.target == "partnerzy.2.etaty.1"
    assert _stored(session, interview).answers["partnerzy"][1]["etaty"] == [{}]


def test_remove_asks_first_then_removes_and_the_following_move_up(session, interview, clock):
    _with_two(session, interview, clock)
    typed = {
        "partnerzy": "2",
        "partnerzy__1": "1",
        "partnerzy__1__nazwa": "Gmina Rybnik",
        "partnerzy__2": "1",
        "partnerzy__2__nazwa": "Szansa",
    }
    outcome = _post(session, interview, "remove:partnerzy.1", now=clock(), **typed)
    assert (outcome.step, outcome.target) == (Step.CONFIRM, "partnerzy.1")
    stored = _stored(session, interview)
    assert _names(stored) == ["Gmina Rybnik", "Szansa"]
    outcome = _post(session, interview, "confirm_remove:partnerzy.1", now=clock(), **typed)
    assert (outcome.step, outcome.target) == (Step.CHANGED, "partnerzy")
    assert _names(_stored(session, interview)) == ["Szansa"]


def test_a_typed_answer_that_cannot_be_kept_stops_the_list_button(session, interview, clock):
    _with_two(session, interview, clock)
    before = _stored(session, interview).revision
    outcome = _post(
        session,
        interview,
        "add:partnerzy",
        now=clock(),
        partnerzy="2",
        partnerzy__1="1",
        partnerzy__1__nazwa="Gmina",
        partnerzy__2="1",
        partnerzy__2__nazwa="Szansa",
        partnerzy__2__typ_partnera="firma",
        partnerzy__2__miejsca="dużo",
    )
    assert outcome.step is Step.INVALID and set(outcome.errors) == {"partnerzy.2.miejsca"}
    assert _stored(session, interview).revision == before


HOSTILE = [
    # (action, fields beyond the two stored entries as shown): what a forged post says
    ("next", {"partnerzy.1000000000.nazwa": "X"}),
    ("later", {"partnerzy.3.nazwa": "usunięty"}),  # a field of an entry that is not there
    ("next", {"partnerzy": "10000"}),
    ("back", {"partnerzy": "6"}),  # above the list's maximum (5)
    ("later", {"partnerzy": "-1"}),
    ("remove:partnerzy.3", {}),  # no such entry
    ("confirm_remove:partnerzy.1000000000", {}),
    ("confirm_remove:partnerzy", {}),  # a list, not an entry
    ("add:partnerzy.2", {}),  # an entry, not a list
    ("add:stale", {}),  # a list of another page (and a fixed one)
    ("add:liczba", {}),
    ("add:partnerzy.1.etaty.1.stanowisko", {}),
    ("remove:partnerzy.1.nazwa", {}),
    ("keep:partnerzy.9", {}),
    ("add:" + "partnerzy.1." * 100 + "etaty", {}),
]


@pytest.mark.parametrize(("action", "extra"), HOSTILE)
def test_a_forged_list_post_is_refused_and_changes_nothing(
    session, interview, clock, action, extra
):
    _with_two(session, interview, clock)
    before = _stored(session, interview)
    answers, revision = before.answers, before.revision
    fields = {
        "partnerzy": "2",
        "partnerzy__1": "1",
        "partnerzy__1__nazwa": "Zmieniona",
        "partnerzy__2": "1",
        "partnerzy__2__nazwa": "Szansa",
    }
    fields.update({name.replace(".", "__"): value for name, value in extra.items()})
    outcome = _post(session, interview, action, now=clock(), **fields)
    assert outcome.step is Step.INVALID
    assert outcome.notice is not None or outcome.errors
    after = _stored(session, interview)
    assert (after.answers, after.revision) == (answers, revision)


def test_a_full_list_refuses_one_more(session, interview, clock):
    fields: dict[str, str] = {"partnerzy": "0"}
    for number in range(1, 6):
        assert (
            _post(session, interview, "add:partnerzy", now=clock(), **fields).step is Step.CHANGED
        )
        fields.update({"partnerzy": str(number), f"partnerzy__{number}": "1"})
    revision = _stored(session, interview).revision
    outcome = _post(session, interview, "add:partnerzy", now=clock(), **fields)
    assert outcome.step is Step.INVALID
    assert outcome.notice.render(_identity) == "This list holds at most 5 entries."
    assert _stored(session, interview).revision == revision


def test_a_stale_list_button_changes_nothing(session, interview, clock):
    _with_two(session, interview, clock)
    page = interview.flow.page("web", "partnerzy")
    post = PagePost("confirm_remove", 0, MultiDict({"partnerzy": "2"}), "partnerzy.1")
    outcome: PageOutcome = post_page(
        session, interview, page, post, mode="web", language="pl", now=clock()
    )
    assert outcome.step is Step.STALE
    assert len(_stored(session, interview).answers["partnerzy"]) == 2
