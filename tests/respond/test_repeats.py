"""Lists (repeats) on the respondent's web form without JavaScript: an entry added and
removed with real submit buttons (a removal confirmed on the page), the error summary
naming the entry, save-and-resume, the stale page, the thank-you summary, corrections of a
re-opened response per entry and field, the staff viewer and staff edits; and forged posts
that change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models.fieldwork import Response, ResponseChange
from app.models.surveys import Survey
from app.models.users import Role
from tests.support import page_text, unit_token
from tests.support.partners import partners_fieldwork, press, to_partners_page
from tests.support.respondent import (
    REQUIRED,
    Respondent,
    field_error,
    parse_form,
    shown_values,
    stored,
    summary_errors,
    summary_rows,
    text_of,
)


@pytest.fixture
def respondent(app, clock) -> Respondent:
    fieldwork_id = partners_fieldwork(app, clock)
    return Respondent(app.test_client(), unit_token(app, fieldwork_id, "P-01"), fieldwork_id)


def _follow(respondent: Respondent, response):
    assert response.status_code == 302, (response.status_code, page_text(response)[:600])
    return respondent.open(response.location), response.location


def _two_partners(respondent: Respondent):
    """The list page with two entries: "Gmina Rybnik" (a council) and "Fundacja Szansa" (a
    firm with 3 jobs)."""
    form = to_partners_page(respondent)
    form, _ = _follow(respondent, press(respondent, form, "add:partnerzy"))
    answers = {"partnerzy.1.nazwa": "Gmina Rybnik", "partnerzy.1.typ_partnera": "jst"}
    form, _ = _follow(respondent, press(respondent, form, "add:partnerzy", answers))
    answers = {
        "partnerzy.2.nazwa": "Fundacja Szansa",
        "partnerzy.2.typ_partnera": "firma",
        "partnerzy.2.miejsca": "3",
    }
    saved = press(respondent, form, "later", answers)
    assert saved.status_code == 200
    return respondent.open(f"{respondent.link}/p/partnerzy")


def test_entries_are_added_with_the_typed_answers_kept_and_the_page_comes_back(respondent, app):
    form = to_partners_page(respondent)
    assert "Nie ma jeszcze żadnej pozycji." in text_of(form.html)
    assert form.buttons[0] == "next"  # what Enter presses: on, not a list's button
    assert "add:partnerzy" in form.buttons
    form, location = _follow(respondent, press(respondent, form, "add:partnerzy"))
    assert location.endswith("/p/partnerzy#instance-partnerzy.1")  # the new entry in view
    assert set(form.fields) == {
        "partnerzy.1.nazwa",
        "partnerzy.1.typ_partnera",
        "partnerzy.1.miejsca",
    }
    assert "<legend>Partner 1</legend>" in form.html
    typed = {"partnerzy.1.nazwa": "Fundacja Szansa", "partnerzy.1.typ_partnera": "firma"}
    form, location = _follow(respondent, press(respondent, form, "add:partnerzy", typed))
    assert location.endswith("#instance-partnerzy.2")
    assert form.fields["partnerzy.1.nazwa"].value == "Fundacja Szansa"
    assert "<legend>Partner 1: Fundacja Szansa</legend>" in form.html
    assert "<legend>Partner 2</legend>" in form.html
    assert "Usuń: Partner 1: Fundacja Szansa" in form.html
    form, _ = _follow(respondent, press(respondent, form, "add:partnerzy.1.etaty"))
    assert "partnerzy.1.etaty.1.stanowisko" in form.fields
    answers = stored(app, respondent.token).answers
    assert answers["partnerzy"][0]["nazwa"] == "Fundacja Szansa"
    assert answers["partnerzy"][0]["etaty"] == [{}]
    assert len(answers["partnerzy"]) == 2


def test_a_removal_is_confirmed_on_the_page_and_kept_or_done(respondent, app):
    form = _two_partners(respondent)
    asked = press(respondent, form, "remove:partnerzy.1", {"partnerzy.1.nazwa": "Gmina Rybnik!"})
    assert asked.status_code == 302 and asked.location.endswith(
        "/p/partnerzy?remove=partnerzy.1#confirm-remove"
    )
    form = respondent.open(asked.location)
    assert "Usunąć: Partner 1: Gmina Rybnik!?" in text_of(form.html)
    assert "confirm_remove:partnerzy.1" in form.buttons
    assert "keep:partnerzy.1" in form.buttons
    # the typed change was kept before asking; the entry is still there
    assert [p["nazwa"] for p in stored(app, respondent.token).answers["partnerzy"]] == [
        "Gmina Rybnik!",
        "Fundacja Szansa",
    ]
    kept = press(respondent, form, "keep:partnerzy.1", {"partnerzy.1.nazwa": "Gmina Rybnik"})
    assert kept.status_code == 302 and kept.location.endswith("/p/partnerzy#instance-partnerzy.1")
    cancelled = respondent.open(kept.location)
    assert "confirm_remove:partnerzy.1" not in cancelled.buttons
    assert cancelled.fields["partnerzy.1.nazwa"].value == "Gmina Rybnik"
    asked = press(respondent, cancelled, "remove:partnerzy.1")
    form = respondent.open(asked.location)
    done = press(respondent, form, "confirm_remove:partnerzy.1")
    assert done.status_code == 302 and done.location.endswith("/p/partnerzy#t-partnerzy")
    form = respondent.open(done.location)
    assert "<legend>Partner 1: Fundacja Szansa</legend>" in form.html
    assert "partnerzy.2.nazwa" not in form.fields
    assert form.fields["partnerzy.1.miejsca"].value == "3"
    assert [p["nazwa"] for p in stored(app, respondent.token).answers["partnerzy"]] == [
        "Fundacja Szansa"
    ]


def test_the_error_summary_names_the_entry_and_links_to_its_field(respondent):
    form = to_partners_page(respondent)
    form, _ = _follow(respondent, press(respondent, form, "add:partnerzy"))
    form, _ = _follow(respondent, press(respondent, form, "add:partnerzy"))
    sent = press(respondent, form, "next", {"partnerzy.1.nazwa": "Fundacja Szansa"})
    assert sent.status_code == 200
    text = sent.get_data(as_text=True)
    assert ("q-partnerzy.2.nazwa", f"Partner 2: Nazwa – {REQUIRED}") in summary_errors(text)
    assert field_error(text, "partnerzy.2.nazwa") == f"Błąd: {REQUIRED}"
    assert 'id="q-partnerzy.2.nazwa"' in text and 'aria-invalid="true"' in text
    assert field_error(text, "partnerzy.1.nazwa") is None


def test_too_few_entries_is_an_error_of_the_list(respondent):
    form = to_partners_page(respondent)
    sent = press(respondent, form, "next")
    assert sent.status_code == 200
    errors = summary_errors(sent.get_data(as_text=True))
    assert errors == [("add-partnerzy", "Partner: Dodaj co najmniej 1 (jest 0).")]


def test_saved_for_later_the_entries_come_back_on_resume(respondent, app):
    form = _two_partners(respondent)
    assert form.fields["partnerzy.2.nazwa"].value == "Fundacja Szansa"
    again = Respondent(app.test_client(), respondent.token)
    form = again.begin()
    assert form.page_id == "partnerzy"  # the list was never sent with Next
    assert form.fields["partnerzy.1.nazwa"].value == "Gmina Rybnik"
    assert form.fields["partnerzy.2.miejsca"].value == "3"
    assert [o.value for o in form.fields["partnerzy.2.typ_partnera"].options if o.checked] == [
        "firma"
    ]


def test_a_stale_page_shows_the_entries_saved_since(respondent, app):
    form = _two_partners(respondent)
    other = Respondent(app.test_client(), respondent.token)
    tab = other.open(f"{respondent.link}/p/partnerzy")
    assert press(other, tab, "confirm_remove:partnerzy.1").status_code == 302
    stale = press(respondent, form, "add:partnerzy", {"partnerzy.2.nazwa": "Zmieniona"})
    assert stale.status_code == 409
    shown = parse_form(stale)
    assert "partnerzy.2.nazwa" not in shown.fields
    assert shown.fields["partnerzy.1.nazwa"].value == "Fundacja Szansa"
    assert [p["nazwa"] for p in stored(app, respondent.token).answers["partnerzy"]] == [
        "Fundacja Szansa"
    ]


def test_the_thank_you_summary_lists_every_entry(respondent):
    form = _two_partners(respondent)
    form = respondent.next(form, {"partnerzy.1.etaty": "0", "partnerzy.2.etaty": "0"})
    assert form.page_id == "podsumowanie"
    assert "Partnerów: 2, miejsc: 3, nazwy: Gmina Rybnik, Fundacja Szansa" in text_of(form.html)
    form = respondent.next(form)
    assert form.page_id == "stale"
    assert "<legend>Stały 2</legend>" in form.html and "add:stale" not in form.buttons
    assert not any(b.startswith("remove:") for b in form.buttons)
    assert respondent.next(form, {"stale.1.opis": "pierwszy", "stale.2.opis": "drugi"}) is None
    rows = summary_rows(respondent.client.get(f"{respondent.link}/done"))
    assert ("Partner 2: Fundacja Szansa: Nazwa", "Fundacja Szansa") in rows
    assert ("Partner 2: Fundacja Szansa: Typ", "Firma") in rows
    assert ("Partner 2: Fundacja Szansa: Miejsca pracy", "3") in rows
    assert ("Stały 2: Opis", "drugi") in rows


# (action, fields over the page as shown): what a forged or stale form may send
HOSTILE = [
    ("next", {"partnerzy.1000000000.nazwa": "X"}),
    ("later", {"partnerzy.1000000000": "1"}),
    ("next", {"partnerzy": "10000"}),
    ("later", {"partnerzy.3.nazwa": "usunięty"}),  # an entry that is not (or no longer) there
    ("next", {"partnerzy": "6"}),  # above the list's maximum
    ("remove:partnerzy.3", {}),
    ("confirm_remove:partnerzy.1000000000", {}),
    ("add:stale", {}),
    ("add:partnerzy.1", {}),
]


@pytest.mark.parametrize(("action", "extra"), HOSTILE)
def test_a_forged_post_gets_a_clear_refusal_and_changes_nothing(respondent, app, action, extra):
    form = _two_partners(respondent)
    before = stored(app, respondent.token)
    data = {**shown_values(form), "partnerzy.1.nazwa": "Zmieniona", **extra}
    sent = respondent.send(form, data, action)
    assert sent.status_code == 200
    text = page_text(sent)
    assert (
        "Na tej liście nie ma takiej pozycji." in text
        or "Ta lista mieści najwyżej 5 pozycji." in text
        or "Na tej stronie nie ma takiej listy." in text
    ), text[:800]
    after = stored(app, respondent.token)
    assert (after.answers, after.revision) == (before.answers, before.revision)


def test_a_full_list_offers_no_add_and_refuses_one_more(respondent, app):
    form = to_partners_page(respondent)
    for _ in range(5):
        form, _ = _follow(respondent, press(respondent, form, "add:partnerzy"))
    assert "add:partnerzy" not in form.buttons
    assert "Ta lista mieści najwyżej 5 pozycji." in text_of(form.html)
    before = stored(app, respondent.token)
    sent = press(respondent, form, "add:partnerzy")
    assert sent.status_code == 200 and "Ta lista mieści najwyżej 5 pozycji." in page_text(sent)
    assert stored(app, respondent.token).revision == before.revision


def _complete(respondent: Respondent) -> None:
    form = _two_partners(respondent)
    form = respondent.next(form, {"partnerzy.1.etaty": "0", "partnerzy.2.etaty": "0"})
    form = respondent.next(form)
    assert respondent.next(form) is None


def _response_id(app, fieldwork_id: int) -> int:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(select(Response.id).where(Response.fieldwork_id == fieldwork_id))


def _changes(app, action: str) -> list[tuple[str, object, object]]:
    with app.extensions["ankieta.db"].session() as session:
        rows = session.scalars(
            select(ResponseChange)
            .where(ResponseChange.action == action)
            .order_by(ResponseChange.id)
        )
        return [(c.variable, c.old_value, c.new_value) for c in rows]


def test_corrections_of_a_reopened_response_are_logged_per_entry_and_field(
    respondent, app, client, login_as
):
    _complete(respondent)
    login_as(Role.ANALYST)
    viewer = f"/fieldwork/{respondent.fieldwork_id}/responses/"
    viewer += str(_response_id(app, respondent.fieldwork_id))
    assert client.post(f"{viewer}/reopen", data={"reason": "Zła nazwa"}).status_code == 302
    form = respondent.open(f"{respondent.link}/p/partnerzy")
    asked = press(respondent, form, "remove:partnerzy.1", {"partnerzy.2.nazwa": "Szansa"})
    form = respondent.open(asked.location)
    assert press(respondent, form, "confirm_remove:partnerzy.1").status_code == 302
    assert _changes(app, "changed") == [
        ("partnerzy[2].nazwa", "Fundacja Szansa", "Szansa"),
        ("partnerzy", 2, 1),
        ("partnerzy[1].miejsca", None, 3),
        ("partnerzy[1].nazwa", "Gmina Rybnik", "Szansa"),
        ("partnerzy[1].typ_partnera", "jst", "firma"),
        ("partnerzy[2].etaty", [], None),
        ("partnerzy[2].miejsca", 3, None),
        ("partnerzy[2].nazwa", "Szansa", None),
        ("partnerzy[2].typ_partnera", "firma", None),
    ]


def test_staff_see_the_entries_and_correct_one_logged_per_entry_and_field(
    respondent, app, client, login_as
):
    _complete(respondent)
    login_as(Role.ANALYST)
    response_id = _response_id(app, respondent.fieldwork_id)
    viewer = client.get(f"/fieldwork/{respondent.fieldwork_id}/responses/{response_id}")
    text = viewer.get_data(as_text=True)
    assert "<legend>Partner 2: Fundacja Szansa</legend>" in text
    assert 'value="Fundacja Szansa"' in text and "add:partnerzy" not in text
    edit = f"/fieldwork/{respondent.fieldwork_id}/responses/{response_id}/edit/partnerzy"
    form = parse_form(client.get(edit))
    assert form.fields["partnerzy.2.nazwa"].value == "Fundacja Szansa"
    assert not any(b.startswith(("add:", "remove:")) for b in form.buttons)
    data = {**shown_values(form), "partnerzy.2.nazwa": "Fundacja Szansa Plus"}
    data.update(reason="Pełna nazwa z KRS", revision=form.revision, action="save")
    saved = client.post(edit, data=data)
    assert saved.status_code == 302, page_text(saved)[:600]
    assert "partnerzy[2].nazwa" in page_text(client.get(saved.location))
    assert _changes(app, "edited") == [
        ("partnerzy[2].nazwa", "Fundacja Szansa", "Fundacja Szansa Plus")
    ]
    assert stored(app, respondent.token).answers["partnerzy"][1]["nazwa"] == "Fundacja Szansa Plus"


def test_saved_for_later_an_entry_answer_not_kept_is_named_with_its_entry(respondent, app):
    form = _two_partners(respondent)
    saved = press(respondent, form, "later", {"partnerzy.2.miejsca": "dużo"})
    assert saved.status_code == 200
    text = page_text(saved)
    assert "Partner 2: Fundacja Szansa: Miejsca pracy" in text and "dużo" in text
    assert stored(app, respondent.token).answers["partnerzy"][1]["miejsca"] == 3


def test_the_preview_adds_asks_keeps_and_removes_entries_storing_nothing(
    respondent, app, client, login_as
):
    login_as(Role.ANALYST)
    with app.extensions["ankieta.db"].session() as session:
        survey_id = session.scalar(select(Survey.id).where(Survey.code == "partnerzy_test"))
    base = f"/surveys/{survey_id}/versions/1/preview/web"
    shown = client.get(base)
    responses_before = _count_responses(app)

    def press_in_preview(page, action: str, answers=None):
        form = parse_form(page)
        data = {**shown_values(form), **(answers or {}), "revision": "0", "action": action}
        sent = client.post(base, data=data)
        assert sent.status_code == 200, page_text(sent)[:600]
        return sent

    shown = press_in_preview(shown, "next", {"liczba": "1"})
    shown = press_in_preview(shown, "add:partnerzy")
    shown = press_in_preview(shown, "add:partnerzy", {"partnerzy.1.nazwa": "Caritas"})
    assert "<legend>Partner 1: Caritas</legend>" in shown.get_data(as_text=True)
    shown = press_in_preview(shown, "remove:partnerzy.1")
    assert "Usunąć: Partner 1: Caritas?" in page_text(shown)
    shown = press_in_preview(shown, "keep:partnerzy.1")
    assert "Usunąć:" not in page_text(shown)
    shown = press_in_preview(shown, "confirm_remove:partnerzy.1")
    form = parse_form(shown)
    assert "partnerzy.2.nazwa" not in form.fields and "partnerzy.1.nazwa" in form.fields
    assert form.fields["partnerzy.1.nazwa"].value == ""  # the second entry moved up
    assert _count_responses(app) == responses_before


def _count_responses(app) -> int:
    with app.extensions["ankieta.db"].session() as session:
        return len(session.scalars(select(Response.id)).all())


@pytest.mark.parametrize(
    "forged", [{"partnerzy.3.nazwa": "Dopisany"}, {"partnerzy": "10000"}, {"partnerzy.9": "1"}]
)
def test_a_forged_list_in_a_staff_edit_is_refused_and_changes_nothing(
    respondent, app, client, login_as, forged
):
    _complete(respondent)
    login_as(Role.ANALYST)
    response_id = _response_id(app, respondent.fieldwork_id)
    edit = f"/fieldwork/{respondent.fieldwork_id}/responses/{response_id}/edit/partnerzy"
    form = parse_form(client.get(edit))
    before = stored(app, respondent.token)
    data = {**shown_values(form), "partnerzy.1.nazwa": "Zmieniona", **forged}
    data.update(reason="Próba", revision=form.revision, action="save")
    refused = client.post(edit, data=data)
    assert refused.status_code == 400
    text = page_text(refused)
    assert "Na tej liście nie ma takiej pozycji." in text or "najwyżej 5 pozycji" in text
    after = stored(app, respondent.token)
    assert (after.answers, after.revision) == (before.answers, before.revision)
    assert _changes(app, "edited") == []
