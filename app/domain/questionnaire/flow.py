"""The interview flow: relevance, pages, navigation, validation and the clean result.

One ``Flow`` is built per ``Questionnaire`` (build it once per definition version and keep
it: it precomputes the evaluation order and the pages) and is then used, statelessly, by
the respondent's self-fill form (mode ``"web"``) and the interviewer's screens (mode
``"phone"``). Nothing here reads the clock: ``today`` is passed in.

Answers
    A response is a mapping of variable name -> value. The variables are the questions'
    names, ``<matrix>_<row>`` for each matrix row, ``<item>_other`` (the "what other?" text)
    for a select whose list has an ``other`` choice, and the calculations' names. In Python:

    ===========================  ==============================  =======================
    type                         Python                          JSON (storage)
    ===========================  ==============================  =======================
    text, textarea, ``_other``   ``str``                         string
    select_one, matrix row       ``str`` (the choice code)       string
    select_multiple              ``tuple`` of codes, list order  list of strings
    integer                      ``int`` (within +-2**53)        number
    decimal                      ``Decimal`` (exact)             string, e.g. ``"12.5"``
    date                         ``datetime.date``               ``"YYYY-MM-DD"``
    don't know / refused         ``DONT_KNOW`` / ``REFUSED``     ``{"missing": "dont_know"}``
    ===========================  ==============================  =======================

    A missing key means "no answer". ``DONT_KNOW`` and ``REFUSED`` are explicit answers
    (they satisfy ``required`` and are kept in the result; their export codes come from the
    settings, ``Missing.code(settings)``), but **in expressions they behave as empty**, as
    if nothing was answered: ``${a1} > 5`` is false and ``coalesce(${a1}, 0)`` gives 0.
    ``answers_to_json`` / ``answers_from_json`` convert; what ``answers_from_json`` cannot
    place (a name the questionnaire no longer has, a value that no longer fits its type —
    answers given under another version) is kept aside under ``ASIDE_KEY`` and written back
    unchanged by ``answers_to_json``, so nothing is lost.

Relevance and calculations
    XLSForm semantics: an item is relevant when its own ``relevant`` holds and every
    enclosing group's does. Answers of irrelevant items count as empty in expressions, and
    an irrelevant calculation is empty. Items are evaluated in questionnaire order, except
    that an item is always evaluated after the items its ``relevant`` (and, for a
    calculation, its ``calculation``) refers to — one topological order computed once per
    questionnaire. A ``State`` evaluates lazily: asking about one page evaluates only that
    page's items and what they depend on, which keeps a page of a 1,000-item definition
    far under the 2 ms budget.

**The rule for answers that become irrelevant**
    When a later change makes an item irrelevant (the respondent goes back and answers
    "No" to the filter question), its stored answer is **kept** in the stored answers — so
    flipping the filter back restores what was typed — but it is **excluded** from the clean
    result (``clean_answers``), hence from exports, and from completeness checks. The same
    holds for an ``<item>_other`` text once the ``other`` choice is no longer selected.
    ``validate_page`` never overwrites the stored answer of an item that is irrelevant at
    submission.

Pages
    Mode ``"web"`` with ``paging: group``: each top-level group is a page (id: the group's
    name), and consecutive top-level items outside groups form one page together (id: the
    first item's name). With ``paging: item``, and always in mode ``"phone"``: one question
    per page (id: the question's name), with preceding notes of the same group attached to
    it; a group whose appearance has ``field-list`` is one page (id: the group's name), as
    in XLSForm. Notes left at the end of a group form a page of their own. Calculations are
    never on a page. A page is shown only when at least one of its notes or questions is
    relevant; navigation skips the others.

Defaults
    An item's ``default`` only pre-fills the form (``form_values``); it is not an answer
    until the page is submitted.

Submitted pages
    ``validate_page`` takes the page's fields as raw strings, the way an HTML form sends
    them (``Mapping[str, list[str]]``, or anything with ``getlist`` such as werkzeug's
    ``MultiDict``): one field per variable; a select_multiple sends one value per ticked
    code; don't know / refused are sent as the reserved values ``DONT_KNOW_FIELD_VALUE`` /
    ``REFUSED_FIELD_VALUE`` in the variable's own field. The caller removes its own control
    fields (CSRF token, buttons) first: every other field that is not one of this page's
    variables is reported in ``PageResult.unknown_fields`` (a forged or stale form). A
    non-empty field of an item that is irrelevant once the page's own answers are taken
    into account is not stored either; it is listed in ``ignored_fields`` only (normal when
    the browser hid the question). ``PageResult.values`` holds the variables that passed
    (None: the answer was cleared); ``PageResult.apply(answers)`` merges them.

API
    ``Flow(q)``: ``pages(mode)``, ``page(mode, page_id)``, ``variables_of(item)``,
    ``state(answers, sample=, today=)`` -> ``State`` (``is_relevant(name)``,
    ``is_relevant_variable(name)``, ``answer(name)``; do not change ``answers`` while a
    State is in use: it keeps what it evaluated), ``is_shown(page, state, mode)``,
    ``next_page(state, mode, after)``, ``previous_page(state, mode, before)``,
    ``resume_page(state, mode, last_submitted)``, ``progress(state, mode, last_submitted)``,
    ``validate_page(page, form, answers, mode=, sample=, today=)`` -> ``PageResult``,
    ``problems(state)``, ``is_complete(state)``, ``clean_answers(state)``,
    ``choices_for(item, state)``, ``render_text(text, language, state)``,
    ``form_values(page, state)``. Module functions: ``answers_to_json(q, answers)``,
    ``answers_from_json(q, data)``. Errors are ``Message``s, or the definition's own
    ``constraint_message`` / ``required_message`` (a ``Text``, to show in the reader's
    language).
"""

from __future__ import annotations

import enum
import heapq
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from app.domain import dates
from app.domain.messages import N_, Message
from app.domain.questionnaire.expressions import Context, Expression, interpolate_references
from app.domain.questionnaire.model import (
    Availability,
    Choice,
    Item,
    ItemType,
    Questionnaire,
    Settings,
    Text,
)

Mode = Literal["web", "phone"]
WEB: Mode = "web"
PHONE: Mode = "phone"
MODES: tuple[Mode, ...] = (WEB, PHONE)

DONT_KNOW_FIELD_VALUE = "__dk__"
REFUSED_FIELD_VALUE = "__rf__"
TEXT_MAX_LENGTH = 10_000
OTHER_MAX_LENGTH = 255
INTEGER_LIMIT = 2**53  # the largest integer a browser (and a JSON double) holds exactly
DECIMAL_MAX_INTEGER_DIGITS = 15  # beyond this a spreadsheet cell is no longer exact
DECIMAL_MAX_PLACES = 10
ASIDE_KEY = "@aside"  # not a valid variable name, so it can never collide with one

REQUIRED = Message(N_("This question requires an answer."))
NOT_ALLOWED = Message(N_("This answer is not allowed."))


class Missing(enum.Enum):
    """An explicit non-answer: the respondent does not know, or refuses to say."""

    DONT_KNOW = "dont_know"
    REFUSED = "refused"

    def code(self, settings: Settings) -> int:
        """The code exported for this non-answer (``dont_know_code`` / ``refused_code``)."""
        return settings.dont_know_code if self is Missing.DONT_KNOW else settings.refused_code

    def to_json(self) -> dict[str, str]:
        """The stored form: an object, which no real answer ever is."""
        return {"missing": self.value}


DONT_KNOW = Missing.DONT_KNOW
REFUSED = Missing.REFUSED
_FIELD_VALUES = {DONT_KNOW_FIELD_VALUE: DONT_KNOW, REFUSED_FIELD_VALUE: REFUSED}

Value = str | int | Decimal | date | tuple[str, ...] | Missing
ErrorText = Message | Text  # a Text is a definition's own constraint/required message


class VariableKind(enum.Enum):
    """What a variable holds."""

    ANSWER = "answer"  # a question's answer
    ROW = "row"  # one row of a matrix: a select_one on the matrix's list
    OTHER = "other"  # the text given with an ``other`` choice
    CALCULATION = "calculation"


@dataclass(frozen=True)
class Variable:
    """One name under which a response stores a value, and the item it belongs to."""

    name: str
    item: Item = field(compare=False)
    kind: VariableKind

    @property
    def value_type(self) -> ItemType:
        """The type its values have (a matrix row is a select_one, ``_other`` a text)."""
        if self.kind is VariableKind.ROW:
            return ItemType.SELECT_ONE
        if self.kind is VariableKind.OTHER:
            return ItemType.TEXT
        return self.item.type


@dataclass(frozen=True)
class Page:
    """One page of the web form or one screen of the interviewer."""

    id: str
    index: int
    items: tuple[Item, ...] = field(compare=False)  # notes, questions and nested groups
    group: Item | None = field(default=None, compare=False)  # the group the page shows

    @property
    def questions(self) -> tuple[Item, ...]:
        """The items on the page that take an answer."""
        return tuple(item for item in self.items if item.type.is_question)


@dataclass
class PageResult:
    """What ``validate_page`` found in one submitted page."""

    values: dict[str, Value | None]  # variables that passed; None = the answer was cleared
    errors: dict[str, ErrorText]  # variable name -> what is wrong with it
    ignored_fields: list[str]  # non-empty fields not stored: irrelevant now, or unknown
    unknown_fields: list[str]  # the part this page never takes: forged, read-only, stale form

    @property
    def ok(self) -> bool:
        return not self.errors

    def apply(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """``answers`` updated with this page's values (a cleared answer is removed)."""
        merged = dict(answers)
        for name, value in self.values.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return merged


class _InvalidValue(Exception):
    """A submitted string that is not a value of its variable's type."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


class Flow:
    """The interview logic of one questionnaire; build once, reuse for every request."""

    def __init__(self, q: Questionnaire) -> None:
        self.questionnaire = q
        self.settings = q.settings
        self._items: list[Item] = []
        self._parent: list[int | None] = []
        self._collect(q.items, None)
        self._position = {item.name: i for i, item in enumerate(self._items)}
        self._other_codes = {item.name: _other_codes(item, q) for item in self._items}
        self._variables_of = [_item_variables(item, q) for item in self._items]
        self.variables: dict[str, Variable] = {
            var.name: var for variables in self._variables_of for var in variables
        }
        self._owner = {name: self._position[var.item.name] for name, var in self.variables.items()}
        self._deps = [self._dependencies(i) for i in range(len(self._items))]
        self._page_refs = [self._display_references(item) for item in self._items]
        self._order = _topological_order(self._deps)
        self._rank = {index: rank for rank, index in enumerate(self._order)}
        self._plans: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._pages: dict[Mode, list[Page]] = {}
        self._page_plans: dict[tuple[Mode, str], tuple[int, ...]] = {}

    # -- building ---------------------------------------------------------------------

    def _collect(self, items: Iterable[Item], parent: int | None) -> None:
        """Number every item in questionnaire order and remember its enclosing group."""
        for item in items:
            self._items.append(item)
            self._parent.append(parent)
            if item.is_group:
                self._collect(item.children, len(self._items) - 1)

    def _owners(self, names: Iterable[str]) -> set[int]:
        """The items that own these variable names (unknown names are the checker's job)."""
        return {self._owner[name] for name in names if name in self._owner}

    def _dependencies(self, index: int) -> tuple[int, ...]:
        """What must be evaluated before an item: its group and what it refers to."""
        item = self._items[index]
        parent = self._parent[index]
        deps = {parent} if parent is not None else set()
        for expression in (item.relevant, item.calculation):
            if expression is not None:
                deps |= self._owners(expression.references)
        deps.discard(index)
        return tuple(sorted(deps))

    def _display_references(self, item: Item) -> tuple[int, ...]:
        """The items a page needs evaluated to check and show this item."""
        names: set[str] = set()
        for expression in (item.constraint, item.choice_filter, item.required):
            if isinstance(expression, Expression):
                names |= expression.references
        for text in _texts_of(item):
            for language_text in text.by_language.values():
                names |= interpolate_references(language_text)
        return tuple(sorted(self._owners(names)))

    def _plan(self, start: Iterable[int]) -> tuple[int, ...]:
        """The items to evaluate, in order, to know about the ``start`` items (cached)."""
        key = tuple(sorted(set(start)))
        plan = self._plans.get(key)
        if plan is None:
            needed = set(key)
            todo = list(key)
            while todo:
                for dep in self._deps[todo.pop()]:
                    if dep not in needed:
                        needed.add(dep)
                        todo.append(dep)
            plan = tuple(sorted(needed, key=self._rank.__getitem__))
            self._plans[key] = plan
        return plan

    def _page_plan(self, mode: Mode, page: Page) -> tuple[int, ...]:
        """The evaluation plan for showing and checking one page (cached per page)."""
        key = (mode, page.id)
        plan = self._page_plans.get(key)
        if plan is None:
            start = {self._position[item.name] for item in page.items}
            for index in list(start):
                start.update(self._page_refs[index])
            plan = self._page_plans[key] = self._plan(start)
        return plan

    def calculations(self) -> list[Item]:
        """The calculate items in the order they are evaluated (what they use first)."""
        return [
            self._items[index]
            for index in self._order
            if self._items[index].type is ItemType.CALCULATE
        ]

    def variables_of(self, item: Item) -> tuple[Variable, ...]:
        """The variables ``item`` stores: its answer (or matrix rows), then its ``_other``."""
        return self._variables_of[self._position[item.name]]

    # -- pages and navigation -----------------------------------------------------------

    def pages(self, mode: Mode) -> list[Page]:
        """The pages of this questionnaire in ``mode`` (computed once)."""
        pages = self._pages.get(mode)
        if pages is None:
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}")
            items = self.questionnaire.items
            if mode == WEB and self.settings.paging == "group":
                specs = _group_pages(items)
            else:
                specs = _question_pages(items, None)
            pages = [
                Page(page_id, index, tuple(page_items), group)
                for index, (page_id, page_items, group) in enumerate(specs)
            ]
            self._pages[mode] = pages
        return pages

    def page(self, mode: Mode, page_id: str) -> Page:
        """The page called ``page_id`` in ``mode`` (KeyError if there is none)."""
        for page in self.pages(mode):
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def is_shown(self, page: Page, state: State, mode: Mode) -> bool:
        """True when at least one note or question of the page is relevant."""
        state.ensure(self._page_plan(mode, page))
        return any(_is_visible(item) and state.is_relevant(item.name) for item in page.items)

    def next_page(self, state: State, mode: Mode, after: str | None) -> Page | None:
        """The first shown page after the page ``after`` (None: the first page; the end)."""
        pages = self.pages(mode)
        start = 0 if after is None else self.page(mode, after).index + 1
        return next((p for p in pages[start:] if self.is_shown(p, state, mode)), None)

    def previous_page(self, state: State, mode: Mode, before: str) -> Page | None:
        """The last shown page before the page ``before`` (None at the beginning)."""
        pages = self.pages(mode)[: self.page(mode, before).index]
        return next((p for p in reversed(pages) if self.is_shown(p, state, mode)), None)

    def resume_page(self, state: State, mode: Mode, last_submitted: str | None) -> Page | None:
        """Where to continue: the first shown page with a problem, or the one after the last
        page submitted, whichever comes first; None when there is nothing left to fill.

        A ``last_submitted`` that is no page of ``mode`` (saved in the other mode: a
        respondent who began online and is now interviewed by phone) counts as none."""
        if last_submitted is not None and all(p.id != last_submitted for p in self.pages(mode)):
            last_submitted = None
        candidates = [self.next_page(state, mode, last_submitted)]
        problems = self.problems(state)
        for page in self.pages(mode):
            if self.is_shown(page, state, mode) and self._has_problem(page, problems):
                candidates.append(page)
                break
        return min((p for p in candidates if p is not None), key=_page_index, default=None)

    def _has_problem(self, page: Page, problems: Mapping[str, ErrorText]) -> bool:
        """True when one of ``problems`` belongs to a question of ``page``."""
        names = {item.name for item in page.questions}
        return any(self.variables[name].item.name in names for name in problems)

    def progress(self, state: State, mode: Mode, last_submitted: str | None) -> float:
        """The share (0..1) of the shown pages up to and including ``last_submitted``."""
        shown = [p for p in self.pages(mode) if self.is_shown(p, state, mode)]
        if not shown or last_submitted is None:
            return 0.0
        done_until = self.page(mode, last_submitted).index
        return sum(1 for p in shown if p.index <= done_until) / len(shown)

    # -- answers ------------------------------------------------------------------------

    def state(self, answers: Mapping[str, Any], *, sample: Mapping[str, Any], today: date) -> State:
        """The relevance and calculations for these answers (evaluated on demand)."""
        return State(self, answers, sample, today)

    def choices_for(self, item: Item, state: State) -> list[Choice]:
        """The choices offered for a select or matrix now, after its ``choice_filter``."""
        choice_list = self.questionnaire.choice_list(item)
        if choice_list is None:
            return []
        if item.choice_filter is None:
            return list(choice_list.choices)
        state.ensure(self._plan(self._page_refs[self._position[item.name]]))
        return [
            choice
            for choice in choice_list.choices
            if item.choice_filter.evaluate_bool(state.context(choice=_choice_columns(choice)))
        ]

    def validate_page(
        self,
        page: Page,
        form: Mapping[str, Any],
        answers: Mapping[str, Any],
        *,
        mode: Mode,
        sample: Mapping[str, Any],
        today: date,
    ) -> PageResult:
        """Parse and check the fields submitted for ``page`` against ``answers`` so far."""
        editable = [
            var for item in page.questions if not item.read_only for var in self.variables_of(item)
        ]
        editable_names = {var.name for var in editable}
        raw = {var.name: _field_values(form, var.name) for var in editable}
        parsed: dict[str, Value | None] = {}
        errors: dict[str, ErrorText] = {}
        for var in editable:
            try:
                parsed[var.name] = self._parse(var, raw[var.name], mode)
            except _InvalidValue as invalid:
                parsed[var.name] = None
                errors[var.name] = invalid.message
        merged = dict(answers)
        merged.update(parsed)
        state = self.state(merged, sample=sample, today=today)
        state.ensure(self._page_plan(mode, page))
        problems = self._problems_of_items(page.questions, state)
        values: dict[str, Value | None] = {}
        ignored: list[str] = []
        for var in editable:
            if not state.is_relevant_variable(var.name):
                errors.pop(var.name, None)
                if any(value.strip() for value in raw[var.name]):
                    ignored.append(var.name)
            elif var.name not in errors:
                if var.name in problems:
                    errors[var.name] = problems[var.name]
                else:
                    values[var.name] = parsed[var.name]
        unknown = [name for name in form if name not in editable_names]
        ignored.extend(unknown)
        return PageResult(values, errors, ignored, unknown)

    def _parse(self, var: Variable, raw: list[str], mode: Mode) -> Value | None:
        """The value of one submitted field (None when it was left empty)."""
        # NUL cannot be stored (PostgreSQL text) and no person types it: drop it first.
        values = [value.replace("\x00", "").strip() for value in raw]
        values = [value for value in values if value]
        if not values:
            return None
        missing = [_FIELD_VALUES[v] for v in values if v in _FIELD_VALUES]
        if missing:
            if len(values) > 1:
                raise _InvalidValue(
                    Message(N_("Don't know or refused cannot be combined with another answer."))
                )
            self._check_missing_allowed(var, missing[0], mode)
            return missing[0]
        if var.value_type is ItemType.SELECT_MULTIPLE:
            return self._parse_codes(var, values)
        if len(values) > 1:
            raise _InvalidValue(Message(N_("Give only one answer.")))
        if var.value_type is ItemType.SELECT_ONE:
            return self._parse_codes(var, values)[0]
        if var.kind is VariableKind.OTHER:
            return _parse_text(values[0], OTHER_MAX_LENGTH)
        return _PARSERS[var.value_type](values[0])

    def _check_missing_allowed(self, var: Variable, missing: Missing, mode: Mode) -> None:
        """Refuse a don't know / refused where the item or the settings do not allow it."""
        if var.kind is VariableKind.OTHER:
            raise _InvalidValue(Message(N_("Say what the other answer is.")))
        if missing is DONT_KNOW:
            availability = var.item.dont_know or self.settings.dont_know
            message = Message(N_("Don't know is not allowed for this question."))
        else:
            availability = var.item.refused or self.settings.refused
            message = Message(N_("Refusal is not allowed for this question."))
        if not _allows(availability, mode):
            raise _InvalidValue(message)

    def _parse_codes(self, var: Variable, values: list[str]) -> tuple[str, ...]:
        """Choice codes in choice-list order, without repeats; each must be in the list."""
        choices = self.questionnaire.choice_list(var.item)
        codes = choices.codes if choices else ()
        if any(value not in codes for value in values):
            raise _InvalidValue(Message(N_("Choose one of the listed answers.")))
        chosen = set(values)
        return tuple(code for code in codes if code in chosen)

    # -- checking -----------------------------------------------------------------------

    def problems(self, state: State) -> dict[str, ErrorText]:
        """Every problem of the relevant answers: missing required ones, unmet constraints,
        codes no longer offered, a missing ``other`` text; keyed by variable name."""
        state.ensure(self._order)
        questions = [item for item in self._items if item.type.is_question]
        return self._problems_of_items(questions, state)

    def is_complete(self, state: State) -> bool:
        """True when every relevant required question is answered (or DK/RF) and every
        relevant answer meets its constraint."""
        return not self.problems(state)

    def _problems_of_items(self, items: Iterable[Item], state: State) -> dict[str, ErrorText]:
        """The problems of the relevant ones of ``items``, whose plan ``state`` has evaluated."""
        problems: dict[str, ErrorText] = {}
        for item in items:
            if not state.is_relevant(item.name):
                continue
            required = item.required
            if isinstance(required, Expression):
                required = required.evaluate_bool(state.context())
            for var in self.variables_of(item):
                problem = self._problem(var, state, required)
                if problem is not None:
                    problems[var.name] = problem
        return problems

    def _problem(self, var: Variable, state: State, required: bool) -> ErrorText | None:
        """What is wrong with one relevant variable's answer, if anything."""
        if var.kind is VariableKind.OTHER:
            if state.is_relevant_variable(var.name) and state.answer(var.name) is None:
                return Message(N_("Say what the other answer is."))
            return None
        value = state.answer(var.name)
        if value is None:
            return (var.item.required_message or REQUIRED) if required else None
        if isinstance(value, Missing):
            return None
        if var.value_type in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
            offered = {choice.name for choice in self.choices_for(var.item, state)}
            codes = value if isinstance(value, tuple) else (value,)
            if not offered.issuperset(codes):
                return Message(N_("Choose one of the listed answers."))
        constraint = var.item.constraint
        if constraint is not None and not constraint.evaluate_bool(
            state.context(current=_expression_value(value))
        ):
            return var.item.constraint_message or NOT_ALLOWED
        return None

    def clean_answers(self, state: State) -> dict[str, Any]:
        """The result: relevant answers (DK/RF included) and calculations, in questionnaire
        order; answers of irrelevant items are left out."""
        state.ensure(self._order)
        clean: dict[str, Any] = {}
        for variables in self._variables_of:
            for var in variables:
                if not state.is_relevant_variable(var.name):
                    continue
                value = state.answer(var.name)
                if value is not None:
                    clean[var.name] = value
        return clean

    # -- showing ------------------------------------------------------------------------

    def render_text(self, text: Text, language: str, state: State) -> str:
        """``text`` in ``language`` with ``${name}`` and ``${sample.NAME}`` filled in."""
        source = text.get(language, self.settings.default_language)
        if "${" not in source:
            return source
        state.ensure(self._plan(self._owners(interpolate_references(source))))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith(_SAMPLE_PREFIX):
                return _format_scalar(state.sample.get(name[len(_SAMPLE_PREFIX) :]), language)
            return self._format_value(name, state, language)

        return _REFERENCE.sub(replace, source)

    def _format_value(self, name: str, state: State, language: str) -> str:
        """How a variable's value reads inside a label: choice labels, DD.MM.YYYY dates."""
        var = self.variables.get(name)
        if var is None or not state.is_relevant_variable(name):
            return ""
        value = state.answer(name)
        if var.value_type in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE) and isinstance(
            value, str | tuple
        ):
            choices = self.questionnaire.choice_list(var.item)
            codes = value if isinstance(value, tuple) else (value,)
            labels = [
                _choice_label(choices.get(code) if choices else None, code, language)
                for code in codes
            ]
            return ", ".join(labels)
        return _format_scalar(value, language)

    def form_values(self, page: Page, state: State) -> dict[str, list[str]]:
        """The page's fields pre-filled as the form sends them: stored answers, else defaults."""
        filled: dict[str, list[str]] = {}
        for item in page.questions:
            for var in self.variables_of(item):
                value = state.answers.get(var.name)
                if value is not None:
                    filled[var.name] = _to_field(value)
                elif item.default is not None and var.kind is not VariableKind.OTHER:
                    filled[var.name] = [item.default]
        return filled


class State:
    """Relevance and calculations for one set of answers, evaluated on demand and kept."""

    def __init__(
        self, flow: Flow, answers: Mapping[str, Any], sample: Mapping[str, Any], today: date
    ) -> None:
        self.flow = flow
        self.answers = answers
        self.sample = sample
        self.today = today
        count = len(flow._items)
        self._relevant: list[bool | None] = [None] * count
        self._values: dict[str, Any] = {}  # what expressions see: empty when irrelevant
        self._calculated: dict[str, Any] = {}
        self._base = Context(values=self._values, sample=sample, today=today)

    def context(self, *, current: Any = None, choice: Mapping[str, str] | None = None) -> Context:
        """An expression context over the values evaluated so far."""
        if current is None and choice is None:
            return self._base
        return Context(
            values=self._values,
            current=current,
            sample=self.sample,
            choice=choice or {},
            today=self.today,
        )

    def ensure(self, plan: Iterable[int]) -> None:
        """Evaluate, in order, the items of ``plan`` not evaluated yet."""
        relevant = self._relevant
        for index in plan:
            if relevant[index] is None:
                self._evaluate(index)

    def _evaluate(self, index: int) -> None:
        """Decide one item's relevance and publish its values to expressions."""
        flow = self.flow
        item = flow._items[index]
        parent = flow._parent[index]
        relevant = True if parent is None else bool(self._relevant[parent])
        if relevant and item.relevant is not None:
            relevant = item.relevant.evaluate_bool(self._base)
        self._relevant[index] = relevant
        for var in flow._variables_of[index]:
            if var.kind is VariableKind.CALCULATION:
                value = None
                if relevant and item.calculation is not None:
                    value = item.calculation.evaluate(self._base)
                self._calculated[var.name] = value
            elif self.is_relevant_variable(var.name):
                value = _expression_value(self.answers.get(var.name))
            else:
                value = None
            self._values[var.name] = value

    def is_relevant(self, name: str) -> bool:
        """True when the item called ``name`` is relevant for these answers."""
        index = self.flow._position[name]
        if self._relevant[index] is None:
            self.ensure(self.flow._plan((index,)))
        return bool(self._relevant[index])

    def is_relevant_variable(self, name: str) -> bool:
        """True when the variable counts: its item is relevant and, for an ``_other`` text,
        an ``other`` choice is selected."""
        var = self.flow.variables[name]
        if not self.is_relevant(var.item.name):
            return False
        if var.kind is not VariableKind.OTHER:
            return True
        selected = self.answers.get(var.item.name)
        codes = selected if isinstance(selected, tuple) else (selected,)
        return not self.flow._other_codes[var.item.name].isdisjoint(codes)

    def answer(self, name: str) -> Any:
        """The stored answer of a variable, or a calculation's result (None if empty)."""
        var = self.flow.variables[name]
        if var.kind is VariableKind.CALCULATION:
            self.is_relevant(var.item.name)
            return self._calculated.get(name)
        return self.answers.get(name)


# -- pages ----------------------------------------------------------------------------


_PageSpec = tuple[str, list[Item], "Item | None"]  # a page's id, items and group


def _allows(availability: Availability, mode: Mode) -> bool:
    """True when a don't know / refused with this availability may be recorded in ``mode``."""
    return availability is Availability.YES or (
        availability is Availability.PHONE and mode == PHONE
    )


def _is_visible(item: Item) -> bool:
    """True for what a page shows: notes and questions."""
    return item.type is ItemType.NOTE or item.type.is_question


def _is_field_list(item: Item) -> bool:
    return item.is_group and "field-list" in (item.appearance or "").split()


def _displayed(items: Iterable[Item]) -> list[Item]:
    """Items in order, nested ones included, without calculations (never shown)."""
    return [each for item in items for each in item.walk() if each.type is not ItemType.CALCULATE]


def _group_pages(items: list[Item]) -> Iterator[_PageSpec]:
    """Group paging: a page per top-level group, one per run of items between groups."""
    run: list[Item] = []
    for item in items:
        if item.is_group:
            yield from _run_page(run)
            run = []
            yield item.name, _displayed(item.children), item
        else:
            run.append(item)
    yield from _run_page(run)


def _run_page(run: list[Item]) -> Iterator[_PageSpec]:
    """The page of top-level items between groups, unless it would show nothing."""
    shown = _displayed(run)
    if shown:
        yield shown[0].name, shown, None


def _question_pages(items: list[Item], group: Item | None) -> Iterator[_PageSpec]:
    """One question a page, notes before it attached, a field-list group as one page."""
    notes: list[Item] = []
    for item in items:
        if _is_field_list(item):
            yield item.name, notes + _displayed(item.children), item
            notes = []
        elif item.is_group:
            if notes:
                yield notes[0].name, notes, group
                notes = []
            yield from _question_pages(item.children, item)
        elif item.type is ItemType.NOTE:
            notes.append(item)
        elif item.type.is_question:
            yield item.name, notes + [item], group
            notes = []
    if notes:
        yield notes[0].name, notes, group


def _page_index(page: Page) -> int:
    return page.index


# -- values ---------------------------------------------------------------------------

_GROUPED = r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+"
_INTEGER = re.compile(rf"([+\-\u2212]?)({_GROUPED}|[0-9]+)")
_DECIMAL = re.compile(rf"([+\-\u2212]?)({_GROUPED}|[0-9]*)(?:[.,]([0-9]+))?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_POLISH_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")  # as expressions.interpolate_references reads it
_SAMPLE_PREFIX = "sample."
_SPACES = re.compile(r"[ \u00a0\u202f]")


def _parse_integer(raw: str) -> int:
    """A whole number; spaces may group thousands ("1 234")."""
    match = _INTEGER.fullmatch(raw.strip())
    if match is None:
        raise _InvalidValue(Message(N_("Enter a whole number.")))
    digits = _SPACES.sub("", match.group(2)).lstrip("0") or "0"
    # Count digits before converting: int() of thousands of digits is slow, then refused.
    if len(digits) > len(str(INTEGER_LIMIT)) or int(digits) > INTEGER_LIMIT:
        raise _InvalidValue(Message(N_("The number is too large.")))
    return -int(digits) if match.group(1) else int(digits)


def _parse_decimal(raw: str) -> Decimal:
    """A number with a decimal comma or point ("12,5", "12.5", "1 234,5")."""
    match = _DECIMAL.fullmatch(raw.strip())
    if match is None or not (match.group(2) or match.group(3)):
        raise _InvalidValue(Message(N_("Enter a number.")))
    sign, whole, fraction = match.group(1), _SPACES.sub("", match.group(2)), match.group(3)
    if len(whole.lstrip("0")) > DECIMAL_MAX_INTEGER_DIGITS:
        raise _InvalidValue(Message(N_("The number is too large.")))
    if fraction and len(fraction) > DECIMAL_MAX_PLACES:
        raise _InvalidValue(
            Message(N_("Use at most %(places)d decimal places."), {"places": DECIMAL_MAX_PLACES})
        )
    digits = f"{whole or '0'}.{fraction}" if fraction else whole
    return Decimal(f"-{digits}" if sign else digits)  # as typed: "12,50" stays 12.50


def _parse_date(raw: str) -> date:
    """A date as DD.MM.YYYY (Polish) or YYYY-MM-DD (ISO, what date inputs send)."""
    text = raw.strip()
    day = None
    try:
        if match := _ISO_DATE.fullmatch(text):
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif match := _POLISH_DATE.fullmatch(text):
            day = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        pass  # a day that does not exist: the same message as any malformed date
    if day is None:
        raise _InvalidValue(Message(N_("Enter a date as DD.MM.YYYY.")))
    if not dates.in_range(day):  # 01.01.0001 is a typo, and no date to a spreadsheet
        raise _InvalidValue(dates.out_of_range_message())
    return day


def _parse_text(raw: str, max_length: int) -> str:
    """A text with Unix line ends, at most ``max_length`` characters long."""
    text = raw.replace("\r\n", "\n")
    if len(text) > max_length:
        raise _InvalidValue(
            Message(N_("The text is too long: at most %(max)d characters."), {"max": max_length})
        )
    return text


_PARSERS: dict[ItemType, Callable[[str], str | int | Decimal | date]] = {
    ItemType.INTEGER: _parse_integer,
    ItemType.DECIMAL: _parse_decimal,
    ItemType.DATE: _parse_date,
    ItemType.TEXT: lambda raw: _parse_text(raw, TEXT_MAX_LENGTH),
    ItemType.TEXTAREA: lambda raw: _parse_text(raw, TEXT_MAX_LENGTH),
}


def _expression_value(value: Any) -> Any:
    """What expressions see for an answer: DK/RF as empty."""
    return None if isinstance(value, Missing) else value


def _to_field(value: Any) -> list[str]:
    """A stored value as the strings a form field holds."""
    if isinstance(value, Missing):
        return [DONT_KNOW_FIELD_VALUE if value is DONT_KNOW else REFUSED_FIELD_VALUE]
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, date):
        return [value.isoformat()]
    return [str(value)]


def _format_scalar(value: Any, language: str) -> str:
    """A plain value as it reads in a label."""
    if value is None or isinstance(value, Missing):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if language == "pl" and isinstance(value, Decimal | float):
        return text.replace(".", ",")
    return text


def _choice_label(choice: Choice | None, code: str, language: str) -> str:
    return choice.label.get(language) if choice is not None else code


def _choice_columns(choice: Choice) -> dict[str, str]:
    """The columns a choice_filter's bare names read: the choice's name and extra keys."""
    return {"name": choice.name, **choice.extra}


def _texts_of(item: Item) -> Iterator[Text]:
    """Every text shown with an item (whose ``${name}`` references must be evaluated)."""
    for text in (
        item.label,
        item.hint,
        item.interviewer_note,
        item.required_message,
        item.constraint_message,
    ):
        if text is not None:
            yield text
    for row in item.rows:
        yield row.label


def _field_values(form: Mapping[str, Any], name: str) -> list[str]:
    """All values sent under ``name`` (a MultiDict or a mapping of name -> list)."""
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = form.get(name, ())
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _topological_order(deps: list[tuple[int, ...]]) -> list[int]:
    """Indices ordered so each comes after its dependencies, else in questionnaire order."""
    dependents: list[list[int]] = [[] for _ in deps]
    waiting = [len(d) for d in deps]
    for index, item_deps in enumerate(deps):
        for dep in item_deps:
            dependents[dep].append(index)
    ready = [index for index, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for dependent in dependents[index]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    if len(order) < len(deps):
        # A cycle the checker should have refused: evaluate what is left in questionnaire
        # order (a reference not evaluated yet reads as empty) instead of failing a request.
        placed = set(order)
        order.extend(index for index in range(len(deps)) if index not in placed)
    return order


# -- storage --------------------------------------------------------------------------


def answers_to_json(q: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object stored for ``answers`` (what was kept aside is written back)."""
    data: dict[str, Any] = dict(answers.get(ASIDE_KEY) or {})
    for name, value in answers.items():
        if name != ASIDE_KEY and value is not None:
            data[name] = _value_to_json(value)
    return data


def _value_to_json(value: Any) -> Any:
    if isinstance(value, Missing):
        return value.to_json()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def answers_from_json(
    q: Questionnaire, data: Mapping[str, Any], variables: Mapping[str, Variable] | None = None
) -> dict[str, Any]:
    """Answers from their stored JSON; what does not fit this questionnaire goes aside.

    ``variables`` (a ``Flow``'s, computed once per questionnaire) saves working them out.
    """
    if variables is None:
        variables = _variables(q)
    answers: dict[str, Any] = {}
    aside: dict[str, Any] = {}
    for name, raw in data.items():
        var = variables.get(name)
        value = _value_from_json(q, var, raw) if var is not None else None
        if value is None:
            aside[name] = raw
        else:
            answers[name] = value
    if aside:
        answers[ASIDE_KEY] = aside
    return answers


def _value_from_json(q: Questionnaire, var: Variable, raw: Any) -> Any:
    """The Python value of a stored JSON value, or None when it does not fit ``var``."""
    if isinstance(raw, dict):
        missing = next((m for m in Missing if raw == m.to_json()), None)
        return missing if var.kind is not VariableKind.CALCULATION else None
    kind = var.value_type
    if var.kind is VariableKind.CALCULATION:
        return raw
    if kind in (ItemType.TEXT, ItemType.TEXTAREA):
        return raw if isinstance(raw, str) else None
    if kind is ItemType.INTEGER:
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if kind is ItemType.DECIMAL:
        return decimal_from_json(raw)
    if kind is ItemType.DATE:
        return date_from_json(raw)
    choice_list = q.choice_list(var.item)
    codes = choice_list.codes if choice_list else ()
    if kind is ItemType.SELECT_ONE:
        return raw if raw in codes else None
    if isinstance(raw, list) and all(code in codes for code in raw):
        return tuple(code for code in codes if code in raw)
    return None


def decimal_from_json(raw: Any) -> Decimal | None:
    """A stored decimal (string or integer) as a Decimal; None if it is not one."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def date_from_json(raw: Any) -> date | None:
    """A stored ISO date as a date; None if it is not one."""
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _other_codes(item: Item, q: Questionnaire) -> frozenset[str]:
    """The codes of ``other`` choices an item offers (matrix rows take no text)."""
    if item.type not in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
        return frozenset()
    choices = q.choice_list(item)
    return frozenset(c.name for c in choices.choices if c.other) if choices else frozenset()


def _item_variables(item: Item, q: Questionnaire) -> tuple[Variable, ...]:
    """The variables an item stores, its answer first and its ``_other`` text last."""
    if item.type is ItemType.MATRIX:
        return tuple(Variable(name, item, VariableKind.ROW) for name in item.variable_names())
    if item.type is ItemType.CALCULATE:
        return (Variable(item.name, item, VariableKind.CALCULATION),)
    if not item.type.is_question:
        return ()
    answer = Variable(item.name, item, VariableKind.ANSWER)
    if _other_codes(item, q):
        return (answer, Variable(f"{item.name}_other", item, VariableKind.OTHER))
    return (answer,)


def _variables(q: Questionnaire) -> dict[str, Variable]:
    """Every variable of ``q`` by name."""
    return {var.name: var for item in q.walk() for var in _item_variables(item, q)}
