"""The interview flow: relevance, pages, navigation, validation and the clean result.

One ``Flow`` is built per ``Questionnaire`` (build it once per definition version and keep
it: it precomputes the evaluation order and the pages) and is then used, statelessly, by
the respondent's self-fill form (mode ``"web"``) and the interviewer's screens (mode
``"phone"``). Nothing here reads the clock: ``today`` is passed in.

One cohesive thing, hence its length: ``Flow`` (what a questionnaire's pages, relevance and
validation are) and ``State`` (one response's answers evaluated lazily against it). The
answers' types and storage, the form fields' parsing and the cutting into pages are in
``answers``, ``fields`` and ``pages`` beside it.

Answers
    What a response stores, and how it is kept in JSON: see
    ``app.domain.questionnaire.answers``. **In expressions don't know and refused behave as
    empty**, as if nothing was answered.


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
    it; a group whose appearance has ``field-list`` (or ``table-list``) is one page (id:
    the group's name), as in XLSForm. Notes left at the end of a group form a page of
    their own. Calculations are never on a page. A page is shown only when at least one
    of its notes or questions is relevant; navigation skips the others.

Order
    Choices and a group's items show in the order written, unless the item is randomized
    (XLSForm's ``randomize=true``): then in an order of the response's own, the same on
    every page view, on the web and by phone (``State.seed``, the response's name, or the
    item's ``seed`` expression when it has a value). Codes and answers do not change.

Defaults
    An item's ``default`` only pre-fills the form (``form_values``); it is not an answer
    until the page is submitted.

Kept calculations
    A calculation using ``once()``, ``now()`` or ``uuid()`` (``Expression.kept``) cannot
    be computed again later from the answers: once it has a value, that value is stored
    with the answers under the calculation's name (``validate_page`` returns it with the
    page's values, so the first page saved after it gets a value stores it) and used from
    then on instead of the calculation. ``now`` is passed in, as ``today`` is.

Submitted pages
    ``validate_page`` takes the page's fields as raw strings, the way an HTML form sends
    them (``Mapping[str, list[str]]``, or anything with ``getlist`` such as werkzeug's
    ``MultiDict``): one field per variable; a select_multiple sends one value per ticked
    code; don't know / refused are sent as the reserved values ``DONT_KNOW_FIELD_VALUE`` /
    ``REFUSED_FIELD_VALUE`` in the variable's own field (``app.domain.questionnaire.fields``).
    The caller removes its own control
    fields (CSRF token, buttons) first: every other field that is not one of this page's
    variables is reported in ``PageResult.unknown_fields`` (a forged or stale form). A
    non-empty field of an item that is irrelevant once the page's own answers are taken
    into account is not stored either; it is listed in ``ignored_fields`` only (normal when
    the browser hid the question). ``PageResult.values`` holds the variables that passed
    (None: the answer was cleared); ``PageResult.apply(answers)`` merges them.

API
    ``Flow(q)``: ``pages(mode)``, ``page(mode, page_id)``, ``variables_of(item)``,
    ``state(answers, sample=, today=, now=)`` -> ``State`` (``is_relevant(name)``,
    ``is_relevant_variable(name)``, ``answer(name)``; do not change ``answers`` while a
    State is in use: it keeps what it evaluated), ``is_shown(page, state, mode)``,
    ``next_page(state, mode, after)``, ``previous_page(state, mode, before)``,
    ``resume_page(state, mode, last_submitted)``, ``progress(state, mode, last_submitted)``,
    ``validate_page(page, form, answers, mode=, sample=, today=, now=)`` -> ``PageResult``,
    ``problems(state)``, ``is_complete(state)``, ``clean_answers(state)``,
    ``choices_for(item, state)``, ``render_text(text, language, state)``,
    ``form_values(page, state)``. Errors are ``Message``s, or the definition's own
    ``constraint_message`` / ``required_message`` (a ``Text``, to show in the reader's
    language).
"""

from __future__ import annotations

import heapq
import re
from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal, TypeVar

from app.domain import dates
from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import (
    DONT_KNOW,
    Missing,
    StoredFile,
    Value,
    Variable,
    VariableKind,
    item_variables,
    other_codes,
)
from app.domain.questionnaire.expressions import (
    Context,
    Expression,
    NodeSet,
    interpolate_references,
)
from app.domain.questionnaire.fields import (
    FIELD_VALUES,
    OTHER_MAX_LENGTH,
    PARSERS,
    InvalidValue,
    default_field,
    field_values,
    parse_partial_date,
    parse_point,
    parse_range,
    parse_rank,
    parse_text,
    to_field,
)
from app.domain.questionnaire.model import (
    Availability,
    Choice,
    Item,
    ItemType,
    Questionnaire,
    Text,
)
from app.domain.questionnaire.order import PINNED_CHOICES, shuffled
from app.domain.questionnaire.pages import (
    Page,
    group_pages,
    is_visible,
    page_index,
    question_pages,
)

Mode = Literal["web", "phone"]
_T = TypeVar("_T")
WEB: Mode = "web"
PHONE: Mode = "phone"
MODES: tuple[Mode, ...] = (WEB, PHONE)


REQUIRED = Message(N_("This question requires an answer."))
NOT_ALLOWED = Message(N_("This answer is not allowed."))


ErrorText = Message | Text  # a Text is a definition's own constraint/required message


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


class InvalidInstance(ValueError):
    """An add or remove that names no instance this response can have (a stale or forged
    form): what is wrong, to show."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


@dataclass
class _Parsed:
    """What one scope's submitted fields held: parsed values (None: empty or unreadable),
    whether each field was filled, and the instances of its repeats."""

    values: dict[str, Value | None] = field(default_factory=dict)
    filled: dict[str, bool] = field(default_factory=dict)
    kept: bool = False  # an instance not on the form: kept as it was stored
    # per repeat: (stored instance, its parsed fields) for each instance sent; None when
    # the count sent was refused
    instances: dict[str, list[tuple[Mapping[str, Any], _Parsed]] | None] = field(
        default_factory=dict
    )

    def merged(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """``stored`` with these fields' values over it, to evaluate the page with."""
        merged = dict(stored)
        merged.update(self.values)
        for name, instances in self.instances.items():
            if instances is not None:
                merged[name] = tuple(inner.merged(base) for base, inner in instances)
        return merged

    def any_filled(self) -> bool:
        return any(self.filled.values()) or any(
            inner.any_filled()
            for instances in self.instances.values()
            for _, inner in instances or ()
        )


class Flow:
    """The interview logic of one questionnaire; build once, reuse for every request."""

    def __init__(
        self, q: Questionnaire, items: list[Item] | None = None, outer: Flow | None = None
    ) -> None:
        self.questionnaire = q
        self.settings = q.settings
        self.outer = outer  # for a repeat's flow: the flow of the scope the repeat is in
        self._items: list[Item] = []
        self._parent: list[int | None] = []
        self._collect(q.items if items is None else items, None)
        self._position = {item.name: i for i, item in enumerate(self._items)}
        self._other_codes = {item.name: other_codes(item, q) for item in self._items}
        self._variables_of = [item_variables(item, q) for item in self._items]
        self.variables: dict[str, Variable] = {
            var.name: var for variables in self._variables_of for var in variables
        }
        self._owner = {name: self._position[var.item.name] for name, var in self.variables.items()}
        # One flow per repeat of this scope, for its instances; every name inside a repeat
        # is owned, for this scope, by the repeat (it reads as a node-set here).
        self.choice_labels: dict[str, dict[str, str]] = (
            outer.choice_labels if outer else choice_labels(q)
        )
        self.repeat_flows: dict[str, Flow] = {}
        for index, item in enumerate(self._items):
            if item.is_repeat:
                self.repeat_flows[item.name] = Flow(q, item.children, outer=self)
                for inner in item.walk():
                    for var in item_variables(inner, q):
                        self._owner.setdefault(var.name, index)
        self._deps = [self._dependencies(i) for i in range(len(self._items))]
        # calculations whose first value is kept (once(), now(), uuid()): see the docstring
        self._kept = frozenset(
            index
            for index, item in enumerate(self._items)
            if item.type is ItemType.CALCULATE
            and item.calculation is not None
            and item.calculation.kept
        )
        self._page_refs = [self._display_references(item) for item in self._items]
        self._order = _topological_order(self._deps)
        self._rank = {index: rank for rank, index in enumerate(self._order)}
        self._plans: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._pages: dict[Mode, list[Page]] = {}
        self._page_plans: dict[tuple[Mode, str], tuple[int, ...]] = {}
        self._referenced: frozenset[str] | None = None

    # -- building ---------------------------------------------------------------------

    def _collect(self, items: Iterable[Item], parent: int | None) -> None:
        """Number every item of this scope in questionnaire order and remember its enclosing
        group (a repeat is an item here; its children are its own flow's)."""
        for item in items:
            self._items.append(item)
            self._parent.append(parent)
            if item.is_group:
                self._collect(item.children, len(self._items) - 1)

    @property
    def referenced_names(self) -> frozenset[str]:
        """Every name that an expression (condition, calculation, filter, constraint...) or a
        ``${name}`` text of this scope's items refers to, inside its lists too (made once).
        A variable not among them is never read by another item."""
        if self._referenced is None:
            names: set[str] = set()
            for top in self._items:
                for item in top.walk() if top.is_repeat else (top,):
                    for each in fields(item):
                        value = getattr(item, each.name)
                        if isinstance(value, Expression):
                            names |= value.references
                    for text in _texts_of(item):
                        for language_text in text.by_language.values():
                            names |= interpolate_references(language_text)
            self._referenced = frozenset(names)
        return self._referenced

    def _owners(self, names: Iterable[str]) -> set[int]:
        """The items that own these variable names (unknown names are the checker's job)."""
        return {self._owner[name] for name in names if name in self._owner}

    def _dependencies(self, index: int) -> tuple[int, ...]:
        """What must be evaluated before an item: its group and what it refers to."""
        item = self._items[index]
        parent = self._parent[index]
        deps = {parent} if parent is not None else set()
        # A repeat's instances are evaluated with it: what they use comes first.
        for each in item.walk() if item.is_repeat else (item,):
            for expression in (each.relevant, each.calculation, each.repeat_count):
                if expression is not None:
                    deps |= self._owners(expression.references)
        deps.discard(index)
        return tuple(sorted(deps))

    def _display_references(self, item: Item) -> tuple[int, ...]:
        """The items a page needs evaluated to check and show this item."""
        names: set[str] = set()
        for each in item.walk() if item.is_repeat else (item,):
            for expression in (
                each.constraint,
                each.choice_filter,
                each.required,
                each.seed,
                each.default_expression,
            ):
                if isinstance(expression, Expression):
                    names |= expression.references
            for text in _texts_of(each):
                for language_text in text.by_language.values():
                    names |= interpolate_references(language_text)
        owners = self._owners(names)
        owners.discard(self._position[item.name])
        return tuple(sorted(owners))

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
                specs = group_pages(items)
            else:
                specs = question_pages(items, None)
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
        return any(
            is_visible(item) and state.is_relevant(item.name) and _has_something(item, state)
            for item in page.items
        )

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
        problems = self.problems(state, mode)
        for page in self.pages(mode):
            if self.is_shown(page, state, mode) and self._has_problem(page, problems):
                candidates.append(page)
                break
        return min((p for p in candidates if p is not None), key=page_index, default=None)

    def _has_problem(self, page: Page, problems: Mapping[str, ErrorText]) -> bool:
        """True when one of ``problems`` belongs to a question of ``page``."""
        names = {item.name for item in page.questions + page.repeats}
        return any(self.variables[_scope_name(name)].item.name in names for name in problems)

    def progress(self, state: State, mode: Mode, last_submitted: str | None) -> float:
        """The share (0..1) of the shown pages up to and including ``last_submitted``."""
        shown = [p for p in self.pages(mode) if self.is_shown(p, state, mode)]
        if not shown or last_submitted is None:
            return 0.0
        done_until = self.page(mode, last_submitted).index
        return sum(1 for p in shown if p.index <= done_until) / len(shown)

    # -- answers ------------------------------------------------------------------------

    def state(
        self,
        answers: Mapping[str, Any],
        *,
        sample: Mapping[str, Any],
        today: date,
        now: datetime | None = None,
        seed: str = "",
    ) -> State:
        """The relevance and calculations for these answers (evaluated on demand); ``now``
        is what now() reads (None: the start of ``today``); ``seed`` names the response,
        whose randomized lists keep their order with it."""
        return State(self, answers, sample, today, now=now, seed=seed)

    def is_kept(self, item: Item) -> bool:
        """True for a calculation whose first value is kept with the answers."""
        position = self._position.get(item.name)
        return position is not None and position in self._kept

    def ordered_choices(self, item: Item, state: State) -> list[Choice]:
        """Every choice of the item's list in the order shown: as written, or for a
        randomized item in the response's own order (``other`` and don't know / refused
        choices last, in their written order); the codes stay as they are."""
        choice_list = self.questionnaire.choice_list(item)
        if choice_list is None:
            return []
        if not item.randomize:
            return list(choice_list.choices)
        settings = self.questionnaire.settings
        pinned = {str(settings.dont_know_code), str(settings.refused_code)}
        return shuffled(
            choice_list.choices,
            self._order_key(item, state),
            last=lambda c: c.other or c.name in pinned or c.name.lower() in PINNED_CHOICES,
        )

    def ordered_items(self, group: Item, items: list[_T], state: State) -> list[_T]:
        """A group's items (or the page blocks made of them) in the order shown: as
        written, or for a randomized group in the response's own order."""
        if not group.randomize:
            return list(items)
        return shuffled(items, self._order_key(group, state))

    def _order_key(self, item: Item, state: State) -> str:
        """What a randomized item's order follows: its ``seed`` when it has a value (the
        same seed, the same order, as in ODK), else the response and the item."""
        if item.seed is not None:
            state.ensure(self._plan(self._page_refs[self._position[item.name]]))
            value = item.seed.evaluate(state.context())
            if value not in (None, ""):
                return f"seed:{value}"
        return f"{state.seed}:{item.name}"

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
        now: datetime | None = None,
    ) -> PageResult:
        """Parse and check the fields submitted for ``page`` against ``answers`` so far.

        A repeat on the page sends its number of instances under its own name and each
        instance's fields as ``REPEAT.N.VARIABLE`` (nested: ``R.1.S.2.x``); errors are keyed
        the same way, and a marker field ``REPEAT.N`` (any value) for each instance the page
        holds: an instance with neither marker nor fields is kept as stored (the roster
        shows one instance at a time). A count that is not a whole number up to the
        repeat's maximum is an error of the repeat (its instances are then not taken); a
        field of an instance past the count is an unknown field."""
        items = page.questions + page.repeats
        consumed: set[str] = set()
        errors: dict[str, ErrorText] = {}
        parsed = self._parse_scope(items, form, "", answers, mode, consumed, errors)
        state = self.state(parsed.merged(answers), sample=sample, today=today, now=now)
        state.ensure(self._page_plan(mode, page))
        problems = self._problems_of_items(items, state, mode)
        values: dict[str, Value | None] = {}
        ignored: list[str] = []
        self._scope_values(items, state, answers, parsed, "", problems, errors, values, ignored)
        state.ensure(self._plan(self._kept))  # a kept calculation's first value is stored
        for name, value in state.fresh_kept().items():
            values.setdefault(name, value)
        unknown = [name for name in form if name not in consumed]
        ignored.extend(unknown)
        return PageResult(values, errors, ignored, unknown)

    def _parse_scope(
        self,
        items: Iterable[Item],
        form: Mapping[str, Any],
        prefix: str,
        stored: Mapping[str, Any],
        mode: Mode,
        consumed: set[str],
        errors: dict[str, ErrorText],
    ) -> _Parsed:
        """The fields of ``items`` (``prefix`` before their names), parsed; the fields read
        are added to ``consumed`` and what cannot be read to ``errors``."""
        parsed = _Parsed()
        for item in items:
            if item.read_only:
                continue
            if item.is_repeat:
                parsed.instances[item.name] = self._parse_instances(
                    item, form, prefix, stored, mode, consumed, errors
                )
                continue
            for var in self.variables_of(item):
                key = prefix + var.name
                consumed.add(key)
                if item.type is ItemType.FILE and mode == PHONE:
                    # no file is collected by phone: the question is a note there, and
                    # whatever was sent on the web stays as it is
                    parsed.values[var.name] = stored.get(var.name)
                    parsed.filled[var.name] = False
                    continue
                raw = field_values(form, key)
                parsed.filled[var.name] = any(value.strip() for value in raw)
                try:
                    parsed.values[var.name] = self._parse(var, raw, mode)
                except InvalidValue as invalid:
                    parsed.values[var.name] = None
                    errors[key] = invalid.message
        return parsed

    def _parse_instances(
        self,
        repeat: Item,
        form: Mapping[str, Any],
        prefix: str,
        stored: Mapping[str, Any],
        mode: Mode,
        consumed: set[str],
        errors: dict[str, ErrorText],
    ) -> list[tuple[Mapping[str, Any], _Parsed]] | None:
        """Each submitted instance of ``repeat`` with what it had stored; None when the
        count sent is not acceptable (an error of the repeat)."""
        key = prefix + repeat.name
        consumed.add(key)
        before = stored.get(repeat.name)
        before = before if isinstance(before, tuple) else ()
        sent = [value.strip() for value in field_values(form, key)]
        if not sent:
            count = len(before)
        elif (
            len(sent) == 1
            and (count_sent := _whole_number(sent[0])) is not None
            and count_sent <= repeat.max_instances
        ):
            count = count_sent
        else:
            errors[key] = Message(
                N_("This list holds at most %(count)d entries."), {"count": repeat.max_instances}
            )
            return None
        flow = self.repeat_flows[repeat.name]
        shown = flow.shown_items()
        sent_instances = _sent_instances(form, key, count)
        instances: list[tuple[Mapping[str, Any], _Parsed]] = []
        for number in range(1, count + 1):
            base = before[number - 1] if number <= len(before) else {}
            if number in sent_instances:
                consumed.add(f"{key}.{number}")
                inner = flow._parse_scope(
                    shown, form, f"{key}.{number}.", base, mode, consumed, errors
                )
            else:
                inner = _Parsed(kept=True)
            instances.append((base, inner))
        return instances

    def _scope_values(
        self,
        items: Iterable[Item],
        state: State,
        stored: Mapping[str, Any],
        parsed: _Parsed,
        prefix: str,
        problems: Mapping[str, ErrorText],
        errors: dict[str, ErrorText],
        values: dict[str, Any],
        ignored: list[str],
    ) -> None:
        """The values to store for the submitted ``items``: only relevant answers that
        passed, the stored answer of an irrelevant item kept; errors completed."""
        for item in items:
            if item.read_only:
                continue
            if item.is_repeat:
                self._repeat_values(
                    item, state, stored, parsed, prefix, problems, errors, values, ignored
                )
                continue
            for var in self.variables_of(item):
                key = prefix + var.name
                if not state.is_relevant_variable(var.name):
                    errors.pop(key, None)
                    if parsed.filled.get(var.name):
                        ignored.append(key)
                elif key not in errors:
                    if key in problems:
                        errors[key] = problems[key]
                    else:
                        values[var.name] = parsed.values.get(var.name)

    def _repeat_values(
        self,
        repeat: Item,
        state: State,
        stored: Mapping[str, Any],
        parsed: _Parsed,
        prefix: str,
        problems: Mapping[str, ErrorText],
        errors: dict[str, ErrorText],
        values: dict[str, Any],
        ignored: list[str],
    ) -> None:
        """A repeat's instances to store: each instance's stored answers updated with what
        passed in it; instances past a fixed count kept as they were stored."""
        key = prefix + repeat.name
        submitted = parsed.instances.get(repeat.name)
        if not state.is_relevant(repeat.name):
            for name in [name for name in errors if name == key or name.startswith(key + ".")]:
                del errors[name]
            if submitted and any(inner.any_filled() for _, inner in submitted):
                ignored.append(key)
            return
        if submitted is None:  # its count was refused: nothing of it is taken
            return
        if key in problems:
            errors[key] = problems[key]
        flow = self.repeat_flows[repeat.name]
        shown = flow.shown_items()
        before = stored.get(repeat.name)
        before = before if isinstance(before, tuple) else ()
        kept: list[dict[str, Any]] = []
        for number, instance in enumerate(state.instances(repeat.name), 1):
            if number <= len(submitted):
                base, inner = submitted[number - 1]
            elif number <= len(before):  # a fixed count above the count sent (a stale
                base, inner = before[number - 1], _Parsed(kept=True)  # page): kept as stored
            else:  # a new instance of a fixed count the page's own answers raised: its
                base, inner = {}, _Parsed()  # problems are reported (the page shows it)
            if inner.kept:
                kept.append(dict(base))
                continue
            instance_values: dict[str, Any] = {}
            flow._scope_values(
                shown,
                instance,
                base,
                inner,
                f"{key}.{number}.",
                problems,
                errors,
                instance_values,
                ignored,
            )
            for name, value in instance.fresh_kept().items():
                instance_values.setdefault(name, value)
            merged = dict(base)
            for name, value in instance_values.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            kept.append(merged)
        if repeat.repeat_count is not None:
            kept.extend(dict(each) for each in before[len(kept) :])
        values[repeat.name] = tuple(kept)

    def add_instance(self, answers: Mapping[str, Any], path: str) -> dict[str, Any]:
        """``answers`` with an empty instance added to the repeat at ``path`` (``R``, or
        ``R.2.S`` for S inside the second instance of R). Raises ``InvalidInstance`` for
        a path that names no open repeat or instance, or a list already full."""
        return self._change_instances(answers, path.split("."), remove=False)

    def remove_instance(self, answers: Mapping[str, Any], path: str) -> dict[str, Any]:
        """``answers`` without the instance at ``path`` (``R.2``, or ``R.1.S.3``); the
        following ones move up. Raises ``InvalidInstance`` as ``add_instance`` does."""
        parts = path.split(".")
        return self._change_instances(answers, parts, remove=True)

    def _change_instances(
        self, answers: Mapping[str, Any], parts: list[str], *, remove: bool
    ) -> dict[str, Any]:
        name = parts[0] if parts else ""  # "R.2" to add to: a path that ends at an instance
        var = self.variables.get(name)
        if var is None or var.kind is not VariableKind.REPEAT:
            raise InvalidInstance(Message(N_("There is no such list on this page.")))
        repeat = var.item
        before = answers.get(name)
        instances = list(before) if isinstance(before, tuple) else []
        rest = parts[1:]
        if rest:
            number = _instance_number(rest[0], len(instances))
            if remove and len(rest) == 1:
                if repeat.repeat_count is not None:
                    raise InvalidInstance(Message(N_("This list has a fixed number of entries.")))
                del instances[number - 1]
            else:
                flow = self.repeat_flows[name]
                instances[number - 1] = flow._change_instances(
                    instances[number - 1], rest[1:], remove=remove
                )
        elif remove:
            raise InvalidInstance(Message(N_("Say which entry to remove.")))
        else:
            if repeat.repeat_count is not None:
                raise InvalidInstance(Message(N_("This list has a fixed number of entries.")))
            if len(instances) >= repeat.max_instances:
                raise InvalidInstance(
                    Message(
                        N_("This list holds at most %(count)d entries."),
                        {"count": repeat.max_instances},
                    )
                )
            instances.append({})
        changed = dict(answers)
        changed[name] = tuple(instances)
        return changed

    def _parse(self, var: Variable, raw: list[str], mode: Mode) -> Value | None:
        """The value of one submitted field (None when it was left empty)."""
        # NUL cannot be stored (PostgreSQL text) and no person types it: drop it first.
        every = [value.replace("\x00", "").strip() for value in raw]
        values = [value for value in every if value]
        if not values:
            return None
        kind = var.value_type
        if kind is ItemType.GEOPOINT and len(every) > 1 and not set(values) & FIELD_VALUES.keys():
            return parse_point(every)  # its fields: latitude, longitude, altitude, accuracy
        missing = [FIELD_VALUES[v] for v in values if v in FIELD_VALUES]
        if missing:
            if len(values) > 1:
                raise InvalidValue(
                    Message(N_("Don't know or refused cannot be combined with another answer."))
                )
            self._check_missing_allowed(var, missing[0], mode)
            return missing[0]
        if kind is ItemType.SELECT_MULTIPLE:
            return self._parse_codes(var, values)
        if kind is ItemType.RANK:
            choices = self.questionnaire.choice_list(var.item)
            return parse_rank(values, choices.codes if choices else ())
        if len(values) > 1:
            raise InvalidValue(Message(N_("Give only one answer.")))
        if var.value_type is ItemType.SELECT_ONE:
            return self._parse_codes(var, values)[0]
        if var.kind is VariableKind.OTHER:
            return parse_text(values[0], OTHER_MAX_LENGTH)
        if kind is ItemType.RANGE and var.item.range is not None:
            return parse_range(values[0], var.item.range)
        if kind is ItemType.DATE and var.item.date_precision != "day":
            return parse_partial_date(values[0], var.item.date_precision)
        return PARSERS[kind](values[0])

    def _check_missing_allowed(self, var: Variable, missing: Missing, mode: Mode) -> None:
        """Refuse a don't know / refused where the item or the settings do not allow it."""
        if var.kind is VariableKind.OTHER:
            raise InvalidValue(Message(N_("Say what the other answer is.")))
        if missing is DONT_KNOW:
            availability = var.item.dont_know or self.settings.dont_know
            message = Message(N_("Don't know is not allowed for this question."))
        else:
            availability = var.item.refused or self.settings.refused
            message = Message(N_("Refusal is not allowed for this question."))
        if not _allows(availability, mode):
            raise InvalidValue(message)

    def _parse_codes(self, var: Variable, values: list[str]) -> tuple[str, ...]:
        """Choice codes in choice-list order, without repeats; each must be in the list."""
        choices = self.questionnaire.choice_list(var.item)
        codes = choices.codes if choices else ()
        if any(value not in codes for value in values):
            raise InvalidValue(Message(N_("Choose one of the listed answers.")))
        chosen = set(values)
        return tuple(code for code in codes if code in chosen)

    # -- checking -----------------------------------------------------------------------

    def problems(self, state: State, mode: Mode = WEB) -> dict[str, ErrorText]:
        """Every problem of the relevant answers: missing required ones, unmet constraints,
        codes no longer offered, a missing ``other`` text; keyed by variable name. By phone
        a file question is never missing (files are not collected by phone)."""
        state.ensure(self._order)
        questions = [item for item in self._items if item.type.is_question or item.is_repeat]
        return self._problems_of_items(questions, state, mode)

    def is_complete(self, state: State, mode: Mode = WEB) -> bool:
        """True when every relevant required question is answered (or DK/RF) and every
        relevant answer meets its constraint."""
        return not self.problems(state, mode)

    def _problems_of_items(
        self, items: Iterable[Item], state: State, mode: Mode = WEB
    ) -> dict[str, ErrorText]:
        """The problems of the relevant ones of ``items``, whose plan ``state`` has evaluated."""
        problems: dict[str, ErrorText] = {}
        for item in items:
            if not state.is_relevant(item.name):
                continue
            if item.is_repeat:
                problems.update(self._repeat_problems(item, state, mode))
                continue
            required = item.required
            if isinstance(required, Expression):
                required = required.evaluate_bool(state.context())
            if item.type is ItemType.FILE and mode == PHONE:
                required = False
            for var in self.variables_of(item):
                problem = self._problem(var, state, required)
                if problem is not None:
                    problems[var.name] = problem
        return problems

    def _repeat_problems(self, repeat: Item, state: State, mode: Mode) -> dict[str, ErrorText]:
        """Too few instances (``repeat_min``), and each instance's problems, keyed by the
        instance's field names (``REPEAT.N.VARIABLE``)."""
        problems: dict[str, ErrorText] = {}
        instances = state.instances(repeat.name)
        if repeat.repeat_count is None and len(instances) < (repeat.repeat_min or 0):
            problems[repeat.name] = Message(
                N_("Add at least %(count)d (there are %(given)d)."),
                {"count": repeat.repeat_min, "given": len(instances)},
            )
        flow = self.repeat_flows[repeat.name]
        for number, instance in enumerate(instances, 1):
            for name, problem in flow.problems(instance, mode).items():
                problems[f"{repeat.name}.{number}.{name}"] = problem
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
                value = self.clean_value(state, var.name)
                if value is not None:
                    clean[var.name] = value
        return clean

    def clean_value(self, state: State, name: str) -> Any:
        """One variable's entry of ``clean_answers`` (None when it has none): a list's clean
        instances, else the answer or calculation, if the variable counts."""
        if not state.is_relevant_variable(name):
            return None
        repeat = self.repeat_flows.get(name)
        if repeat is not None:
            return tuple(repeat.clean_answers(instance) for instance in state.instances(name))
        return state.answer(name)

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
        if var is None and self.outer is not None and state.outer is not None:
            return self.outer._format_value(name, state.outer, language)  # an enclosing scope's
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
        return self._form_values(page.questions + page.repeats, state, "")

    def _form_values(
        self, items: Iterable[Item], state: State, prefix: str
    ) -> dict[str, list[str]]:
        filled: dict[str, list[str]] = {}
        for item in items:
            if item.is_repeat:
                filled.update(self._instance_form_values(item, state, prefix))
                continue
            for var in self.variables_of(item):
                value = state.answers.get(var.name)
                if value is not None:
                    filled[prefix + var.name] = to_field(value)
                elif item.default is not None and var.kind is not VariableKind.OTHER:
                    filled[prefix + var.name] = [item.default]
                elif item.default_expression is not None and var.kind is VariableKind.ANSWER:
                    if suggested := self._dynamic_default(item, item.default_expression, state):
                        filled[prefix + var.name] = suggested
        return filled

    def _dynamic_default(self, item: Item, expression: Expression, state: State) -> list[str]:
        """A question's default expression evaluated for these answers, as its field holds
        it (nothing when it has no value)."""
        state.ensure(self._plan(self._page_refs[self._position[item.name]]))
        return default_field(item.type, expression.evaluate(state.context()))

    def _instance_form_values(
        self, repeat: Item, state: State, prefix: str
    ) -> dict[str, list[str]]:
        """A repeat's fields: its count under its name, each instance's fields under
        ``REPEAT.N.``; an irrelevant repeat's instances are not shown."""
        flow = self.repeat_flows[repeat.name]
        instances = state.instances(repeat.name) if state.is_relevant(repeat.name) else []
        filled = {prefix + repeat.name: [str(len(instances))]}
        for number, instance in enumerate(instances, 1):
            inner = f"{prefix}{repeat.name}.{number}"
            filled[inner] = ["1"]
            filled.update(flow._form_values(flow.shown_items(), instance, inner + "."))
        return filled

    def file_fields(self, page: Page, state: State) -> dict[str, StoredFile | None]:
        """The fields of the page's file questions (``REPEAT.N.x`` inside a list's stored
        instances) and the file each holds now (None: none)."""
        return self._file_fields(page.questions + page.repeats, state.answers, "")

    def _file_fields(
        self, items: Iterable[Item], answers: Mapping[str, Any], prefix: str
    ) -> dict[str, StoredFile | None]:
        found: dict[str, StoredFile | None] = {}
        for item in items:
            if item.is_repeat:
                flow = self.repeat_flows[item.name]
                stored = answers.get(item.name)
                for number, instance in enumerate(stored if isinstance(stored, tuple) else (), 1):
                    key = f"{prefix}{item.name}.{number}."
                    found.update(flow._file_fields(flow.shown_items(), instance, key))
            elif item.type is ItemType.FILE and not item.read_only:
                value = answers.get(item.name)
                found[prefix + item.name] = value if isinstance(value, StoredFile) else None
        return found

    def shown_items(self) -> list[Item]:
        """For a repeat's flow: what one instance shows, in order (notes, questions, nested
        groups and repeats; not calculations)."""
        return [item for item in self._items if is_visible(item) or item.is_group]


class State:
    """Relevance and calculations for one set of answers, evaluated on demand and kept."""

    def __init__(
        self,
        flow: Flow,
        answers: Mapping[str, Any],
        sample: Mapping[str, Any],
        today: date,
        *,
        now: datetime | None = None,
        outer: State | None = None,
        position: int | None = None,
        seed: str = "",
    ) -> None:
        self.flow = flow
        # what randomized lists are ordered by: the response, and inside a repeat the
        # instance too (each entry its own order)
        self.seed: str = seed if outer is None else f"{outer.seed}.{position}"
        self.answers = answers
        self.sample = sample
        self.today = today
        self.now = now
        self.outer = outer  # for a repeat instance: the state of the scope around it
        self.position = position  # for a repeat instance: its number, from 1
        count = len(flow._items)
        self._relevant: list[bool | None] = [None] * count
        self._values: dict[str, Any] = {}  # what expressions see: empty when irrelevant
        self._calculated: dict[str, Any] = {}
        self._fresh: dict[str, Any] = {}  # kept calculations computed here, not stored yet
        self._instances: dict[str, list[State]] = {}
        # Inside an instance, ${x} is this instance's x, else an enclosing scope's.
        self._visible: MutableMapping[str, Any] = (
            self._values if outer is None else ChainMap(self._values, outer._visible)
        )
        self._base = Context(
            values=self._visible,
            sample=sample,
            today=today,
            now=now,
            position=position,
            labels=flow.choice_labels,
        )

    def context(self, *, current: Any = None, choice: Mapping[str, str] | None = None) -> Context:
        """An expression context over the values evaluated so far."""
        if current is None and choice is None:
            return self._base
        return Context(
            values=self._visible,
            current=current,
            sample=self.sample,
            choice=choice or {},
            today=self.today,
            now=self.now,
            position=self.position,
            labels=self.flow.choice_labels,
        )

    def ensure_all(self) -> None:
        """Evaluate every item (what reading the whole response needs)."""
        self.ensure(self.flow._order)

    def instances(self, repeat: str) -> list[State]:
        """The states of the instances of the repeat called ``repeat`` that count now: none
        when it is irrelevant; for a fixed count, that many (unanswered ones empty)."""
        self.is_relevant(repeat)
        return self._instances.get(repeat, [])

    def _evaluate_repeat(self, item: Item, relevant: bool) -> None:
        """Build a repeat's instance states and publish its node-sets to expressions."""
        flow = self.flow.repeat_flows[item.name]
        stored = self.answers.get(item.name)
        stored = stored if isinstance(stored, tuple) else ()
        count = 0
        if relevant:
            count = instance_count(item, len(stored), self._base)
        states = [
            State(
                flow,
                stored[number] if number < len(stored) else {},
                self.sample,
                self.today,
                now=self.now,
                outer=self,
                position=number + 1,
            )
            for number in range(count)
        ]
        self._instances[item.name] = states
        # The repeat's own node-set first: an instance may count its siblings (count(${r})).
        self._values[item.name] = NodeSet(
            [float(n) for n in range(1, count + 1)], [(n,) for n in range(1, count + 1)]
        )
        for state in states:
            state.ensure(flow._order)
        for name in flow._owner:
            values: list[Any] = []
            paths: list[tuple[int, ...]] = []
            for number, state in enumerate(states, 1):
                value = state._values.get(name)
                if isinstance(value, NodeSet):
                    values.extend(value)
                    paths.extend((number, *path) for path in value.paths)
                else:
                    values.append("" if value is None else value)
                    paths.append((number,))
            self._values[name] = NodeSet(values, paths)

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
        if item.is_repeat:
            self._evaluate_repeat(item, relevant)
            return
        for var in flow._variables_of[index]:
            if var.kind is VariableKind.CALCULATION:
                value = None
                if relevant and item.calculation is not None:
                    value = self._calculate(index, var.name, item.calculation)
                self._calculated[var.name] = value
            elif self.is_relevant_variable(var.name):
                value = _expression_value(self.answers.get(var.name))
            else:
                value = None
            self._values[var.name] = value

    def _calculate(self, index: int, name: str, calculation: Expression) -> Any:
        """A relevant calculation's value: a kept one's stored value once it has one."""
        if index not in self.flow._kept:
            return calculation.evaluate(self._base)
        stored = self.answers.get(name)
        if stored is not None and stored != "" and not isinstance(stored, Missing):
            return stored
        value = calculation.evaluate(self._base)
        if value is not None:
            self._fresh[name] = value
        return value

    def fresh_kept(self) -> dict[str, Any]:
        """The kept calculations evaluated here that have a value and none stored yet."""
        return dict(self._fresh)

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


def _sent_instances(form: Mapping[str, Any], key: str, count: int) -> set[int]:
    """The instances of the repeat field ``key`` that the form holds: those with a marker
    field ``KEY.N`` or any field ``KEY.N.…`` (a page may show only some instances, as the
    interviewer's roster does one at a time; the others are kept as stored)."""
    prefix = key + "."
    sent: set[int] = set()
    for name in form:
        if name.startswith(prefix):
            number = name[len(prefix) :].split(".", 1)[0]
            instance = _whole_number(number)
            if instance is not None and 1 <= instance <= count:
                sent.add(instance)
    return sent


def _instance_number(text: str, count: int) -> int:
    """An instance number from a path: a whole number from 1 to ``count``."""
    number = _whole_number(text)
    if number is None or not 1 <= number <= count:
        raise InvalidInstance(Message(N_("There is no such entry in this list.")))
    return number


def _whole_number(text: str) -> int | None:
    """A count or instance number as a form or path writes it: ASCII digits (not '²',
    which ``int`` refuses, nor thousands of digits, which it refuses too); else None."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def _has_something(item: Item, state: State) -> bool:
    """False for a repeat with a fixed count that is now 0: it has nothing to show."""
    return not (item.is_repeat and item.repeat_count is not None and not state.instances(item.name))


def _scope_name(key: str) -> str:
    """The variable of this scope a problem or field key belongs to (``R.2.x`` -> ``R``)."""
    return key.split(".", 1)[0]


def instance_count(repeat: Item, stored: int, context: Context) -> int:
    """How many instances a relevant repeat has: its ``repeat_count`` (0 when empty or not
    a number), else as many as are stored; never more than its maximum."""
    if repeat.repeat_count is not None:
        value = repeat.repeat_count.evaluate(context)
        try:
            wanted = int(value) if value is not None and not isinstance(value, bool) else 0
        except (TypeError, ValueError):
            wanted = 0
    else:
        wanted = stored
    return max(0, min(wanted, repeat.max_instances))


def _allows(availability: Availability, mode: Mode) -> bool:
    """True when a don't know / refused with this availability may be recorded in ``mode``."""
    return availability is Availability.YES or (
        availability is Availability.PHONE and mode == PHONE
    )


_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")  # far beyond MAX_INSTANCES, far below int's limit
_REFERENCE = re.compile(r"\$\{([^}]*)\}")  # as expressions.interpolate_references reads it
_SAMPLE_PREFIX = "sample."


def _expression_value(value: Any) -> Any:
    """What expressions see for an answer: DK/RF as empty; a time as "HH:MM" (which
    equals '08:00' and compares as a time of day); a moment as its Warsaw wall-clock time
    (the expressions' rule)."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, StoredFile):
        return value.name  # a file reads as its name, as in ODK
    return None if isinstance(value, Missing) else value


def choice_labels(q: Questionnaire) -> dict[str, dict[str, str]]:
    """What ``jr:choice-name`` reads: for each select question (and matrix row), its codes
    and their labels in the questionnaire's default language (as in the exports)."""
    language = q.settings.default_language
    labels: dict[str, dict[str, str]] = {}
    for item in q.walk():
        choice_list = q.choice_list(item) if item.type.uses_choices else None
        if choice_list is None:
            continue
        by_code = {
            choice.name: choice.label.get(language, language) for choice in choice_list.choices
        }
        for name in item.variable_names():
            labels[name] = by_code
    return labels


def _format_scalar(value: Any, language: str) -> str:
    """A plain value as it reads in a label."""
    if value is None or isinstance(value, Missing):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return dates.format_local(value)
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
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
