"""The response export's column model and cell values, independent of the file format.

The exporter (``app.exports.services``) reads responses from the database and writes
spreadsheets; this module decides *what* goes in them (the codebook sheet's rows are in
``app.domain.outputs.codebook``):

Columns
    ``response_columns(questionnaires)`` lists one ``Column`` per variable in questionnaire
    order — a matrix row and an ``_other`` text are variables of their own, a calculation is
    one too — and after a select_multiple's code column one 0/1 column per choice, named
    ``<variable>_<code>``; after a rank's column (its codes in rank order) one column per
    choice with the rank it got, ``<variable>_<code>``; after a geopoint's column (the
    point as text, "lat lon alt acc") its numbers, ``<variable>_lat``, ``_lon``, ``_alt``
    and ``_acc``. Several definition versions of one survey line up: the column set
    is the union, each new variable placed after the one it follows in its own version.

Values
    ``RowConverter(flow-variables, columns, ...)`` turns one response's clean answers
    (``Flow.clean_answers``) into cells: ``None`` (empty: not asked, irrelevant or not
    answered), ``int``/``float`` (numbers), ``date`` (an Excel date), ``time`` (an Excel
    time), ``datetime`` (an Excel date and time, in Warsaw) or ``str`` (text, codes:
    a code is always text, so ``"01"`` keeps its zero). Don't know / refused become their
    numeric codes (``Missing.code``), or their labels in labels mode. A select_multiple's
    0/1 columns are blank unless the question has a real answer.

Safety
    ``fit_cell`` truncates text longer than a spreadsheet cell holds, with a visible marker;
    ``neutralise`` puts an apostrophe before every part of a text that a spreadsheet would
    read as a formula, whichever of comma, semicolon or tab it splits the line on (for CSV;
    the XLSX writer never turns a string into a formula in the first place).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from app.domain import dates
from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import (
    Missing,
    StoredFile,
    Variable,
    VariableKind,
    date_from_json,
    decimal_from_json,
    value_from_json,
)
from app.domain.questionnaire.fields import geo_points
from app.domain.questionnaire.flow import Flow, State
from app.domain.questionnaire.model import Item, ItemType, Questionnaire

CELL_MAX_LENGTH = 32_767  # what one Excel cell holds
TRUNCATED_MARKER = "[…]"
# A spreadsheet has no dates before 1900 (Excel shows #####, openpyxl reads #VALUE!): such a
# date (typed before dates were bounded, or from a sample) is written as ISO text instead.
EARLIEST_SPREADSHEET_YEAR = 1900
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MULTIPLE_SEPARATOR = " "  # between codes of a select_multiple (codes hold no spaces)
LABEL_SEPARATOR = "; "  # between labels, which may hold spaces

DONT_KNOW_LABEL = Message(N_("Don't know"))
REFUSED_LABEL = Message(N_("Refused"))

Cell = None | int | float | str | date | datetime | time
GEOPOINT_PARTS = ("lat", "lon", "alt", "acc")  # the numeric columns after a geopoint's

# the fixed columns before the questionnaire's, as data (snake_case), not interface text
META_COLUMNS = (
    "response_id",
    "external_id",
    "institution",
    "entity_type",
    "subregion",
    "powiat",
    "gmina",
    "mode",
    "status",
    "started",
    "completed",
    "duration_minutes",
    "interviewer",
    "definition_version",
    "demo",  # 1: made up by `ankieta demo-data`, not a real institution's answers
    "test",  # 1: given through the test link (exported only when asked for)
)


def paradata_columns(flows: Sequence[Flow]) -> list[tuple[str, str]]:
    """The paradata columns of these versions (oldest first): (name, kind), each name once,
    in the newest version's kind; they follow the fixed columns (XLSForm's start, end,
    today and username rows, under the names the form gives them; a name that is already
    a fixed column's, such as ``interviewer``, gets its kind after it: ``interviewer_username``)."""
    kinds: dict[str, str] = {}
    for flow in flows:
        kinds.update(flow.questionnaire.settings.paradata)
    order = merge_in_order([[n for n, _ in f.questionnaire.settings.paradata] for f in flows])
    return [
        (name if name not in META_COLUMNS else f"{name}_{kinds[name]}", kinds[name])
        for name in order
    ]


def paradata_cells(
    columns: Sequence[tuple[str, str]],
    *,
    started: datetime | None,
    completed: datetime | None,
    username: str | None,
) -> list[Cell]:
    """One response's paradata: when it was started (``start``) and completed (``end``:
    blank until it is), the day it was started (``today``), the interviewer's user name
    (``username``: blank for a response given on the web)."""
    values: dict[str, Cell] = {
        "start": started,
        "end": completed,
        "today": started.date() if started is not None else None,
        "username": username,
    }
    return [values[kind] for _, kind in columns]


class ColumnKind(enum.Enum):
    """What a column shows of its variable."""

    VALUE = "value"  # the value itself (for a select_multiple: its codes)
    CHOICE = "choice"  # 1/0: whether one choice of a select_multiple was ticked
    COUNT = "count"  # a repeat's number of instances (their rows are on its own sheet)
    RANK = "rank"  # the rank one choice of a rank question got
    PART = "part"  # one number of a geopoint: latitude, longitude, altitude or accuracy


@dataclass(frozen=True)
class Column:
    """One questionnaire column of the Responses sheet."""

    name: str  # the header
    variable: str
    kind: ColumnKind
    value_type: ItemType
    code: str | None = None  # for CHOICE and RANK; for PART, one of GEOPOINT_PARTS


def variables_in_order(flow: Flow) -> list[Variable]:
    """Every variable of a flow's questionnaire, in questionnaire order (calculations too)."""
    return list(flow.variables.values())


def merge_in_order(sequences: Iterable[Sequence[str]]) -> list[str]:
    """The union of name sequences; a name new in a later one follows its predecessor there."""
    merged: list[str] = []
    for names in sequences:
        seen = set(merged)
        previous: str | None = None
        for name in names:
            if name not in seen:
                at = merged.index(previous) + 1 if previous is not None else 0
                merged.insert(at, name)
                seen.add(name)
            previous = name
    return merged


def response_columns(flows: Sequence[Flow]) -> list[Column]:
    """The questionnaire columns for responses of these versions' flows (oldest first)."""
    latest: dict[str, tuple[Variable, Questionnaire]] = {}
    codes: dict[str, list[str]] = {}  # select_multiple codes, union over the versions
    orders: list[list[str]] = []
    for flow in flows:
        q = flow.questionnaire
        variables = variables_in_order(flow)
        orders.append([var.name for var in variables])
        for var in variables:
            latest[var.name] = (var, q)
            if var.value_type in (ItemType.SELECT_MULTIPLE, ItemType.RANK):
                choices = q.choice_list(var.item)
                own = list(choices.codes) if choices else []
                codes[var.name] = merge_in_order([codes.get(var.name, []), own])
    columns: list[Column] = []
    for name in merge_in_order(orders):
        var, _ = latest[name]
        if var.kind is VariableKind.REPEAT:
            columns.append(Column(name, name, ColumnKind.COUNT, ItemType.INTEGER))
            continue
        columns.append(Column(name, name, ColumnKind.VALUE, var.value_type))
        kind = ColumnKind.RANK if var.value_type is ItemType.RANK else ColumnKind.CHOICE
        for code in codes.get(name, ()):
            columns.append(Column(f"{name}_{code}", name, kind, ItemType.INTEGER, code))
        if var.value_type is ItemType.GEOPOINT:
            for part in GEOPOINT_PARTS:
                columns.append(
                    Column(f"{name}_{part}", name, ColumnKind.PART, ItemType.DECIMAL, part)
                )
    return columns


class RowConverter:
    """Turns the clean answers of responses of one definition version into cells."""

    def __init__(
        self,
        flow: Flow,
        columns: Sequence[Column],
        *,
        labels: bool = False,
        language: str | None = None,
        missing_labels: Mapping[Missing, str] | None = None,
    ) -> None:
        q = flow.questionnaire
        self.columns = tuple(columns)
        self.labels = labels
        self.language = language or q.settings.default_language
        self.missing_codes = {m: m.code(q.settings) for m in Missing}
        self.missing_labels = dict(missing_labels or {})
        variables = flow.variables
        # labels of choice codes, per variable, in the export's language
        self.choice_labels: dict[str, dict[str, str]] = {}
        if labels:
            for name, var in variables.items():
                if var.value_type in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE, ItemType.RANK):
                    choices = q.choice_list(var.item)
                    if choices is not None:
                        self.choice_labels[name] = {
                            c.name: c.label.get(self.language, q.settings.default_language)
                            for c in choices.choices
                        }

        # one converter per column, chosen once, so that a row costs one call per cell
        self._converters = [self._converter(column) for column in self.columns]
        self._plan = tuple(
            (column.variable, convert)
            for column, convert in zip(self.columns, self._converters, strict=True)
        )

    def _converter(self, column: Column) -> Callable[[Any], Cell]:
        name = column.variable
        if column.kind is ColumnKind.CHOICE:
            code = column.code

            # a tick column is blank when the question got no real answer (DK/RF)
            def tick(value: Any) -> Cell:
                return int(code in value) if type(value) is tuple else None

            return tick
        if column.kind is ColumnKind.COUNT:
            return lambda instances: len(instances) if type(instances) is tuple else None
        if column.kind is ColumnKind.RANK:
            ranked = column.code

            # the rank a choice got; blank when the question got no real answer (DK/RF)
            def rank(value: Any) -> Cell:
                return value.index(ranked) + 1 if type(value) is tuple and ranked in value else None

            return rank
        if column.kind is ColumnKind.PART:
            index = GEOPOINT_PARTS.index(column.code or "")

            def part(value: Any) -> Cell:
                points = geo_points(value) if type(value) is str else []
                if not points or len(points[0]) <= index:
                    return None
                number = points[0][index]
                return int(number) if number == number.to_integral_value() else float(number)

            return part
        # The usual value of a column's type is turned into its cell here, directly; any
        # other value (don't know, refused, a calculation's) goes through ``value_cell``,
        # which gives the same cell for the usual ones too.
        value_cell = self.value_cell
        if self.labels and name in self.choice_labels:
            return lambda value: value_cell(name, value)
        value_type = column.value_type
        if value_type in _AS_STORED:

            def plain(value: Any) -> Cell:
                kind = type(value)
                return value if kind is int or kind is str else value_cell(name, value)

            return plain
        if value_type is ItemType.DECIMAL:

            def decimal(value: Any) -> Cell:
                if type(value) is Decimal:
                    return int(value) if value == value.to_integral_value() else float(value)
                return value_cell(name, value)

            return decimal
        if value_type is ItemType.DATE:
            return lambda value: value if type(value) is date else value_cell(name, value)
        if value_type is ItemType.SELECT_MULTIPLE:

            def codes(value: Any) -> Cell:
                if type(value) is tuple:
                    return MULTIPLE_SEPARATOR.join(value)
                return value_cell(name, value)

            return codes
        return lambda value: value_cell(name, value)

    def cells(self, clean: Mapping[str, Any]) -> list[Cell]:
        """One cell per column for a response's clean answers."""
        get = clean.get
        return [
            None if (value := get(name)) is None else convert(value) for name, convert in self._plan
        ]

    def value_cell(self, name: str, value: Any) -> Cell:
        """The cell for one variable's value."""
        if isinstance(value, Missing):
            if self.labels:
                return self.missing_labels.get(value, value.value)
            return self.missing_codes[value]
        if isinstance(value, bool):  # a calculation's true/false
            return int(value)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return dates.local_wall_time(value)  # Excel has no zones: Warsaw's wall clock
        if isinstance(value, int | float | date | datetime | time):
            return value
        if isinstance(value, Decimal):
            # definitions keep decimals within 15 significant digits, which a double holds
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, tuple):
            if self.labels and name in self.choice_labels:
                labels = self.choice_labels[name]
                return LABEL_SEPARATOR.join(
                    labels[code] if code in labels else code for code in value
                )
            return MULTIPLE_SEPARATOR.join(value)
        text = str(value)
        if self.labels and name in self.choice_labels:
            return self.choice_labels[name].get(text, text)
        return text


# -- repeats: one sheet each ---------------------------------------------------------------------

# the columns of a repeat's sheet before its variables' (data, like META_COLUMNS)
REPEAT_KEY_COLUMNS = ("response_id", "parent_key", "instance", "instance_key")
KEY_SEPARATOR = "/"  # an instance's key: its parent's key, "/", its number ("17/2/1")
SHEET_NAME_LIMIT = 31  # characters of an Excel sheet name
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def repeat_flows(flow: Flow) -> dict[str, tuple[Flow, str | None]]:
    """Every repeat of a flow, nested ones included, parents first: name -> (the flow of
    its instances, the name of the repeat it sits in or None)."""
    found: dict[str, tuple[Flow, str | None]] = {}

    def visit(scope: Flow, parent: str | None) -> None:
        for name, inner in scope.repeat_flows.items():
            found[name] = (inner, parent)
            visit(inner, name)

    visit(flow, None)
    return found


@dataclass(frozen=True)
class RepeatSheet:
    """The sheet (or CSV file, or statistics file) of one repeat's instances."""

    repeat: str  # the repeat's name
    title: str  # the sheet's name: the repeat's label, fit for Excel
    parent: str | None  # the enclosing repeat's name (None: a repeat of the response)
    columns: tuple[Column, ...]  # after REPEAT_KEY_COLUMNS

    @property
    def header(self) -> list[str]:
        return [*REPEAT_KEY_COLUMNS, *(c.name for c in self.columns)]


def sheet_title(text: str, taken: set[str]) -> str:
    """``text`` as a new sheet name: without the characters Excel refuses, not starting or
    ending with an apostrophe, at most 31 characters, unlike any name in ``taken`` (Excel
    compares them ignoring case), which it joins."""
    title = _SHEET_FORBIDDEN.sub(" ", text).strip().strip("'").strip() or "Lista"
    title = title[:SHEET_NAME_LIMIT].rstrip("'")
    candidate, number = title, 1
    while candidate.casefold() in taken or candidate.casefold() == "history":
        number += 1
        suffix = f" ({number})"
        candidate = title[: SHEET_NAME_LIMIT - len(suffix)].rstrip("'") + suffix
    taken.add(candidate.casefold())
    return candidate


def repeat_sheets(
    flows: Sequence[Flow], language: str, taken: Iterable[str] = ()
) -> list[RepeatSheet]:
    """One sheet per repeat of these versions' flows (oldest first), parents first; its
    title is the repeat's label in ``language`` (else its name), unique among ``taken``."""
    scopes: dict[str, list[Flow]] = {}
    parents: dict[str, str | None] = {}
    items: dict[str, Item] = {}
    orders: list[list[str]] = []
    for flow in flows:
        found = repeat_flows(flow)
        orders.append(list(found))
        for name, (inner, parent) in found.items():
            scopes.setdefault(name, []).append(inner)
            parents[name] = parent
            items[name] = flow.questionnaire.item(name)
    used = {name.casefold() for name in taken}
    sheets = []
    for name in merge_in_order(orders):
        item = items[name]
        default = scopes[name][-1].settings.default_language
        label = item.label.get(language, default) if item.label else ""
        sheets.append(
            RepeatSheet(
                repeat=name,
                title=sheet_title(label or name, used),
                parent=parents[name],
                columns=tuple(response_columns(scopes[name])),
            )
        )
    return sheets


def instance_rows(
    response_id: int,
    clean: Mapping[str, Any],
    flow: Flow,
    converters: Mapping[str, RowConverter],
) -> Iterator[tuple[str, list[Cell]]]:
    """(repeat name, row) for every instance in a response's clean answers, each instance
    followed by its nested ones; ``converters`` are the repeats' (of this version)."""

    def rows(
        scope: Flow, answers: Mapping[str, Any], parent_key: int | str
    ) -> Iterator[tuple[str, list[Cell]]]:
        for name, inner in scope.repeat_flows.items():
            converter = converters[name]
            for number, instance in enumerate(answers.get(name) or (), start=1):
                key = f"{parent_key}{KEY_SEPARATOR}{number}"
                yield name, [response_id, parent_key, number, key, *converter.cells(instance)]
                yield from rows(inner, instance, key)

    return rows(flow, clean, response_id)


# -- reading stored answers fast ------------------------------------------------------------------

_MISSING_JSON = {m.value: m for m in Missing}


def _missing(raw: dict[str, Any]) -> Missing | None:
    return _MISSING_JSON.get(raw.get("missing")) if len(raw) == 1 else None  # type: ignore[arg-type]


class AnswerReader:
    """``answers_from_json`` for exports: the same values, each variable's decoding chosen
    once per questionnaire (an export reads the same variables a hundred thousand times);
    what does not fit is dropped rather than kept aside, as nothing is written back."""

    def __init__(self, flow: Flow) -> None:
        q = flow.questionnaire
        # a repeat's instances are read by a reader of the repeat's own flow
        self._instance_readers = {
            name: AnswerReader(repeat_flow) for name, repeat_flow in flow.repeat_flows.items()
        }
        self._decoders = {name: self._decoder(var, q) for name, var in flow.variables.items()}
        self._repeats = tuple(flow.repeat_flows)
        self._calculations = frozenset(
            name for name, var in flow.variables.items() if var.kind is VariableKind.CALCULATION
        )
        # a file's answer is an object, as a don't know is: told apart by its own decoder
        self._files = frozenset(
            name for name, var in flow.variables.items() if var.value_type is ItemType.FILE
        )
        self.flow = flow
        # (name, needs the state): a variable needs it when its item or a group around it
        # has a condition, when it is an ``_other`` text or a calculation; the others are
        # always relevant, so their stored answer is their clean value
        self._plan = [(name, _needs_state(var)) for name, var in flow.variables.items()]
        # A repeat is "plain" when nothing inside it needs the state (no condition, no
        # calculation, no other-text, no fixed count, nested repeats plain too): its clean
        # instances are then its stored ones, up to its maximum — no state is built.
        self._max_instances = {
            name: flow.variables[name].item.max_instances for name in self._instance_readers
        }
        self._plain_repeats = frozenset(
            name
            for name, reader in self._instance_readers.items()
            if flow.variables[name].item.repeat_count is None and reader._plain
        )
        # (for a repeat's flow: conditions of the repeat and around it are the enclosing
        # scope's business, they decide whether it is relevant at all)
        self._plain: bool = all(
            (
                name in self._plain_repeats
                if name in self._instance_readers
                else var.kind is VariableKind.ANSWER or var.kind is VariableKind.ROW
            )
            and not _conditional(var.item, var.item.enclosing_repeat())
            for name, var in flow.variables.items()
        )
        self._relevance_inputs = _relevance_inputs(flow, [n for n, needs in self._plan if needs])
        # (the relevant conditional variables, the others, as a tuple and a set) per
        # combination of inputs
        self._relevant_sets: dict[
            tuple[Any, ...], tuple[frozenset[str], tuple[str, ...], frozenset[str]]
        ] = {}

    def _decoder(self, var: Variable, q: Questionnaire) -> Callable[[Any], Any]:
        if var.kind is VariableKind.REPEAT:
            read = self._instance_readers[var.name].read

            def instances(raw: Any) -> tuple[dict[str, Any], ...] | None:
                if type(raw) is not list or not all(type(each) is dict for each in raw):
                    return None
                return tuple(read(each) for each in raw)

            return instances
        if var.kind is VariableKind.CALCULATION:
            return lambda raw: raw
        kind = var.value_type
        if kind in (ItemType.TEXT, ItemType.TEXTAREA):
            return lambda raw: raw if type(raw) is str else None
        if kind is ItemType.INTEGER:
            return lambda raw: raw if type(raw) is int else None
        if kind is ItemType.DECIMAL:
            return decimal_from_json
        if kind is ItemType.DATE:
            return date_from_json
        if kind is ItemType.FILE:
            return lambda raw: (
                (StoredFile.from_json(raw) or _missing(raw)) if type(raw) is dict else None
            )
        if kind not in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
            return lambda raw: value_from_json(q, var, raw)
        choices = q.choice_list(var.item)
        codes = choices.codes if choices else ()
        known = frozenset(codes)
        if kind is ItemType.SELECT_ONE:
            return lambda raw: raw if type(raw) is str and raw in known else None

        def multiple(raw: Any) -> tuple[str, ...] | None:
            if type(raw) is not list or not all(type(c) is str and c in known for c in raw):
                return None
            return tuple(code for code in codes if code in raw)

        return multiple

    def read(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The answers stored as ``data``, as ``Flow`` expects them."""
        answers: dict[str, Any] = {}
        decoders = self._decoders
        for name, raw in data.items():
            decode = decoders.get(name)
            if decode is None:
                continue
            if type(raw) is dict and name not in self._files:  # don't know / refused; never
                value = None if name in self._calculations else _missing(raw)  # a calculation
            else:
                value = decode(raw)
            if value is not None:
                answers[name] = value
        return answers

    def clean(
        self, data: Mapping[str, Any], *, sample: Mapping[str, Any], today: date
    ) -> dict[str, Any]:
        """``Flow.clean_answers`` of the stored ``data``: the same result, but relevance is
        evaluated only for the variables that have a condition (an export of 100,000
        responses spends most of its own time here)."""
        answers = self.read(data)
        inputs = self._relevance_inputs
        if inputs is not None:
            # Which conditional variables count depends only on a few answers (those the
            # conditions refer to), so it is worked out once per distinct combination.
            names, sample_names, uses_today = inputs
            key = (
                *(answers.get(name) for name in names),
                *(sample.get(name) for name in sample_names),
                today if uses_today else None,
            )
            relevant, irrelevant, _ = self._known(key, lambda: answers, sample, today)
            # the answers less those of conditional variables that do not count (in the
            # stored order: the same dict as clean_answers gives, whose order no writer uses)
            clean = answers.copy() if self._repeats else answers
            for name in irrelevant:
                clean.pop(name, None)
            if self._repeats:  # instances: their count and relevance need the state
                whole: State | None = None
                for name in self._repeats:
                    if name not in relevant:
                        continue
                    if name in self._plain_repeats:
                        clean[name] = self._plain_instances(name, answers.get(name))
                        continue
                    if whole is None:
                        whole = self.flow.state(answers, sample=sample, today=today)
                    clean[name] = self._clean_instances(whole, name)
            return clean
        state: State | None = None
        clean = {}
        for name, needs_state in self._plan:
            if needs_state:
                if state is None:
                    state = self.flow.state(answers, sample=sample, today=today)
                if not state.is_relevant_variable(name):
                    continue
                if name in self._plain_repeats:
                    clean[name] = self._plain_instances(name, answers.get(name))
                    continue
                if name in self._instance_readers:
                    clean[name] = self._clean_instances(state, name)
                    continue
                value = state.answer(name)
            else:
                value = answers.get(name)
            if value is not None:
                clean[name] = value
        return clean

    def _known(
        self,
        key: tuple[Any, ...],
        answers: Callable[[], Mapping[str, Any]],
        sample: Mapping[str, Any],
        today: date,
    ) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
        """The memo's entry for ``key`` (made from ``answers()`` the first time)."""
        known = self._relevant_sets.get(key)
        if known is None:
            relevant, irrelevant = self._relevant_set(answers(), sample, today)
            known = (relevant, irrelevant, frozenset(irrelevant))
            if len(self._relevant_sets) < RELEVANCE_MEMO_LIMIT:
                self._relevant_sets[key] = known
        return known

    def decode(self, name: str, raw: Any) -> Any:
        """What ``read`` makes of the stored value ``raw`` of ``name`` (None: no answer)."""
        decode = self._decoders.get(name)
        if decode is None or raw is None:
            return None
        if type(raw) is dict and name not in self._files:
            return None if name in self._calculations else _missing(raw)
        return decode(raw)

    @property
    def direct(self) -> bool:
        """True when the clean answers are the stored ones less the conditional variables
        that do not count (no list, no calculation): what ``DirectCells`` needs."""
        return not self._repeats and self._relevance_inputs is not None

    def irrelevant(
        self, data: Mapping[str, Any], sample: Mapping[str, Any], today: date
    ) -> frozenset[str]:
        """The conditional variables that do not count for the stored answers ``data``
        (only when ``direct``)."""
        if self._relevance_inputs is None:
            raise ValueError("only for a reader whose answers are read directly")
        names, sample_names, uses_today = self._relevance_inputs
        get = data.get
        key = (
            *(self.decode(name, get(name)) for name in names),
            *(sample.get(name) for name in sample_names),
            today if uses_today else None,
        )
        return self._known(key, lambda: self.read(data), sample, today)[2]

    def _plain_instances(self, repeat: str, stored: Any) -> tuple[dict[str, Any], ...]:
        """The clean instances of a relevant plain repeat: the stored ones, up to its
        maximum (a plain nested repeat's cut the same way)."""
        reader = self._instance_readers[repeat]
        kept = (stored or ())[: self._max_instances[repeat]]
        if not reader._instance_readers:
            return tuple(kept)
        return tuple(
            {
                **instance,
                **{
                    name: reader._plain_instances(name, instance.get(name))
                    for name in reader._instance_readers
                },
            }
            for instance in kept
        )

    def _clean_instances(self, state: State, repeat: str) -> tuple[dict[str, Any], ...]:
        """``Flow.clean_answers`` of each instance of a relevant repeat."""
        flow = self.flow.repeat_flows[repeat]
        return tuple(flow.clean_answers(instance) for instance in state.instances(repeat))

    def _relevant_set(
        self, answers: Mapping[str, Any], sample: Mapping[str, Any], today: date
    ) -> tuple[frozenset[str], tuple[str, ...]]:
        """The conditional variables that count for these answers, and those that do not."""
        state = self.flow.state(answers, sample=sample, today=today)
        conditional = [name for name, needs_state in self._plan if needs_state]
        relevant = frozenset(name for name in conditional if state.is_relevant_variable(name))
        return relevant, tuple(name for name in conditional if name not in relevant)


class DirectCells:
    """``converter.cells(reader.clean(data, ...))`` in one pass over the columns, for a
    version whose clean answers are its stored ones less the conditional variables that do
    not count (``AnswerReader.direct``: no list, no calculation).

    An export's own work per response is mostly this (100,000 responses of 150 columns),
    so each variable's stored JSON value becomes its cells by one function chosen once: the
    usual value of an integer, text or single-choice column is its cell as stored; any
    other value takes the reader's decoding and the converter's cells, so the cells are
    the same as the two steps give.
    """

    def __init__(self, reader: AnswerReader, converter: RowConverter) -> None:
        self.reader = reader
        plan = converter._plan
        self._groups: list[
            tuple[
                str,
                Any,  # the type of a value that is its own cell (_as_stored), or None
                frozenset[str] | None,
                bool,
                Callable[[Any], Any],
                tuple[None, ...],
            ]
        ] = []
        start = 0
        while start < len(plan):  # a variable's columns are side by side
            name = plan[start][0]
            end = start
            while end < len(plan) and plan[end][0] == name:
                end += 1
            converts = tuple(convert for _, convert in plan[start:end])
            column = converter.columns[start]
            var = reader.flow.variables.get(name)
            if converter.labels and name in converter.choice_labels:
                var = None  # a label, not the stored code: the two steps' own way
            make = self._maker(reader, var, name, converter.columns[start:end], converts)
            stored, codes = self._as_stored(reader, var, column, len(converts))
            self._groups.append(
                (name, stored, codes, len(converts) == 1, make, (None,) * len(converts))
            )
            start = end
        self._names = [group[0] for group in self._groups]

    @staticmethod
    def _as_stored(
        reader: AnswerReader, var: Variable | None, column: Column, width: int
    ) -> tuple[type | None, frozenset[str] | None]:
        """The type of a stored value that is its own cell (and for a single choice, the
        codes it must be one of): an integer's int, a text's str. The converter gives such
        a value as it is (``RowConverter._converter``'s plain), the reader keeps it."""
        if var is None or width != 1 or column.value_type not in _AS_STORED:
            return None, None
        kind = var.value_type
        if kind is ItemType.INTEGER:
            return int, None
        if kind in (ItemType.TEXT, ItemType.TEXTAREA):
            return str, None
        if kind is ItemType.SELECT_ONE:
            listed = reader.flow.questionnaire.choice_list(var.item)
            return str, frozenset(listed.codes if listed else ())
        return None, None

    @staticmethod
    def _maker(
        reader: AnswerReader,
        var: Variable | None,
        name: str,
        columns: Sequence[Column],
        converts: tuple[Callable[[Any], Cell], ...],
    ) -> Callable[[Any], Any]:
        """The cells of a stored value (its reader's decoding, its converters' cells), with
        a quicker way for a plain decimal, a date and a multiple choice's codes and ticks;
        None for a single column's value that is no answer, a blank per column for
        several."""
        decode = reader.decode
        column = columns[0]
        if len(converts) > 1:  # a multiple choice's codes and ticks
            blank: list[Cell] = [None] * len(converts)

            def by_converters(value: Any) -> list[Cell]:
                return blank if value is None else [convert(value) for convert in converts]

            def cells(raw: Any) -> list[Cell]:
                return by_converters(decode(name, raw))

            ticked = [c.code for c in columns[1:] if c.kind is ColumnKind.CHOICE]
            if (
                var is None
                or var.value_type is not ItemType.SELECT_MULTIPLE
                or column.kind is not ColumnKind.VALUE
                or column.value_type is not ItemType.SELECT_MULTIPLE
                or len(ticked) != len(columns) - 1
            ):
                return cells

            # the codes as one text, then a tick per choice: what the converters give for
            # the codes chosen (a tuple); anything else (don't know, refused) as they do
            def codes_and_ticks(raw: Any) -> list[Cell]:
                value = decode(name, raw)
                if type(value) is tuple:
                    return [MULTIPLE_SEPARATOR.join(value), *[int(c in value) for c in ticked]]
                return by_converters(value)

            return codes_and_ticks
        convert = converts[0]

        def cell(raw: Any) -> Cell:
            value = decode(name, raw)
            return None if value is None else convert(value)

        if var is None:
            return cell
        kind = var.value_type
        if kind is ItemType.DECIMAL and column.value_type is ItemType.DECIMAL:
            # a plain decimal's cell from its text (ASCII digits, maybe a minus and a
            # fraction; nothing else Decimal() reads: no exponent, spaces, underscores or
            # NaN): the number Decimal(raw) gives
            def decimal(raw: Any) -> Cell:
                if type(raw) is str and raw.isascii():
                    whole, dot, fraction = raw.partition(".")
                    digits = whole[1:] if whole[:1] == "-" else whole
                    if digits.isdigit() and (fraction.isdigit() or not dot):
                        return float(raw) if fraction.strip("0") else int(whole)
                return cell(raw)

            return decimal
        if kind is ItemType.DATE and column.value_type is ItemType.DATE:

            def day(raw: Any) -> Cell:
                value = date_from_json(raw)
                return value if value is not None else cell(raw)

            return day
        return cell  # (a value that is its own cell is taken in ``cells``: _as_stored)

    def cells(
        self, data: Mapping[str, Any], *, sample: Mapping[str, Any], today: date
    ) -> list[Cell]:
        """One cell per column for a response's stored answers ``data``."""
        irrelevant = self.reader.irrelevant(data, sample, today)
        row: list[Cell] = []
        append, extend = row.append, row.extend
        # (the stored values looked up in one go: map runs data.get without a Python call
        # per column)
        for raw, (name, stored, codes, single, make, blank) in zip(
            map(data.get, self._names), self._groups, strict=True
        ):
            if raw is None or name in irrelevant:
                if single:
                    append(None)
                else:
                    extend(blank)
            elif type(raw) is stored and (codes is None or raw in codes):
                append(raw)  # an int or a str, its own cell
            elif single:
                append(make(raw))
            else:
                extend(make(raw))
        return row


# the column types whose converter gives an int or a str value as it is
_AS_STORED = frozenset({ItemType.INTEGER, ItemType.TEXT, ItemType.TEXTAREA, ItemType.SELECT_ONE})

RELEVANCE_MEMO_LIMIT = 10_000  # distinct answer combinations remembered per export


def _relevance_inputs(
    flow: Flow, conditional: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """What the relevance of the ``conditional`` variables depends on: the variables and
    sample columns their conditions (and their groups', transitively) refer to, and
    whether a condition uses today(); None when a calculation is involved (its value is
    computed, so the stored answers alone do not say what the clean answers are)."""
    if any(flow.variables[n].kind is VariableKind.CALCULATION for n in flow.variables):
        return None
    if flow.outer is not None:  # an instance's conditions may read the enclosing scope
        return None
    items = {flow._position[flow.variables[name].item.name] for name in conditional}
    names: set[str] = set()
    sample_names: set[str] = set()
    uses_today = False
    for index in flow._plan(items):
        item = flow._items[index]
        expression = item.relevant
        if expression is not None:
            names |= expression.references
            sample_names |= expression.sample_references
            uses_today = uses_today or any(call == "today" for call, _ in expression.calls())
    # a condition on a repeat's instances (count(${R}), sum(${x})) reads more than one
    # stored value: the memo's key cannot hold it, so the state decides
    if any(n not in flow.variables or n in flow.repeat_flows for n in names):
        return None
    for name in conditional:  # an ``_other`` text counts when its choice is selected
        var = flow.variables[name]
        if var.kind is VariableKind.OTHER:
            names.add(var.item.name)
    return tuple(sorted(names)), tuple(sorted(sample_names)), uses_today


def _conditional(item: Item, stop: Item | None = None) -> bool:
    """True when the item or a group around it (inside ``stop``) has a condition."""
    node: Item | None = item
    while node is not None and node is not stop:
        if node.relevant is not None:
            return True
        node = node.parent
    return False


def _needs_state(var: Variable) -> bool:
    if var.kind in (VariableKind.OTHER, VariableKind.CALCULATION, VariableKind.REPEAT):
        return True
    node: Item | None = var.item
    while node is not None:
        if node.relevant is not None:
            return True
        node = node.parent
    return False


# -- cells that are safe to open -----------------------------------------------------------------


def fit_cell(text: str) -> str:
    """``text``, cut to what a cell holds, ending with a visible marker when it was cut."""
    if len(text) <= CELL_MAX_LENGTH:
        return text
    return text[: CELL_MAX_LENGTH - len(TRUNCATED_MARKER)] + TRUNCATED_MARKER


# where a spreadsheet may start a cell: the start of the field, or after any separator that
# a CSV is commonly split on (a Polish Excel splits on ";" even when the file uses ",")
_CELL_START_FORMULA = re.compile(r"(^|[,;\t\r\n])([ \u00a0]*)([=+\-@])")


def neutralise(text: str) -> str:
    """``text`` that no spreadsheet reads as a formula, however it splits the line.

    An apostrophe goes before every formula character (= + - @) that starts the field or
    follows a comma, semicolon, tab or line break (spaces between allowed), and before a
    leading tab or carriage return.
    """
    guarded = _CELL_START_FORMULA.sub(r"\1\2'\3", text)
    return "'" + guarded if guarded.startswith(FORMULA_TRIGGERS) else guarded


def duration_minutes(started: datetime | None, completed: datetime | None) -> float | None:
    """Minutes from start to completion, to a tenth (None when not completed)."""
    if started is None or completed is None:
        return None
    return round((completed - started).total_seconds() / 60, 1)


def mode_of(via_web: bool, via_phone: bool) -> str:
    """How a response was collected: ``online``, ``phone`` or ``both`` (empty: neither yet)."""
    if via_web and via_phone:
        return "both"
    return "online" if via_web else "phone" if via_phone else ""
