"""Shared by the HTTP load benchmarks (selffill.py, soak.py): a client's side of the forms.

``Browser`` is one user's browser (its own cookie jar, a new loopback connection per
request); ``fill_form`` fills a questionnaire page of ``monitoring_cis_kis`` with valid
answers; ``missing_answers`` checks that what a client saw acknowledged is stored.
"""

from __future__ import annotations

import html
import http.client
import re
import statistics
import time
from datetime import date, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from app.domain.questionnaire.answers import answers_from_json
from app.models.fieldwork import Response, SampleUnit
from app.models.surveys import flow_of, questionnaire_of
from bench._server import HOST

REQUEST_TIMEOUT = 30.0

# Valid answers for monitoring_cis_kis; the two variants take both branches of its skip
# logic (a5 is asked of a CIS only, d6 of a KIS only). A field not listed here is filled
# from its input type (see fill_form), so small changes to the survey do not stop the run.
ANSWERS_COMMON: dict[str, list[str]] = {
    "a2": ["ngo"],
    "a3": ["2025"],
    "a4": ["2010"],
    "b1_k": ["10"],
    "b1_m": ["12"],
    "b2": ["8"],
    "b3": ["2"],
    **{f"c{n}": [str(n % 4)] for n in range(1, 10)},
    "d1": ["3"],
    "d2": ["1"],
    "d3": ["1"],
    "d4": ["1"],
    "d5": ["1"],
    "e1": ["spoldzielnia", "owes"],
    "e2": ["staze", "doradztwo"],
    "e3": ["1"],
    "e4": ["Partnerstwo na rzecz ekonomii społecznej powiatu"],
    "f1": ["5"],
    "f2": ["3,5"],
    "f3": ["2"],
    "f4": ["kierownik", "instruktor"],
    "g1": ["250000,50"],
    "g2": ["50000"],
    "g3": ["120000,25"],
    "g4": ["30000"],
    "g5": ["10000"],
    "h1": ["Brak uwag. Zajęcia prowadzone były zgodnie z planem; potrzebny większy lokal."],
    "h2": ["Kierownik jednostki"],
}
ANSWERS_VARIANT: list[dict[str, list[str]]] = [
    {"a1": ["cis"], "a5": ["40"]},
    {"a1": ["kis"], "d6": ["2"]},
]

_INPUT = re.compile(r"<input\b([^>]*)>", re.S)
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
_ATTR = re.compile(r'([\w:-]+)(?:="([^"]*)")?')
_FORM = re.compile(r'<form[^>]*id="questionnaire"[^>]*>(.*?)</form>', re.S)
_PRIMARY = re.compile(r'<button type="submit" name="action" value="(\w+)" class="primary"')
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
ERROR_IDS = re.compile(r'<p class="error" id="e-([\w-]+)"')


def csrf_token(page_html: str) -> str:
    """The CSRF token of the first form on the page (ValueError if it has none)."""
    found = _CSRF.search(page_html)
    if found is None:
        raise ValueError("the page has no CSRF token")
    return attributes(found.group(0))["value"]


def attributes(tag: str) -> dict[str, str]:
    return {name: html.unescape(value or "") for name, value in _ATTR.findall(tag)}


def fill_form(page_html: str, variant: int, today: date) -> tuple[dict[str, list[str]], str]:
    """The fields a respondent sends for this page, and the button pressed (next/submit)."""
    found = _FORM.search(page_html)
    if found is None:
        raise ValueError("the page has no questionnaire form")
    page_html = found.group(1)  # not the language switch and other forms of the layout
    answers = {**ANSWERS_COMMON, **ANSWERS_VARIANT[variant]}
    answers["h3"] = [(today - timedelta(days=1)).strftime("%d.%m.%Y")]
    form: dict[str, list[str]] = {}
    choices: dict[str, list[str]] = {}
    for tag in _INPUT.findall(page_html):
        attrs = attributes(tag)
        name = attrs.get("name")
        if not name or "disabled" in attrs:
            continue
        kind = attrs.get("type", "text")
        if kind == "hidden":
            form[name] = [attrs.get("value", "")]
        elif kind in ("radio", "checkbox"):
            if attrs.get("value") not in ("__dk__", "__rf__"):  # don't know / refused
                choices.setdefault(name, []).append(attrs.get("value", ""))
        elif name in answers:
            form[name] = answers[name]
        elif name.endswith("_other"):
            form[name] = [""]
        elif attrs.get("inputmode") in ("numeric", "decimal"):
            form[name] = ["1"]
        elif attrs.get("autocomplete") == "off":  # the date fields
            form[name] = [answers["h3"][0]]
        else:
            form[name] = ["Tekst"]
    for attrs_text, _body in _TEXTAREA.findall(page_html):
        name = attributes(attrs_text).get("name")
        if name:
            form[name] = answers.get(name, ["Uwagi"])
    for name, codes in choices.items():
        if name in answers:
            form[name] = answers[name]
        elif codes:
            form[name] = codes[:1]
    button = _PRIMARY.search(page_html)
    form["action"] = [button.group(1) if button else "next"]
    return form, form["action"][0]


class Browser:
    """One user's browser: its own cookie jar, a new loopback connection per request."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.headers = dict(headers or {})  # sent with every request (X-Forwarded-For)

    def request(
        self, method: str, path: str, form: dict[str, list[str]] | None = None
    ) -> tuple[int, str, str, float]:
        """(status, Location header, body, seconds) of one request."""
        status, location, body, elapsed = self.request_bytes(method, path, form)
        return status, location, body.decode("utf-8", "replace"), elapsed

    def request_bytes(
        self, method: str, path: str, form: dict[str, list[str]] | None = None
    ) -> tuple[int, str, bytes, float]:
        """Like ``request``, with the body as bytes (a downloaded file)."""
        headers = {"Accept-Language": "pl", **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        elapsed = time.perf_counter() - start
        for value in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        location = urlsplit(response.headers.get("Location", "")).path
        return response.status, location, content, elapsed


def percentile_ms(times: list[float], p: int) -> float:
    if not times:
        return float("nan")
    if len(times) == 1:
        return times[0] * 1000
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1] * 1000


def sample_csv(rows: int) -> bytes:
    """A sample file of CIS and KIS institutions spread over Śląskie's subregions."""
    subregions = ["północny", "środkowy", "zachodni", "południowy"]
    lines = ["external_id;nazwa;typ;podregion;powiat;gmina;e-mail;telefon;liczba_miejsc"]
    for n in range(1, rows + 1):
        kind = "CIS" if n % 2 else "KIS"
        lines.append(
            f"{n:06d};{kind} nr {n} w Żorach;{kind};{subregions[n % 4]};żorski;Żory;"
            f"cis{n}@example.org;032 {n % 1000:03d} 11 22;{20 + n % 30}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def missing_answers(
    response: Response, unit: SampleUnit, pages: list[tuple[str, list[str]]], today: date
) -> int:
    """Fields sent on acknowledged pages (page id, names sent) relevant now but not stored."""
    questionnaire = questionnaire_of(response.survey_version)
    flow = flow_of(response.survey_version)
    answers = answers_from_json(questionnaire, response.answers or {})
    state = flow.state(answers, sample=unit.sample_variables(), today=today)
    missing = 0
    for _page, names in pages:
        for name in names:
            if name in ("csrf_token", "revision", "action"):
                continue
            if state.is_relevant_variable(name) and name not in answers:
                missing += 1
    return missing
