"""Each shipped questionnaire walked through the respondent's web form, from the personal link.

The form is filled the way a person does it: the page's HTML is parsed (``RespondentForm``),
every field gets a small valid value (the first answer of a list, ``1`` in a number field,
today in a date field) unless the scenario gives an explicit one where a constraint needs it,
and the page is sent with the button the person would press.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, or_, select

from app.models.fieldwork import Fieldwork, Response, SampleUnit
from tests.support import page_text, unit_token

TODAY = "16.03.2026"  # the `clock` fixture's date in Warsaw
MISSING_VALUES = ("__dk__", "__rf__")
GENERIC_VALUES = {
    "integer": "1",
    "decimal": "1",
    "date": TODAY,
    "text": "Odpowiedź testowa",
    "textarea": "Uwagi testowe",
}
REQUIRED = "To pytanie wymaga odpowiedzi."

Answers = Mapping[str, "str | list[str] | None"]


# --- reading the respondent's page ------------------------------------------------------------


@dataclass
class Option:
    value: str
    checked: bool
    disabled: bool


@dataclass
class FormField:
    """One variable's field(s) on the page: a typed input and/or radio or check boxes."""

    name: str
    kind: str = "choice"  # choice, integer, decimal, date, text, textarea
    value: str = ""
    options: list[Option] = field(default_factory=list)

    @property
    def chosen(self) -> list[str]:
        return [o.value for o in self.options if o.checked]


@dataclass
class RespondentForm:
    """What the respondent's page offers: its fields, hidden elements and buttons."""

    path: str
    fields: dict[str, FormField]
    hidden_ids: set[str]
    buttons: list[str]
    revision: str
    html: str

    @property
    def page_id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def is_hidden(self, name: str) -> bool:
        """True when the item (or matrix row, or the `other` text) carries ``hidden``."""
        return f"item-{name}" in self.hidden_ids


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, FormField] = {}
        self.hidden_ids: set[str] = set()
        self.buttons: list[str] = []
        self.revision = ""
        self._in_form = False
        self._textarea: str | None = None

    def _field(self, name: str) -> FormField:
        return self.fields.setdefault(name, FormField(name))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "hidden" in a and a.get("id"):
            self.hidden_ids.add(a["id"])
        if tag == "form" and a.get("id") == "questionnaire":
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "button":
            self.buttons.append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self._field(name).kind = "textarea"
        elif tag == "input" and a.get("type") == "hidden":
            if name == "revision":
                self.revision = a.get("value", "")
        elif tag == "input" and a.get("type") in ("radio", "checkbox"):
            option = Option(a.get("value", ""), "checked" in a, "disabled" in a)
            self._field(name).options.append(option)
        elif tag == "input":
            typed = self._field(name)
            typed.value = a.get("value", "")
            if a.get("inputmode") == "numeric":
                typed.kind = "integer"
            elif a.get("inputmode") == "decimal":
                typed.kind = "decimal"
            elif a.get("autocomplete") == "off":
                typed.kind = "date"
            else:
                typed.kind = "text"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea].value += data


def parse_form(response) -> RespondentForm:
    """The questionnaire form of a rendered respondent page."""
    text = response.get_data(as_text=True)
    parser = _FormParser()
    parser.feed(text)
    assert parser.buttons, f"no questionnaire form on {response.request.path}"
    return RespondentForm(
        response.request.path,
        parser.fields,
        parser.hidden_ids,
        parser.buttons,
        parser.revision,
        text,
    )


def generic_value(item: FormField) -> str | list[str] | None:
    """A small valid answer: what is there already, else the first answer or a small value."""
    if item.kind != "choice":
        return item.value or GENERIC_VALUES[item.kind]
    real = [o for o in item.options if o.value not in MISSING_VALUES and not o.disabled]
    if item.chosen:
        return item.chosen
    return [real[0].value] if real else None


def fill(form: RespondentForm, answers: Answers) -> dict[str, Any]:
    """Every field of the page: the scenario's answer if it has one, else a generic one.

    Hidden (irrelevant) fields are filled too, as a browser that shows them live would
    send them once they appear; the server must ignore them while they stay irrelevant.
    ``None`` in ``answers`` leaves a field empty.
    """
    data: dict[str, Any] = {}
    for name, item in form.fields.items():
        value = answers[name] if name in answers else generic_value(item)
        if value is not None:
            data[name] = value
    return data


def shown_values(form: RespondentForm) -> dict[str, Any]:
    """What the browser sends for the page as it is shown: the values and ticks on it."""
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form_value(form, name)
        if value:
            data[name] = value
    return data


def form_value(form: RespondentForm, name: str) -> str | list[str]:
    """What the page shows for a variable: its text, or the ticked codes."""
    item = form.fields[name]
    return item.chosen if item.kind == "choice" else item.value


def field_error(form_or_html: RespondentForm | str, name: str) -> str | None:
    """The error text shown next to a field (``e-NAME``), or None."""
    text = form_or_html.html if isinstance(form_or_html, RespondentForm) else form_or_html
    match = re.search(rf'id="e-{re.escape(name)}"[^>]*>(.*?)</(?:p|span)>', text, re.S)
    if match is None:
        return None
    return _plain(match.group(1))


def summary_errors(text: str) -> list[tuple[str, str]]:
    """The (link target, text) entries of the error summary at the top of the page."""
    match = re.search(r'id="error-summary">(.*?)</div>', text, re.S)
    if match is None:
        return []
    return [
        (target, _plain(label))
        for target, label in re.findall(r'<a href="#([^"]+)">(.*?)</a>', match.group(1), re.S)
    ]


def summary_rows(response) -> list[tuple[str, str]]:
    """The (question, answer) rows of the thank-you page's summary table."""
    text = response.get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', text, re.S)
    return [(_plain(q), _plain(a)) for q, a in rows]


def _plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


# --- the database side ------------------------------------------------------------------------


@dataclass
class Stored:
    answers: dict[str, Any]
    revision: int
    status: str
    last_page: str | None


def stored(app: Flask, token: str) -> Stored | None:
    """The response behind a personal (or open-survey resume) link as the database holds it
    (None: not started)."""
    with app.extensions["ankieta.db"].session() as session:
        response = session.scalar(
            select(Response)
            .outerjoin(SampleUnit, SampleUnit.id == Response.sample_unit_id)
            .where(or_(SampleUnit.token == token, Response.open_token == token))
        )
        if response is None:
            return None
        return Stored(
            dict(response.answers), response.revision, response.status, response.last_page
        )


def response_count(app: Flask, fieldwork_id: int) -> int:
    with app.extensions["ankieta.db"].session() as session:
        return session.scalar(
            select(func.count()).select_from(Response).where(Response.fieldwork_id == fieldwork_id)
        )


def set_closing_date(app: Flask, fieldwork_id: int, closes_on: date) -> None:
    with app.extensions["ankieta.db"].session() as session:
        session.get(Fieldwork, fieldwork_id).closes_on = closes_on


# --- a respondent -----------------------------------------------------------------------------


class Respondent:
    """One person with a personal link, in one browser (a test client)."""

    def __init__(self, client, token: str, fieldwork_id: int | None = None) -> None:
        self.client = client
        self.token = token
        self.link = f"/r/{token}"
        self.fieldwork_id = fieldwork_id

    def begin(self) -> RespondentForm:
        """Open the link, press Start (or Continue) and land on a page of the form."""
        assert self.client.get(self.link).status_code == 200
        response = self.client.post(f"{self.link}/start", data={})
        assert response.status_code == 302, response.status_code
        return self.open(response.location)

    def open(self, path: str) -> RespondentForm:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.location)
        return parse_form(response)

    def send(self, form: RespondentForm, data: Mapping[str, Any], action: str = "next"):
        return self.client.post(
            form.path, data={"revision": form.revision, "action": action, **data}
        )

    def next(self, form: RespondentForm, answers: Answers | None = None) -> RespondentForm | None:
        """Fill the page, press Next (Send on the last page); the following page or None."""
        action = "submit" if "submit" in form.buttons else "next"
        response = self.send(form, fill(form, answers or {}), action)
        assert response.status_code == 302, (
            form.page_id,
            response.status_code,
            [(n, field_error(response.get_data(as_text=True), n)) for n in form.fields],
        )
        if response.location.endswith("/done"):
            return None
        return self.open(response.location)

    def back(self, form: RespondentForm) -> RespondentForm:
        """Press Back on the page as it is shown; the previous page."""
        response = self.send(form, shown_values(form), action="back")
        assert response.status_code == 302, response.status_code
        return self.open(response.location)

    def walk(self, answers: Answers, until: str | None = None) -> tuple[list[str], Any]:
        """Go page by page from wherever the link leads; the page ids seen and the last page.

        Stops on the page ``until`` (not sent) or after sending the last page.
        """
        form = self.begin()
        seen: list[str] = []
        while form is not None:
            seen.append(form.page_id)
            if form.page_id == until:
                return seen, form
            form = self.next(form, answers)
        return seen, None

    def go_to(self, page_id: str, answers: Answers | None = None) -> RespondentForm:
        seen, form = self.walk(answers or {}, until=page_id)
        assert form is not None, f"page {page_id} never came; saw {seen}"
        return form


# --- the four shipped questionnaires ----------------------------------------------------------


@dataclass
class Scenario:
    survey: str
    title: str
    unit_name: str
    entity_type: str
    answers: dict[str, Any]  # explicit answers where a small generic value would not do
    pages: list[str]  # the pages seen with these answers
    summary: list[tuple[str, str]]  # some (question, answer) rows of the thank-you page


SCENARIOS = {
    "monitoring_cis_kis": Scenario(
        survey="monitoring_cis_kis",
        title="Monitoring CIS/KIS – ankieta roczna",
        unit_name="Klub Integracji Społecznej w Żorach",
        entity_type="KIS",
        answers={
            "a1": "kis",
            "a4": "2010",
            "b1_k": "3",
            "b1_m": "2",
            "b2": "2",
            "b3": "1",
            "d1": "1",
            "d2": "0",
            "d3": "0",
            "d4": "0",
            "d5": "1",
            "d6": "0",
            "e4": "Partnerstwo Żorskie",
            "f1": "4",
            "f2": "3,5",
            "g1": "250000,50",
            "g2": "100000",
            "g3": "50000",
            "g4": "25000",
            "g5": "0",
        },
        pages=["a", "b", "c", "d", "e", "f", "g", "h"],
        summary=[
            ("Rodzaj jednostki", "Klub Integracji Społecznej (KIS)"),
            ("Liczba uczestników w 2025 r. – kobiety", "3"),
            ("Liczba etatów", "3,5"),
            ("Nazwa partnerstwa lub porozumienia", "Partnerstwo Żorskie"),
            ("Data wypełnienia ankiety", TODAY),
        ],
    ),
    "jst_gmina": Scenario(
        survey="jst_gmina",
        title="Gmina a ekonomia społeczna – badanie jednostek samorządu terytorialnego",
        unit_name="Gmina Żory",
        entity_type="JST",
        answers={"a1": "sekretarz", "b3": "4", "b4": "120000", "b5": "2", "c2": "3"},
        pages=["a", "b", "c", "d", "e", "f", "g"],
        summary=[
            (
                "Jakie stanowisko zajmuje Pan/Pani w urzędzie gminy lub jednostce gminy?",
                "Sekretarz gminy",
            ),
            ("Ile umów z klauzulami społecznymi gmina zawarła w ubiegłym roku?", "4"),
        ],
    ),
    "ocena_koordynacji": Scenario(
        survey="ocena_koordynacji",
        title="Ocena koordynacji ekonomii społecznej w województwie",
        unit_name="Ośrodek Pomocy Społecznej w Żorach",
        entity_type="JST",
        answers={"a1": "pomoc_spoleczna", "b1_cele": "4", "d1": "7"},
        pages=["a", "b", "c", "d"],
        summary=[
            ("Jaki to rodzaj instytucji?", "Jednostka pomocy społecznej (OPS, MOPS, PCPR)"),
            (
                "W jakim stopniu zgadza się Pan/Pani z poniższymi stwierdzeniami? — "
                "Cele i priorytety rozwoju ekonomii społecznej w regionie są jasno określone.",
                "Raczej się zgadzam",
            ),
        ],
    ),
    "owes_polroczne": Scenario(
        survey="owes_polroczne",
        title="Sprawozdanie półroczne OWES",
        unit_name="OWES Subregionu Zachodniego",
        entity_type="OWES",
        answers={
            "a1": "zachodni",
            "a3": "2025",
            "a4": "rybnik",
            "b1": "2",
            "b3": "5",
            "b4": "3",
            "c1": "120,5",
            "c5": "2",
            "c6": "60000",
        },
        pages=["a", "b", "c", "d"],
        summary=[
            ("Gmina, w której OWES prowadził najwięcej działań w tym półroczu", "Rybnik"),
            ("Liczba godzin doradztwa udzielonego w półroczu", "120,5"),
        ],
    ),
}


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
    third = scenario.pages[2]
    form = respondent.go_to(third, scenario.answers)
    typed = fill(form, scenario.answers)
    left_for_later = list(typed)[-1]
    del typed[left_for_later]

    response = respondent.send(form, typed, action="later")
    assert response.status_code == 200
    assert "Twoje odpowiedzi zostały zapisane" in page_text(response)
    saved = stored(app, respondent.token)
    assert saved.status == "in_progress"
    assert saved.last_page == scenario.pages[1]  # the last page sent with Next
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
    assert seen == scenario.pages[2:]
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
