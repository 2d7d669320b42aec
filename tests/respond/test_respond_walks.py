"""Each shipped questionnaire walked through the respondent's web form, from the personal link.

The form is filled the way a person does it: the page's HTML is parsed (``RespondentForm``),
every field gets a small valid value (the first answer of a list, ``1`` in a number field,
today in a date field) unless the scenario gives an explicit one where a constraint needs it,
and the page is sent with the button the person would press.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.support import page_text, unit_token
from tests.support.respondent import (
    REQUIRED,
    SCENARIOS,
    Respondent,
    field_error,
    fill,
    form_value,
    parse_form,
    response_count,
    set_closing_date,
    stored,
    summary_errors,
    summary_rows,
)


@pytest.fixture
def respondent_of(app, make_fieldwork):
    """Put a shipped questionnaire in the field for one institution; a Respondent on its link."""

    def factory(survey: str, *, client=None) -> Respondent:
        scenario = SCENARIOS[survey]
        fieldwork_id = make_fieldwork(
            survey, units=[("X-01", scenario.unit_name, {"entity_type": scenario.entity_type})]
        )
        token = unit_token(app, fieldwork_id, "X-01")
        return Respondent(client or app.test_client(), token, fieldwork_id)

    return factory


# --- the walks --------------------------------------------------------------------------------


@pytest.mark.parametrize("survey", SCENARIOS)
def test_start_page_shows_survey_title_institution_and_closing_date(app, respondent_of, survey):
    scenario = SCENARIOS[survey]
    respondent = respondent_of(survey)
    set_closing_date(app, respondent.fieldwork_id, date(2026, 3, 31))
    response = respondent.client.get(respondent.link)
    assert response.status_code == 200
    text = page_text(response)
    assert scenario.title in text
    assert f"Instytucja: {scenario.unit_name}" in text
    assert "Prosimy o przesłanie odpowiedzi do 31.03.2026." in text
    assert "Rozpocznij" in text
    assert stored(app, respondent.token) is None  # opening the link starts nothing


@pytest.mark.parametrize("survey", SCENARIOS)
def test_questionnaire_is_walked_page_by_page_to_the_thank_you_summary(app, respondent_of, survey):
    scenario = SCENARIOS[survey]
    respondent = respondent_of(survey)
    form = respondent.begin()
    seen, buttons, percents = [], [], []
    while form is not None:
        seen.append(form.page_id)
        text = page_text(respondent.client.get(form.path))
        assert f"{scenario.title} · {scenario.unit_name}" in text
        percents.append(int(re.search(r"Postęp: (\d+)%", text).group(1)))
        assert ("Wstecz" in text) == (len(seen) > 1)
        buttons.append(form.buttons[0])  # the one Enter presses
        form = respondent.next(form, scenario.answers)
    assert seen == scenario.pages
    assert percents[0] == 0 and percents == sorted(percents) and percents[-1] < 100
    assert "Wyślij odpowiedzi" in text
    assert buttons == ["next"] * (len(seen) - 1) + ["submit"]

    done = respondent.client.get(f"{respondent.link}/done")
    assert done.status_code == 200
    text = page_text(done)
    assert "Dziękujemy — Twoje odpowiedzi zostały wysłane" in text
    assert scenario.unit_name in text
    rows = summary_rows(done)
    for row in scenario.summary:
        assert row in rows
    saved = stored(app, respondent.token)
    assert saved.status == "complete"
    assert response_count(app, respondent.fieldwork_id) == 1


# validation: (survey, page, answers on the page, {variable: message shown})
VALIDATION_CASES = [
    pytest.param(
        "monitoring_cis_kis",
        "a",
        {"a1": None, "a3": "dwa tysiące", "a4": "2000"},
        {
            "a1": REQUIRED,
            "a3": "Podaj liczbę całkowitą.",
            "a4": "Rok utworzenia musi przypadać między 2003 a rokiem, którego dotyczą dane.",
        },
        id="cis_kis-required-integer-constraint",
    ),
    pytest.param(
        "monitoring_cis_kis",
        "b",
        {"b1_k": "1", "b1_m": "1", "b2": "2", "b3": "1"},
        {
            "b3": "Osoby, które ukończyły i przerwały zajęcia, razem nie mogą przekroczyć "
            "liczby uczestników."
        },
        id="cis_kis-cross-field-constraint",
    ),
    pytest.param(
        "jst_gmina",
        "b",
        {"b1": "1", "b2": None, "b3": "501"},
        {"b2": REQUIRED, "b3": "Podaj liczbę umów od 0 do 500."},
        id="jst-nested-group-required-and-range",
    ),
    pytest.param(
        "jst_gmina",
        "b",
        {"b1": "2", "b6": ["wiedza", "kontrola", "wykonawcy", "koszty"]},
        {"b6": "Wskaż najwyżej trzy przyczyny."},
        id="jst-at-most-three-reasons",
    ),
    pytest.param(
        "jst_gmina",
        "g",
        {"g1": ["klauzule", "brak"]},
        {"g1": "Odpowiedzi „Gmina nie planuje takich działań” nie można łączyć z innymi."},
        id="jst-exclusive-answer",
    ),
    pytest.param(
        "ocena_koordynacji",
        "b",
        {"b1_cele": None, "b2_owes_jst": "7"},
        {"b1_cele": REQUIRED, "b2_owes_jst": "Wybierz jedną z podanych odpowiedzi."},
        id="ocena-matrix-row-missing-and-unknown-code",
    ),
    pytest.param(
        "ocena_koordynacji",
        "d",
        {"d1": "11", "d2": None},
        {"d1": "Ocena musi być liczbą od 0 do 10.", "d2": REQUIRED},
        id="ocena-rating-out-of-range",
    ),
    pytest.param(
        "ocena_koordynacji",
        "d",
        {"d1": None},
        {"d1": "Prosimy o ocenę od 0 do 10 albo zaznaczenie „nie wiem”."},
        id="ocena-own-required-message",
    ),
    pytest.param(
        "owes_polroczne",
        "a",
        {"a1": "polnocny", "a3": "2014", "a4": "katowice"},
        {"a3": "Podaj rok od 2015 do 2035.", "a4": "Wybierz jedną z podanych odpowiedzi."},
        id="owes-year-and-gmina-outside-the-subregion",
    ),
    pytest.param(
        "owes_polroczne",
        "b",
        {"b1": "1", "b2": "2", "b5": "pięć"},
        {
            "b2": "Liczba spółdzielni nie może przekroczyć liczby nowych przedsiębiorstw "
            "społecznych.",
            "b5": "Podaj liczbę całkowitą.",
        },
        id="owes-part-above-whole-and-not-a-number",
    ),
    pytest.param(
        "owes_polroczne",
        "d",
        {"d2": "17.03.2026"},
        {"d2": "Data nie może być późniejsza niż dzisiejsza."},
        id="owes-date-after-today",
    ),
    pytest.param(
        "owes_polroczne",
        "d",
        {"d2": "31.02.2026"},
        {"d2": "Podaj datę w formacie DD.MM.RRRR."},
        id="owes-date-that-does-not-exist",
    ),
]


@pytest.mark.parametrize(("survey", "page_id", "answers", "errors"), VALIDATION_CASES)
def test_invalid_page_is_shown_again_with_errors_at_fields_and_in_summary(
    app, respondent_of, survey, page_id, answers, errors
):
    scenario = SCENARIOS[survey]
    respondent = respondent_of(survey)
    form = respondent.go_to(page_id, scenario.answers)
    before = stored(app, respondent.token)

    response = respondent.send(form, fill(form, {**scenario.answers, **answers}))

    assert response.status_code == 200  # shown again, not redirected onwards
    text = response.get_data(as_text=True)
    shown = parse_form(response)
    assert shown.path == form.path
    listed = summary_errors(text)
    for name, message in errors.items():
        assert field_error(text, name) == f"Błąd: {message}", name
        assert any(target.startswith(f"q-{name}") and message in label for target, label in listed)
        if shown.fields[name].kind != "choice":
            assert re.search(rf'id="q-{name}"[^>]*aria-invalid="true"', text), name
            assert re.search(rf'id="q-{name}"[^>]*aria-describedby="[^"]*e-{name}', text), name
    assert len(listed) == len(errors)
    assert page_text(response).startswith("Błąd:")  # the title says so first
    # What was typed stays in the form, to be corrected rather than typed again.
    for name, value in answers.items():
        if value is not None and shown.fields[name].kind != "choice":
            assert form_value(shown, name) == value
    assert stored(app, respondent.token) == before  # nothing saved, nothing advanced


def test_monitoring_skips_participant_pages_when_their_filters_are_false(app, respondent_of):
    respondent = respondent_of("monitoring_cis_kis")
    answers = {**SCENARIOS["monitoring_cis_kis"].answers}
    form = respondent.go_to("b", answers)
    assert "Postęp: 12%" in page_text(respondent.client.get(form.path))  # page 2 of 8

    # Nobody took part: "${b1} > 0" is false, C is skipped; "${b2} > 0" too, D as well.
    after_b = respondent.next(form, {"b1_k": "0", "b1_m": "0", "b2": "0", "b3": "0"})
    assert after_b.page_id == "e"
    assert respondent.client.get(f"{respondent.link}/p/c").location.endswith("/p/e")

    # Back to B: participants but no graduates: C is shown, D still skipped.
    form = respondent.back(after_b)
    assert form.page_id == "b"
    form = respondent.next(form, {"b1_k": "2", "b1_m": "1", "b2": "0", "b3": "1"})
    assert form.page_id == "c"
    assert "(ogółem: 3)" in page_text(respondent.client.get(form.path))  # ${b1} = 2 + 1
    form = respondent.next(form, {})
    assert form.page_id == "e"

    # With graduates D is shown, and the KIS-only question in it.
    back = respondent.back(respondent.back(form))
    assert back.page_id == "b"
    form = respondent.next(back, {"b2": "2", "b3": "1"})
    form = respondent.next(form, {})
    assert form.page_id == "d"
    assert not form.is_hidden("d6")  # relevant: "${a1} = 'kis'"


def test_monitoring_shows_places_question_only_for_a_cis(app, respondent_of):
    respondent = respondent_of("monitoring_cis_kis")
    form = respondent.begin()
    assert form.is_hidden("a5")  # nothing chosen yet: "${a1} = 'cis'" is false
    form = respondent.next(form, {"a1": "kis", "a4": "2010", "a5": "40"})
    assert "a5" not in stored(app, respondent.token).answers  # irrelevant: not stored

    back = respondent.back(form)
    assert back.is_hidden("a5")
    respondent.next(back, {"a1": "cis", "a4": "2010", "a5": "40"})
    assert stored(app, respondent.token).answers["a5"] == 40
    again = respondent.open(f"{respondent.link}/p/a")
    assert not again.is_hidden("a5")
    assert form_value(again, "a5") == "40"


def test_jst_asks_about_clauses_or_about_barriers_depending_on_b1(app, respondent_of):
    respondent = respondent_of("jst_gmina")
    form = respondent.go_to("b")
    assert form.is_hidden("b_klauzule") and form.is_hidden("b6")

    # "No": the clauses group ("${b1} = '1'") is skipped, the barriers ("${b1} = '2'") asked.
    respondent.next(form, {"b1": "2", "b2": ["zastrzezenie"], "b3": "3", "b6": ["wiedza"]})
    answers = stored(app, respondent.token).answers
    assert answers["b6"] == ["wiedza"]
    assert not {"b2", "b3"} & set(answers)
    shown = respondent.open(f"{respondent.link}/p/b")
    assert shown.is_hidden("b_klauzule") and not shown.is_hidden("b6")
    assert shown.is_hidden("b4")  # nested: "${b3} > 0" inside the hidden group

    # "Yes": the other way round; the barriers stay stored but leave the result.
    respondent.next(shown, {"b1": "1", "b2": ["kryterium"], "b3": "0", "b6": ["koszty"]})
    answers = stored(app, respondent.token).answers
    assert answers["b2"] == ["kryterium"] and answers["b3"] == 0
    assert answers["b6"] == ["wiedza"]  # kept as it was, not overwritten while irrelevant
    shown = respondent.open(f"{respondent.link}/p/b")
    assert not shown.is_hidden("b_klauzule") and shown.is_hidden("b6")
    assert shown.is_hidden("b4") and shown.is_hidden("b5")  # no contracts: no value asked


def test_jst_does_not_ask_about_a_plan_the_gmina_already_has(app, respondent_of):
    respondent = respondent_of("jst_gmina")
    form = respondent.go_to("e")
    # e3's relevance is "not(selected(${e2}, 'plan_es'))": left empty it is not required.
    after = respondent.next(form, {"e1": "1", "e2": ["strategia", "plan_es"], "e3": None})
    assert after.page_id == "f"
    form = respondent.open(f"{respondent.link}/p/e")
    assert form.is_hidden("e3")
    response = respondent.send(form, fill(form, {"e2": ["strategia"], "e3": None}))
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), "e3") == f"Błąd: {REQUIRED}"


def test_ocena_skips_page_c_for_a_business_and_asks_owes_questions_of_an_ngo(app, respondent_of):
    respondent = respondent_of("ocena_koordynacji")
    form = respondent.begin()
    form = respondent.next(form, {"a1": "biznes"})
    assert "Postęp: 25%" in page_text(respondent.client.get(form.path))  # page 2 of 4
    form = respondent.next(form, {})
    assert form.page_id == "d"  # nothing on C applies to a business

    first = respondent.back(respondent.back(form))
    assert first.page_id == "a"
    form = respondent.next(first, {"a1": "ngo"})
    form = respondent.next(form, {})
    assert form.page_id == "c"
    assert form.is_hidden("c1")  # only gminas, powiats and social assistance
    assert not form.is_hidden("c2") and form.is_hidden("c3")
    response = respondent.send(form, fill(form, {"c2": "1", "c3": None}))
    assert field_error(response.get_data(as_text=True), "c3") == f"Błąd: {REQUIRED}"
    respondent.next(form, {"c2": "2", "c3": None})
    answers = stored(app, respondent.token).answers
    assert answers["c2"] == "2" and "c3" not in answers and "c1_uslugi" not in answers


def test_owes_asks_follow_ups_only_when_there_was_advice_training_or_grants(app, respondent_of):
    respondent = respondent_of("owes_polroczne")
    answers = SCENARIOS["owes_polroczne"].answers
    form = respondent.go_to("c", answers)
    zero = {"c1": "0", "c2": None, "c3": "0", "c4": None, "c5": "0", "c6": None}
    after = respondent.next(form, zero)
    assert after.page_id == "d"
    saved = stored(app, respondent.token).answers
    assert not {"c2", "c4", "c6"} & set(saved)
    form = respondent.open(f"{respondent.link}/p/c")
    assert form.is_hidden("c2") and form.is_hidden("c4") and form.is_hidden("c6")
    assert form.is_hidden("c_srednia_info")

    response = respondent.send(form, fill(form, {**zero, "c1": "10", "c3": "1", "c5": "1"}))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for name in ("c2", "c4", "c6"):
        assert field_error(text, name) == f"Błąd: {REQUIRED}"


def _as_list(value: str | list[str]) -> list[str]:
    """A field's value as a list; a decimal comma as the point the form shows it back with."""
    values = value if isinstance(value, list) else [value]
    return [re.sub(r"^([0-9]+),([0-9]+)$", r"\1.\2", v) for v in values]


@pytest.mark.parametrize("survey", SCENARIOS)
def test_back_keeps_the_answers_of_both_pages(app, respondent_of, survey):
    scenario = SCENARIOS[survey]
    respondent = respondent_of(survey)
    first = respondent.begin()
    sent_first = fill(first, scenario.answers)
    second = respondent.next(first, scenario.answers)
    typed = fill(second, scenario.answers)

    response = respondent.send(second, typed, action="back")
    assert response.status_code == 302
    back = respondent.open(response.location)
    assert back.page_id == first.page_id
    saved = stored(app, respondent.token).answers
    assert saved, "nothing saved"
    for name, value in sent_first.items():
        if name in saved:  # (irrelevant fields sent along are not stored, nor shown)
            assert _as_list(form_value(back, name)) == _as_list(value), name

    again = respondent.next(back, {})
    assert again.page_id == second.page_id
    for name, value in typed.items():
        if name in saved:  # what was typed before pressing Back was saved, and is shown
            assert _as_list(form_value(again, name)) == _as_list(value), name
    assert any(name in saved for name in typed)


@pytest.mark.parametrize("survey", SCENARIOS)
def test_save_and_finish_later_resumes_on_another_device_with_answers_kept(
    app, respondent_of, survey
):
    scenario = SCENARIOS[survey]
    respondent = respondent_of(survey)
    index = 2
    form = respondent.go_to(scenario.pages[index], scenario.answers)
    while len(form.fields) < 2:  # one answer to keep, one to leave: else the next page
        form = respondent.next(form, scenario.answers)
        index += 1
    third = scenario.pages[index]
    assert form.page_id == third
    typed = fill(form, scenario.answers)
    left_for_later = list(typed)[-1]
    del typed[left_for_later]

    response = respondent.send(form, typed, action="later")
    assert response.status_code == 200
    assert "Twoje odpowiedzi zostały zapisane" in page_text(response)
    saved = stored(app, respondent.token)
    assert saved.status == "in_progress"
    assert saved.last_page == scenario.pages[index - 1]  # the last page sent with Next
    kept = [name for name in typed if name in saved.answers]
    assert kept and left_for_later not in saved.answers

    other_device = Respondent(app.test_client(), respondent.token)
    start = other_device.client.get(other_device.link)
    assert "Kontynuuj" in page_text(start) and "Rozpocznij" not in page_text(start)
    resumed = other_device.begin()
    assert resumed.page_id == third
    for name in kept:
        assert _as_list(form_value(resumed, name)) == _as_list(typed[name]), name
    assert other_device.client.get(f"{other_device.link}/resume").location.endswith(f"/p/{third}")
    # Earlier pages are kept too, and the form can be finished from here.
    first = other_device.open(f"{other_device.link}/p/{scenario.pages[0]}")
    assert any(form_value(first, name) for name in first.fields)
    seen, _ = other_device.walk(scenario.answers)
    assert seen == scenario.pages[index:]
    assert stored(app, respondent.token).status == "complete"
    assert response_count(app, respondent.fieldwork_id) == 1


@pytest.mark.parametrize("survey", SCENARIOS)
def test_sent_questionnaire_leads_to_thank_you_page_and_cannot_be_changed(
    app, respondent_of, survey
):
    scenario = SCENARIOS[survey]
    respondent = respondent_of(survey)
    respondent.walk(scenario.answers)
    sent = stored(app, respondent.token)
    assert sent.status == "complete"
    done = f"{respondent.link}/done"

    for path in ("", "/resume", *(f"/p/{page}" for page in scenario.pages)):
        response = respondent.client.get(f"{respondent.link}{path}")
        assert response.status_code == 302 and response.location == done, path
    another_device = app.test_client()
    assert another_device.get(respondent.link).location == done

    first = scenario.pages[0]
    changed = respondent.client.post(
        f"{respondent.link}/p/{first}",
        data={"revision": str(sent.revision), "action": "submit", "a1": "inny"},
    )
    assert changed.status_code == 302 and changed.location == done
    text = page_text(respondent.client.get(done))
    assert "Ten kwestionariusz został już wysłany; nie można go zmienić." in text
    restarted = respondent.client.post(f"{respondent.link}/start", data={})
    assert restarted.status_code == 302
    assert respondent.client.get(restarted.location).location == done

    assert stored(app, respondent.token) == sent
    assert response_count(app, respondent.fieldwork_id) == 1


def test_a_saved_date_is_shown_back_as_the_respondent_typed_it(app, respondent_of):
    respondent = respondent_of("owes_polroczne")
    form = respondent.go_to("d", SCENARIOS["owes_polroczne"].answers)
    assert "(DD.MM.RRRR)" in page_text(respondent.client.get(form.path))
    response = respondent.send(form, {"d1": "", "d2": "02.03.2026"}, action="later")
    assert response.status_code == 200
    assert stored(app, respondent.token).answers["d2"] == "2026-03-02"
    again = respondent.open(f"{respondent.link}/p/d")
    assert form_value(again, "d2") == "02.03.2026"
