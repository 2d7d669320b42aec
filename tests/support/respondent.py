"""The respondent's web form as a test sees it: the page parsed (``RespondentForm``) and
filled the way a person does it, what a personal link stored, and the shipped
questionnaires' scenarios (the answers a walk needs where a constraint asks for them).

Every field gets a small valid value (the first answer of a list, ``1`` in a number field,
today in a date field) unless the scenario gives an explicit one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select

from app.models.fieldwork import Fieldwork, Response, SampleUnit

TODAY = "16.03.2026"  # the `clock` fixture's date in Warsaw
MISSING_VALUES = ("__dk__", "__rf__")
GENERIC_VALUES = {
    "integer": "1",
    "decimal": "1",
    "date": TODAY,
    "time": "08:30",
    "datetime": f"{TODAY} 08:30",
    "text": "Odpowiedź testowa",
    "textarea": "Uwagi testowe",
    "points": "50.1 19.1\n50.2 19.1\n50.2 19.2",  # a line or a shape (closed by the server)
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
    # choice, integer, decimal, date, time, datetime, range, text, textarea, points
    # (a geotrace or geoshape), geopoint (its parts in ``parts``), rank (``ranks``), file
    # (with a "remove" box in ``options`` when a file was sent)
    kind: str = "choice"
    value: str = ""
    options: list[Option] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # a geopoint's latitude, longitude, ...
    ranks: list[list[str]] = field(default_factory=list)  # a rank: each select's options
    minimum: str = ""  # a range's start
    selected: list[str] = field(default_factory=list)  # a rank's chosen options

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
    # the other hidden fields it sends (a list's count and its entries' marks, ...)
    hidden_fields: dict[str, str] = field(default_factory=dict)

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
        self.hidden_fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._dropdown = False  # the select open is a dropdown (else a rank's)

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
            long = a.get("maxlength") != "10000"  # a geotrace's or geoshape's points
            self._field(name).kind = "points" if long else "textarea"
        elif tag == "input" and a.get("type") == "hidden":
            if name == "revision":
                self.revision = a.get("value", "")
            elif name != "csrf_token":
                self.hidden_fields[name] = a.get("value", "")
        elif tag == "input" and a.get("type") in ("radio", "checkbox"):
            option = Option(a.get("value", ""), "checked" in a, "disabled" in a)
            self._field(name).options.append(option)
        elif tag == "select" and name and "dropdown" in a.get("class", "").split():
            self._select = name  # XLSForm's minimal: a choice of its options
            self._dropdown = True
            self._field(name)
        elif tag == "select" and name:
            self._select = name
            self._dropdown = False
            ranked = self._field(name)
            ranked.kind = "rank"
            ranked.ranks.append([])
        elif tag == "option" and self._select and self._dropdown:
            if a.get("value"):
                option = Option(a["value"], "selected" in a, "disabled" in a)
                self.fields[self._select].options.append(option)
        elif tag == "option" and self._select:
            if a.get("value"):
                ranked = self.fields[self._select]
                ranked.ranks[-1].append(a["value"])
                if "selected" in a:
                    ranked.selected.append(a["value"])
        elif tag == "input" and a.get("type") == "file":
            self._field(name).kind = "file"  # sent as a file (a test gives one), or not
        elif tag == "input" and a.get("id", "").endswith(("-lon", "-alt", "-acc")):
            point = self._field(name)  # a geopoint's further parts, after its latitude
            point.kind = "geopoint"
            point.parts.append(a.get("value", ""))
        elif tag == "input":
            typed = self._field(name)
            typed.value = a.get("value", "")
            typed.parts = [typed.value]
            if a.get("type") == "number":
                typed.kind = "range"
                typed.minimum = a.get("min", "")
            elif a.get("maxlength") == "8":
                typed.kind = "time"
            elif a.get("maxlength") == "20":
                typed.kind = "datetime"
            elif a.get("maxlength") == "255":
                typed.kind = "text"  # a barcode
            elif a.get("inputmode") == "numeric":
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
        elif tag == "select":
            self._select = None

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
        parser.hidden_fields,
    )


ANOTHER = "_another"  # the roster's "is there another?" (app.interview.roster)


def generic_value(item: FormField) -> str | list[str] | None:
    """A small valid answer: what is there already, else the first answer or a small value."""
    if item.kind == "geopoint":
        return item.parts if item.parts[0] else ["50.26", "19.02", "", ""]
    if item.kind == "rank":  # the first select ranks first, the next second, ...
        return [options[n] for n, options in enumerate(item.ranks)]
    if item.kind == "range":
        return item.value or item.minimum or "0"
    if item.kind == "file":  # no file unless the scenario gives one: (bytes, name)
        return None
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
    data: dict[str, Any] = dict(form.hidden_fields)
    for name, item in form.fields.items():
        value = answers[name] if name in answers else generic_value(item)
        if value is not None:
            data[name] = value
    if ANOTHER in form.fields and ANOTHER not in answers:
        # the interviewer's roster: no (other) entry, as a web respondent who adds none
        data[ANOTHER] = "no"
    return data


def shown_values(form: RespondentForm) -> dict[str, Any]:
    """What the browser sends for the page as it is shown: the values and ticks on it."""
    data: dict[str, Any] = dict(form.hidden_fields)
    for name in form.fields:
        value = form_value(form, name)
        if value:
            data[name] = value
    return data


def form_value(form: RespondentForm, name: str) -> str | list[str]:
    """What the page shows for a variable: its text, or the ticked codes."""
    item = form.fields[name]
    if item.kind == "rank":
        return item.selected
    if item.kind == "geopoint":
        return item.parts
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


def text_of(fragment: str) -> str:
    """An HTML fragment's text as a reader sees it (tags gone, white space collapsed)."""
    return _plain(fragment)


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
            "pe_kompletna": "2",  # the list of enterprises is not complete
        },
        pages=["a", "b", "przedsiebiorstwa", "b_podsumowanie", "c", "d"],
        summary=[
            ("Gmina, w której OWES prowadził najwięcej działań w tym półroczu", "Rybnik"),
            ("Liczba godzin doradztwa udzielonego w półroczu", "120,5"),
        ],
    ),
}
