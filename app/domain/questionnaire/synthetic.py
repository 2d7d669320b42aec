"""Synthetic answers that a respondent could have given, for demo data and benchmarks.

``generate_answers`` plays a respondent (mode ``"web"``) or an interviewer (mode
``"phone"``): it walks the pages with ``Flow.next_page``, fills every editable field of a
page with random values of the right type, and submits the page through
``Flow.validate_page`` — the same check the real forms go through — so whatever it
returns is exactly what the flow accepts. Where a value is refused (a constraint such as
"no more than the total given before", a choice_filter, a required answer left empty)
only the refused fields get a new candidate, smaller or otherwise different, within a
bounded number of tries per page. A page that still cannot be satisfied ends the walk:
the answers so far are returned, marked incomplete (a partial response).

Lists (repeats) on a page are filled the same way, through their form fields: a fixed
count gives as many instances as its ``repeat_count`` says once the answers it reads are
in, an open list a random number within ``repeat_min`` and ``repeat_max`` (a few,
``OPEN_LIST_INSTANCES``, where it sets no maximum), each instance answered with its own
relevance, constraints and required answers, nested lists inside it likewise.

File questions are left empty (no file is made up), so a required one on the web ends the
walk there; by phone files are not collected anyway.

Plain Python: no Flask, no database; randomness only from the ``rng`` passed in, so the
same seed gives the same answers.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.domain.questionnaire.answers import Missing, Variable, VariableKind
from app.domain.questionnaire.fields import DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE
from app.domain.questionnaire.flow import PHONE, WEB, Flow, Mode, State
from app.domain.questionnaire.model import Availability, Item, ItemType
from app.domain.questionnaire.pages import Page

MAX_PAGE_TRIES = 40  # submissions of one page before the walk gives up (a partial response)
REDRAW_NEIGHBOURS_AFTER = 3  # tries before the answers a refused one refers to are redrawn
MISSING_SHARE = 0.04  # share of phone answers recorded as don't know / refused where allowed
SKIP_OPTIONAL_TEXT_SHARE = 0.3  # optional free texts that people leave empty
OPEN_LIST_INSTANCES = (1, 5)  # an open list without bounds: between these many instances
DEFAULT_NUMBER_BOUNDS = (0, 60)  # an unconstrained count: a plausible small number
DATE_SPAN_DAYS = 365  # dates are drawn from the year before ``today``, never after it

# Numbers written in a constraint, e.g. 0 and 500 in ". >= 0 and . <= 500": likely bounds.
_LITERAL = re.compile(r"(?<![\w.$'\"{])[0-9]+(?:\.[0-9]+)?(?![\w'\"])")


@dataclass
class SyntheticAnswers:
    """What one synthetic respondent gave: the stored answers and how far they got."""

    answers: dict[str, Any]  # as ``PageResult.apply`` builds them: the stored answers
    complete: bool  # every page was accepted and ``Flow.is_complete`` holds
    last_page: str | None  # the id of the last page accepted (None: not even the first)
    mode: Mode


def generate_answers(
    flow: Flow,
    *,
    sample: Mapping[str, Any],
    today: date,
    rng: random.Random,
    mode: Mode = WEB,
    open_lists: tuple[int, int] = OPEN_LIST_INSTANCES,
) -> SyntheticAnswers:
    """Answers a respondent could have given, page by page through ``flow.validate_page``;
    an open list without bounds gets between ``open_lists`` instances (within its own
    bounds when it has them; ``(0, 0)``: none unless its ``repeat_min`` asks)."""
    answers: dict[str, Any] = {}
    last_page: str | None = None
    while True:
        state = flow.state(answers, sample=sample, today=today)
        page = flow.next_page(state, mode, last_page)
        if page is None:
            break
        accepted = _fill_page(
            flow,
            page,
            answers,
            sample=sample,
            today=today,
            rng=rng,
            mode=mode,
            open_lists=open_lists,
        )
        if accepted is None:
            return SyntheticAnswers(answers, False, last_page, mode)
        answers = accepted
        last_page = page.id
    complete = flow.is_complete(flow.state(answers, sample=sample, today=today), mode)
    return SyntheticAnswers(answers, complete, last_page, mode)


def _fill_page(
    flow: Flow,
    page: Page,
    answers: dict[str, Any],
    *,
    sample: Mapping[str, Any],
    today: date,
    rng: random.Random,
    mode: Mode,
    open_lists: tuple[int, int] = OPEN_LIST_INSTANCES,
) -> dict[str, Any] | None:
    """The answers with ``page`` submitted and accepted, or None if no try was accepted."""
    items = page.questions + page.repeats
    counts: dict[str, int] = {}  # the number of instances drawn for each open list
    # What the page's own accepted answers imply (a choice_filter on an answer given on the
    # same page, a bound set by a neighbour, a fixed count given just before the list):
    # candidates are drawn against this.
    provisional: Mapping[str, Any] = answers
    fields: dict[str, list[str]] = {}
    redraw: set[str] = set()
    for attempt in range(MAX_PAGE_TRIES + 1):
        drawn = True
        while drawn:  # until every list met has its number of instances drawn
            shaped = _shaped(flow, page.repeats, provisional, "", counts)
            state = flow.state(shaped, sample=sample, today=today)
            layout: dict[str, _Field] = {}
            structure: dict[str, list[str]] = {}
            drawn = _lay_out(flow, items, state, "", counts, rng, layout, structure, open_lists)
        for key in [key for key in fields if key not in layout]:
            del fields[key]  # an instance no longer there
        for key, spot in layout.items():
            if key not in fields or key in redraw:
                fields[key] = _candidate(
                    spot.flow, spot.var, spot.state, attempt, today=today, rng=rng, mode=mode
                )
        if attempt == MAX_PAGE_TRIES:
            break
        form = {**fields, **structure}
        result = flow.validate_page(page, form, answers, mode=mode, sample=sample, today=today)
        provisional = result.apply(answers)
        if result.ok:
            # A list made relevant by an answer on the same page (an instance's own
            # filter) was left empty: accepted, but draw its instances and submit again.
            state = flow.state(provisional, sample=sample, today=today)
            if not _lay_out(flow, items, state, "", counts, rng, {}, {}, open_lists):
                return provisional
        redraw = {key for key in result.errors if key in layout}
        for key in result.errors:
            if key in structure:  # a list refused its count: draw another one
                counts.pop(key, None)
        if attempt + 1 >= REDRAW_NEIGHBOURS_AFTER:
            # A sum such as "${d3} + ${d4} + . <= ${b2}" cannot be met once its neighbours
            # on the page took too much: draw them again as well, from narrower ranges.
            for key in list(redraw):
                spot = layout[key]
                constraint = spot.var.item.constraint
                if constraint is not None:
                    for name in constraint.references:
                        inner = spot.prefix + name
                        redraw |= {inner if inner in layout else name} & layout.keys()
    return None


@dataclass(frozen=True)
class _Field:
    """Where a form field's value is drawn: the variable, in its scope's flow and state."""

    flow: Flow  # the response's flow, or a repeat's for a field of an instance
    var: Variable
    state: State  # the response's state, or the instance's
    prefix: str  # before the variable's name in the field's key: "" or "R.2."


def _open_count(
    repeat: Item, rng: random.Random, open_lists: tuple[int, int] = OPEN_LIST_INSTANCES
) -> int:
    """How many instances to give an open list: within its bounds, a few when unbounded."""
    least = repeat.repeat_min if repeat.repeat_min is not None else open_lists[0]
    most = max(least, min(repeat.max_instances, open_lists[1]))
    return rng.randint(least, most)


def _shaped(
    flow: Flow,
    repeats: Iterable[Item],
    answers: Mapping[str, Any],
    prefix: str,
    counts: Mapping[str, int],
) -> Mapping[str, Any]:
    """``answers`` with each open list of ``repeats`` (nested ones too) holding the number
    of instances drawn for it, so the instances' states exist to draw answers against."""
    shaped = dict(answers)
    for repeat in repeats:
        key = prefix + repeat.name
        stored = answers.get(repeat.name)
        instances = list(stored) if isinstance(stored, tuple) else []
        if repeat.repeat_count is None and key in counts:
            instances = instances[: counts[key]]
            instances += [{}] * (counts[key] - len(instances))
        inner = flow.repeat_flows[repeat.name]
        nested = [item for item in inner.shown_items() if item.is_repeat]
        shaped[repeat.name] = tuple(
            _shaped(inner, nested, instance, f"{key}.{number}.", counts)
            for number, instance in enumerate(instances, 1)
        )
    return shaped


def _lay_out(
    flow: Flow,
    items: Iterable[Item],
    state: State,
    prefix: str,
    counts: dict[str, int],
    rng: random.Random,
    layout: dict[str, _Field],
    structure: dict[str, list[str]],
    open_lists: tuple[int, int] = OPEN_LIST_INSTANCES,
) -> bool:
    """The fields to fill for ``items`` in ``state``'s scope, into ``layout``, and each
    relevant list's count and instance markers into ``structure``. The number of instances
    of an open list is drawn the first time it is met: then True (lay out again with them).
    """
    drawn = False
    for item in items:
        if item.read_only:
            continue
        if item.is_repeat:
            key = prefix + item.name
            if not state.is_relevant(item.name):
                continue
            if item.repeat_count is None and key not in counts:
                counts[key] = _open_count(item, rng, open_lists)
                drawn = True
            instances = state.instances(item.name)
            structure[key] = [str(len(instances))]
            inner = flow.repeat_flows[item.name]
            shown = [
                each for each in inner.shown_items() if each.type.is_question or each.is_repeat
            ]
            for number, instance in enumerate(instances, 1):
                structure[f"{key}.{number}"] = ["1"]
                inner_prefix = f"{key}.{number}."
                drawn |= _lay_out(
                    inner, shown, instance, inner_prefix, counts, rng, layout, structure, open_lists
                )
        elif item.type.is_question:
            for var in flow.variables_of(item):
                layout[prefix + var.name] = _Field(flow, var, state, prefix)
    return drawn


def _candidate(
    flow: Flow,
    var: Variable,
    state: State,
    attempt: int,
    *,
    today: date,
    rng: random.Random,
    mode: Mode,
) -> list[str]:
    """The form field values to try for ``var`` (an empty list leaves the field empty)."""
    item = var.item
    if var.kind is VariableKind.OTHER:
        return [f"Inna odpowiedź {rng.randint(1, 99)}"]
    if var.value_type is ItemType.FILE:
        return []  # no file is made up: a synthetic respondent sends none
    missing = _allowed_missing(flow, var, mode)
    last_resort = attempt >= MAX_PAGE_TRIES // 2
    if missing and (rng.random() < MISSING_SHARE or (last_resort and rng.random() < 0.5)):
        return [rng.choice(missing)]
    if last_resort and rng.random() < 0.2:
        return []  # an optional answer may be left out; a required one will be refused again
    kind = var.value_type
    if kind in (ItemType.TEXT, ItemType.TEXTAREA):
        if item.required is False and rng.random() < SKIP_OPTIONAL_TEXT_SHARE:
            return []
        word = "Uwagi" if kind is ItemType.TEXTAREA else "Odpowiedź"
        return [f"{word} {rng.randint(1, 999)}"]
    if kind is ItemType.SELECT_ONE:
        codes = [choice.name for choice in flow.choices_for(item, state)]
        return [rng.choice(codes)] if codes else []
    if kind is ItemType.SELECT_MULTIPLE:
        codes = [choice.name for choice in flow.choices_for(item, state)]
        if not codes:
            return []
        return rng.sample(codes, rng.randint(1, min(3, len(codes))))
    if kind is ItemType.DATE:
        return [(today - timedelta(days=rng.randint(0, DATE_SPAN_DAYS))).isoformat()]
    if kind is ItemType.TIME:
        return [f"{rng.randint(8, 15):02d}:{rng.choice((0, 15, 30, 45)):02d}"]
    if kind is ItemType.DATETIME:
        day = today - timedelta(days=rng.randint(0, DATE_SPAN_DAYS))
        return [f"{day:%d.%m.%Y} {rng.randint(8, 15):02d}:{rng.randint(0, 59):02d}"]
    if kind is ItemType.RANGE and item.range is not None:
        steps = rng.randrange(item.range.values())
        return [str(item.range.start + item.range.step * steps)]
    if kind is ItemType.RANK:
        codes = [choice.name for choice in flow.choices_for(item, state)]
        rng.shuffle(codes)
        return [f"{rank}:{code}" for rank, code in enumerate(codes, 1)]
    if kind is ItemType.ACKNOWLEDGE:
        return ["OK"]
    if kind is ItemType.BARCODE:
        return [f"590{rng.randrange(10**9, 10**10)}"]
    if kind.is_geo:
        return [_geo(kind, rng)]
    if kind in (ItemType.INTEGER, ItemType.DECIMAL):
        return [_number(var, state, attempt, rng=rng, decimal=kind is ItemType.DECIMAL)]
    return []


def _geo(kind: ItemType, rng: random.Random) -> str:
    """A point in Poland (with altitude and accuracy), or a line or a closed shape near it."""
    lat, lon = rng.uniform(49.5, 54.5), rng.uniform(14.5, 23.5)
    if kind is ItemType.GEOPOINT:
        return f"{lat:.6f} {lon:.6f} {rng.uniform(100, 400):.1f} {rng.uniform(3, 30):.1f}"
    corners = [(lat, lon), (lat + 0.01, lon), (lat + 0.01, lon + 0.01), (lat, lon + 0.01)]
    if kind is ItemType.GEOSHAPE:
        corners.append(corners[0])
    return "\n".join(f"{a:.6f} {b:.6f}" for a, b in corners)


def _allowed_missing(flow: Flow, var: Variable, mode: Mode) -> list[str]:
    """The don't know / refused field values ``var`` accepts in ``mode``."""
    if var.kind not in (VariableKind.ANSWER, VariableKind.ROW):
        return []
    allowed = []
    for value, availability in (
        (DONT_KNOW_FIELD_VALUE, var.item.dont_know or flow.settings.dont_know),
        (REFUSED_FIELD_VALUE, var.item.refused or flow.settings.refused),
    ):
        if availability is Availability.YES or (
            availability is Availability.PHONE and mode == PHONE
        ):
            allowed.append(value)
    return allowed


def _number(var: Variable, state: State, attempt: int, *, rng: random.Random, decimal: bool) -> str:
    """A number between two bounds the constraint suggests, narrower with every try.

    The bounds are the numbers written in the constraint and the current values of what
    it refers to (``. <= ${b1}``); a random interval between neighbouring bounds usually
    holds where the constraint does, and shrinking it towards its lower end satisfies
    sums such as ``${b2} + . <= ${b1}`` after a few tries.
    """
    bounds = _bounds(var, state)
    if attempt and rng.random() < 0.25:
        value: Decimal = rng.choice(bounds)  # exactly a bound: ". > 0" excluded, ". <= x" not
    else:
        low, high = _interval(bounds, rng)
        shrink = 2 ** (attempt // 4)
        high = low + (high - low) / shrink
        value = low + (high - low) * Decimal(rng.random())
    if decimal:
        return str(value.quantize(Decimal("0.01")))
    return str(int(value.to_integral_value(rounding=ROUND_HALF_UP)))


def _bounds(var: Variable, state: State) -> list[Decimal]:
    """Sorted candidate bounds for a number: literals and referenced values, or a default."""
    found: set[Decimal] = set()
    constraint = var.item.constraint
    if constraint is not None:
        found.update(Decimal(text) for text in _LITERAL.findall(constraint.source))
        for name in constraint.references:
            value = _known_value(state, name)
            if value is not None:
                if isinstance(value, int | float | Decimal) and not isinstance(
                    value, bool | Missing
                ):
                    found.add(Decimal(str(value)))
    if len(found) < 2:
        found.update(Decimal(bound) for bound in DEFAULT_NUMBER_BOUNDS)
    return sorted(found)


def _known_value(state: State, name: str) -> Any:
    """The value of ``name`` as the state reads it: its own scope's, else an enclosing
    scope's (inside a repeat instance); None when empty, irrelevant or unknown."""
    scope: State | None = state
    while scope is not None:
        if name in scope.flow.variables:
            return scope.answer(name) if scope.is_relevant_variable(name) else None
        scope = scope.outer
    return None


def _interval(bounds: list[Decimal], rng: random.Random) -> tuple[Decimal, Decimal]:
    """Two neighbouring bounds, picked at random."""
    index = rng.randrange(len(bounds) - 1)
    return bounds[index], bounds[index + 1]
