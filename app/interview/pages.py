"""A questionnaire page shown and posted: items turned into plain view objects for the
templates (web, phone, preview, the response viewer and staff edits), and a posted page read."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from app.domain.messages import Message
from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, VariableKind
from app.domain.questionnaire.expressions import interpolate_references
from app.domain.questionnaire.fields import DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE
from app.domain.questionnaire.flow import Flow, Mode, State
from app.domain.questionnaire.model import Availability, Item, ItemType, Text
from app.domain.questionnaire.pages import Page

Gettext = Callable[[str], str]
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _polish_date(value: str) -> str:
    """An ISO date (a stored answer) as DD.MM.YYYY; anything else (as typed) unchanged."""
    match = _ISO_DATE.fullmatch(value)
    return f"{match[3]}.{match[2]}.{match[1]}" if match else value


def _decimal_comma(value: str) -> str:
    """A stored decimal ("120.5") as Polish writes it ("120,5"); other text unchanged."""
    return value.replace(".", ",") if _DECIMAL.fullmatch(value) else value


_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


@dataclass
class ChoiceView:
    code: str
    label: str
    other: bool = False
    offered: bool = True  # False: hidden by the item's choice_filter for the current answers
    columns: str | None = None  # JSON of the choice's columns, for the live choice_filter


@dataclass
class RowView:
    """A matrix row: its own variable, label, chosen code and error."""

    name: str
    label: str
    value: str
    error: str | None


@dataclass
class ItemView:
    """One item as the page shows it."""

    name: str
    type: str
    label: str
    hint: str
    interviewer_note: str
    required: bool
    relevant: bool
    relevance_tree: str | None  # JSON expression tree for live skip logic, or None
    filter_tree: str | None = None  # JSON tree of the choice_filter, evaluated per choice
    values: list[str] = field(default_factory=list)
    error: str | None = None
    choices: list[ChoiceView] = field(default_factory=list)
    rows: list[RowView] = field(default_factory=list)
    other_name: str | None = None  # the variable of the `other` text, if the list has one
    other_value: str = ""
    other_error: str | None = None
    allow_dont_know: bool = False
    allow_refused: bool = False
    read_only: bool = False
    children: list[ItemView] = field(default_factory=list)
    phone: bool = False  # on an interviewer's screen (keyboard first)
    label_template: str | None = None  # the label with ${name} left in, to fill in live
    hint_template: str | None = None

    @property
    def missing(self) -> str | None:
        """ "dk" or "rf" when the stored answer is an explicit non-answer."""
        if DONT_KNOW_FIELD_VALUE in self.values:
            return "dk"
        if REFUSED_FIELD_VALUE in self.values:
            return "rf"
        return None

    @property
    def has_error(self) -> bool:
        return bool(self.error or self.other_error or any(r.error for r in self.rows))


def problem_text(problem: Message | Text | None, language: str, gettext: Gettext) -> str | None:
    """A flow problem in the reader's language (a definition's own message, or ours)."""
    if problem is None:
        return None
    if isinstance(problem, Text):
        return problem.get(language)
    return problem.render(gettext)


def _allowed(availability: Availability, mode: Mode) -> bool:
    return availability is Availability.YES or (
        mode == "phone" and availability is Availability.PHONE
    )


class PageBuilder:
    """Builds the view objects of one page for one state, language and mode."""

    def __init__(
        self,
        flow: Flow,
        state: State,
        *,
        language: str,
        mode: Mode,
        gettext: Gettext,
        values: Mapping[str, list[str]],
        errors: Mapping[str, Message | Text],
        read_only: bool = False,
    ) -> None:
        self.flow = flow
        self.state = state
        self.language = language
        self.mode = mode
        self.gettext = gettext
        self.values = values
        self.errors = errors
        self.settings = flow.questionnaire.settings
        self.read_only = read_only  # every field shown but not editable (the response viewer)

    def page(self, page: Page) -> list[ItemView]:
        """The page's items; a nested group's items are shown inside it, not a second time
        (``page.items`` lists the group and, after it, everything inside it)."""
        nested_groups = {item.name for item in page.items if item.type is ItemType.GROUP}
        return [
            self.item(item)
            for item in page.items
            if item.type is not ItemType.CALCULATE
            and (item.parent is None or item.parent.name not in nested_groups)
        ]

    def text(self, text: Text | None) -> str:
        return self.flow.render_text(text, self.language, self.state) if text else ""

    def error(self, name: str) -> str | None:
        return problem_text(self.errors.get(name), self.language, self.gettext)

    def item(self, item: Item) -> ItemView:
        view = ItemView(
            name=item.name,
            type=item.type.value,
            label=self.text(item.label),
            hint=self.text(item.hint),
            interviewer_note=self.text(item.interviewer_note) if self.mode == "phone" else "",
            required=item.required is True
            or (item.required not in (False, None) and self._required_now(item)),
            relevant=self.state.is_relevant(item.name),
            relevance_tree=json.dumps(item.relevant.to_json()) if item.relevant else None,
            read_only=item.read_only or self.read_only,
        )
        view.phone = self.mode == "phone"
        view.label_template = self._live_template(item.label)
        view.hint_template = self._live_template(item.hint)
        if item.type is ItemType.GROUP:
            view.children = [
                self.item(c) for c in item.children if c.type is not ItemType.CALCULATE
            ]
            for child in view.children:
                if child.relevance_tree is None:
                    # Relevant exactly when the group is: the group's element hides and shows
                    # it (live too). Its own `hidden` would never be lifted by the script.
                    child.relevant = True
            return view
        if not item.type.is_question:
            return view
        view.allow_dont_know = _allowed(item.dont_know or self.settings.dont_know, self.mode)
        view.allow_refused = _allowed(item.refused or self.settings.refused, self.mode)
        if item.type.uses_choices:
            view.choices = self._choices(item)
            if item.choice_filter is not None:
                view.filter_tree = json.dumps(item.choice_filter.to_json())
        for var in self.flow.variables_of(item):
            if var.kind is VariableKind.ROW:
                row = next(r for r in item.rows if f"{item.name}_{r.name}" == var.name)
                view.rows.append(
                    RowView(
                        var.name,
                        row.label.get(self.language, self.settings.default_language),
                        (self.values.get(var.name) or [""])[0],
                        self.error(var.name),
                    )
                )
            elif var.kind is VariableKind.OTHER:
                view.other_name = var.name
                view.other_value = (self.values.get(var.name) or [""])[0]
                view.other_error = self.error(var.name)
            else:
                view.values = list(self.values.get(var.name, []))
                if item.type is ItemType.DATE:  # the form asks for DD.MM.YYYY; stored is ISO
                    view.values = [_polish_date(value) for value in view.values]
                elif item.type is ItemType.DECIMAL:  # Polish writes a decimal comma
                    view.values = [_decimal_comma(value) for value in view.values]
                view.error = self.error(var.name)
        if self.read_only:
            # The response viewer shows a stored don't know / refused even where this mode
            # would not offer it (the web form), so that it never looks skipped.
            given = set(view.values) | {row.value for row in view.rows}
            view.allow_dont_know = view.allow_dont_know or DONT_KNOW_FIELD_VALUE in given
            view.allow_refused = view.allow_refused or REFUSED_FIELD_VALUE in given
        return view

    def _live_template(self, text: Text | None) -> str | None:
        """The text as written, when it shows answers (``${name}``) the browser can fill in
        as they change on the page; None for a text without any."""
        if text is None or self.read_only:
            return None
        source = text.get(self.language, self.settings.default_language)
        return source if interpolate_references(source) else None

    def _choices(self, item: Item) -> list[ChoiceView]:
        """Every choice of the list; those the choice_filter leaves out now are marked, so the
        browser can offer them as soon as an answer on the same page lets it."""
        choice_list = self.flow.questionnaire.choice_list(item)
        if choice_list is None:
            return []
        offered = {c.name for c in self.flow.choices_for(item, self.state)}
        language, default = self.language, self.settings.default_language
        return [
            ChoiceView(
                c.name,
                c.label.get(language, default),
                c.other,
                offered=c.name in offered,
                columns=json.dumps({"name": c.name, **c.extra}) if item.choice_filter else None,
            )
            for c in choice_list.choices
        ]

    def _required_now(self, item: Item) -> bool:
        required = item.required
        if isinstance(required, bool):
            return required
        return required.evaluate_bool(self.state.context())


def summary(flow: Flow, state: State, language: str, gettext: Gettext) -> list[tuple[str, str]]:
    """(question, answer) pairs of the relevant answered questions, in order, for print."""
    settings = flow.questionnaire.settings
    clean = flow.clean_answers(state)
    rows: list[tuple[str, str]] = []
    for item in flow.questionnaire.walk():
        if not item.type.is_question:
            continue
        label = flow.render_text(item.label, language, state) if item.label else item.name
        for var in flow.variables_of(item):
            if var.name not in clean:
                continue
            value = clean[var.name]
            if var.kind is VariableKind.ROW:
                row = next(r for r in item.rows if f"{item.name}_{r.name}" == var.name)
                question = f"{label} — {row.label.get(language, settings.default_language)}"
            elif var.kind is VariableKind.OTHER:
                question = f"{label} — ({var.name})"
            else:
                question = label
            rows.append((question, _answer_text(flow, item, var.kind, value, language, gettext)))
    return rows


def _answer_text(
    flow: Flow, item: Item, kind: VariableKind, value: Any, language: str, gettext: Gettext
) -> str:
    if value is DONT_KNOW:
        return gettext("Don't know")
    if value is REFUSED:
        return gettext("Refused")
    choices = flow.questionnaire.choice_list(item)
    if choices and kind in (VariableKind.ANSWER, VariableKind.ROW):
        codes = value if isinstance(value, tuple) else (value,)
        labels = []
        for code in codes:
            choice = choices.get(str(code))
            labels.append(choice.label.get(language) if choice else str(code))
        return ", ".join(labels)
    if hasattr(value, "strftime"):
        return str(value.strftime("%d.%m.%Y"))
    if isinstance(value, Decimal):
        return _decimal_comma(str(value))
    return str(value)


def progress_percent(flow: Flow, mode: Mode, page: Page) -> int:
    """How far into the questionnaire ``page`` is, 0-99: the share of all its pages (shown
    or skipped alike) that come before it. Unlike "page 3 of 7" it never jumps back when an
    answer opens or skips later pages: it only grows as the respondent goes on."""
    total = len(flow.pages(mode))
    return 100 * page.index // total if total else 0


def live_calculations(flow: Flow) -> list[dict[str, Any]]:
    """The questionnaire's calculations as the browser evaluates them while a page is
    filled (name, calculation tree, relevance tree), in the order the server evaluates
    them, so that a label showing ``${total}`` follows the answers it adds up."""
    return [
        {
            "name": item.name,
            "calculation": item.calculation.to_json(),
            "relevant": _relevance_tree(item),
        }
        for item in flow.calculations()
        if item.calculation is not None
    ]


def _relevance_tree(item: Item) -> list[Any] | None:
    """Every relevance the item depends on (its own and its groups'), as trees."""
    trees = []
    current: Item | None = item
    while current is not None:
        if current.relevant is not None:
            trees.append(current.relevant.to_json())
        current = current.parent
    return trees or None


def expression_values(flow: Flow, state: State) -> dict[str, Any]:
    """The relevant answers as the browser's expression evaluator reads them (JSON values;
    don't know / refused as empty, lists for select_multiple, ISO dates)."""
    result: dict[str, Any] = {}
    for name, value in flow.clean_answers(state).items():
        if value is DONT_KNOW or value is REFUSED:
            result[name] = ""
        elif isinstance(value, tuple):
            result[name] = list(value)
        elif hasattr(value, "isoformat"):
            result[name] = value.isoformat()
        elif isinstance(value, int | str):
            result[name] = value
        else:
            result[name] = str(value)
    return result


CONTROL_FIELDS = ("csrf_token", "action", "revision")


@dataclass
class PagePost:
    """A submitted questionnaire page: the button pressed, the revision it was shown at,
    and the answer fields (control fields removed)."""

    action: str
    revision: int
    fields: MultiDict[str, str]


def read_page_post(form: MultiDict[str, str], actions: tuple[str, ...]) -> PagePost | None:
    """The page post in ``form``; an unknown button counts as the first action. None when
    the revision is missing or not a number (a forged or broken form)."""
    action = form.get("action", actions[0])
    if action not in actions:
        action = actions[0]
    try:
        revision = int(form.get("revision", ""))
    except ValueError:
        return None
    fields = form.copy()
    for name in CONTROL_FIELDS:
        fields.poplist(name)
    return PagePost(action, revision, fields)
