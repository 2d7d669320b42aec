"""The questionnaire model: what a definition declares, whatever file it came from.

A definition (our YAML in ``surveys/`` or an XLSForm workbook) is read by a loader
(``app.domain.questionnaire.loading``) into these objects. Everything downstream — the
checks, the interview flow, the web form, the interviewer screens, the exports — works on
this model only. It is plain Python: no Flask, no database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from app.domain.questionnaire.expressions import Expression

DEFAULT_LANGUAGE = "pl"
DEFAULT_DONT_KNOW_CODE = -98
DEFAULT_REFUSED_CODE = -99
MAX_INSTANCES = 100  # the server's cap on the instances of one repeat, whatever its max says
PARADATA_KINDS = ("start", "end", "today", "username")  # see Settings.paradata
MAX_REPEAT_DEPTH = 3  # repeats nest at most this deep (an enterprise -> its jobs -> ...)


class ItemType(enum.StrEnum):
    """The item types a definition may use (XLSForm's words where XLSForm has one)."""

    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DECIMAL = "decimal"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    RANGE = "range"
    RANK = "rank"
    ACKNOWLEDGE = "acknowledge"
    BARCODE = "barcode"
    GEOPOINT = "geopoint"
    GEOTRACE = "geotrace"
    GEOSHAPE = "geoshape"
    FILE = "file"  # an uploaded file (XLSForm's image, audio, video, file)
    NOTE = "note"
    CALCULATE = "calculate"
    GROUP = "group"
    REPEAT = "repeat"
    MATRIX = "matrix"

    @property
    def is_question(self) -> bool:
        """True for items that take an answer from a person."""
        return self not in (ItemType.NOTE, ItemType.CALCULATE, ItemType.GROUP, ItemType.REPEAT)

    @property
    def uses_choices(self) -> bool:
        return self in (
            ItemType.SELECT_ONE,
            ItemType.SELECT_MULTIPLE,
            ItemType.MATRIX,
            ItemType.RANK,
        )

    @property
    def is_geo(self) -> bool:
        """A place: one point, a line of points or a closed shape."""
        return self in (ItemType.GEOPOINT, ItemType.GEOTRACE, ItemType.GEOSHAPE)


@dataclass(frozen=True)
class RangeSpec:
    """A range question's bounds and step (XLSForm's ``parameters`` start, end and step)."""

    start: Decimal
    end: Decimal
    step: Decimal

    @property
    def whole(self) -> bool:
        """True when every value it allows is a whole number (stored as an integer)."""
        return all(value == value.to_integral_value() for value in (self.start, self.step))

    def allows(self, value: Decimal) -> bool:
        """True for a value between the bounds that is a whole number of steps from start."""
        return self.start <= value <= self.end and (value - self.start) % self.step == 0

    def values(self) -> int:
        """How many values it allows."""
        return int((self.end - self.start) // self.step) + 1


class UploadKind(enum.StrEnum):
    """What a file question takes: an image, a recording, a film or any file."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    ANY = "any"


@dataclass(frozen=True)
class UploadSpec:
    """A file question's limits: the kind, the types it accepts (XLSForm's ``accept``:
    MIME types such as ``image/png`` or ``audio/*`` and name endings such as ``.pdf``) and
    an image's largest side in pixels (``max-pixels``)."""

    kind: UploadKind = UploadKind.ANY
    accept: tuple[str, ...] = ()
    max_pixels: int | None = None


class Availability(enum.StrEnum):
    """Where a don't-know or refused answer may be recorded."""

    NO = "no"
    PHONE = "phone"  # interviewers only (the default)
    YES = "yes"  # interviewers and self-fill respondents


@dataclass(frozen=True)
class SourceLocation:
    """Where something was declared: a line of a YAML file or a row of a workbook sheet."""

    file: str
    line: int | None = None
    sheet: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.file}:{self.sheet}:{self.row if self.row is not None else '?'}"
        return f"{self.file}:{self.line if self.line is not None else '?'}"


@dataclass(frozen=True)
class Text:
    """A user-visible string in one or more languages."""

    by_language: Mapping[str, str]

    def get(self, language: str, fallback: str = DEFAULT_LANGUAGE) -> str:
        """The text in ``language``, else in ``fallback``, else in any language it has."""
        if language in self.by_language:
            return self.by_language[language]
        if fallback in self.by_language:
            return self.by_language[fallback]
        return next(iter(self.by_language.values()), "")

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(lang for lang, value in self.by_language.items() if value)


@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list."""

    name: str  # the code stored and exported
    label: Text
    other: bool = False  # choosing it asks for a text, stored as "<item>_other"
    extra: Mapping[str, str] = field(default_factory=dict)  # columns used by choice_filter
    location: SourceLocation | None = None


@dataclass(frozen=True)
class ChoiceList:
    name: str
    choices: tuple[Choice, ...]
    location: SourceLocation | None = None

    def get(self, code: str) -> Choice | None:
        return next((c for c in self.choices if c.name == code), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.choices)


@dataclass(frozen=True)
class MatrixRow:
    """A row of a matrix item: a select_one on the matrix's choice list.

    Its variable name (in answers, expressions and exports) is ``<matrix>_<row>``.
    """

    name: str
    label: Text
    location: SourceLocation | None = None


@dataclass
class Item:
    """One entry of the ``survey`` list: a question, a note, a calculation or a group."""

    type: ItemType
    name: str
    label: Text | None = None
    hint: Text | None = None
    interviewer_note: Text | None = None  # shown to interviewers only
    required: bool | Expression = False
    required_message: Text | None = None
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Text | None = None
    calculation: Expression | None = None
    default: str | None = None
    # a default computed when the question is first shown (XLSForm's dynamic default, e.g.
    # today() or ${earlier} + 1); the respondent may change it
    default_expression: Expression | None = None
    choice_filter: Expression | None = None
    appearance: str | None = None
    read_only: bool = False
    list_name: str | None = None  # for select_one / select_multiple / matrix / rank
    range: RangeSpec | None = None  # for range
    upload: UploadSpec | None = None  # for file
    rows: tuple[MatrixRow, ...] = ()  # for matrix
    children: list[Item] = field(default_factory=list)  # for group and repeat
    repeat_count: Expression | None = None  # for repeat: a fixed count (number or expression)
    repeat_min: int | None = None  # for repeat: the fewest instances (an open count)
    repeat_max: int | None = None  # for repeat: the most instances (capped at MAX_INSTANCES)
    instance_label: str | None = None  # for repeat: the child whose answer names an instance
    # for selects, ranks and groups: choices (a group's items) in an order of their own for
    # each response, seeded by ``seed`` when given (XLSForm's parameters randomize and seed)
    randomize: bool = False
    seed: Expression | None = None
    dont_know: Availability | None = None  # None: the survey-wide setting applies
    refused: Availability | None = None
    location: SourceLocation | None = None
    parent: Item | None = field(default=None, repr=False, compare=False)

    def walk(self) -> Iterator[Item]:
        """This item and, for a group, every item inside it, in order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def scope(self) -> Iterator[Item]:
        """This item and the items inside it that answer once per response or instance:
        like ``walk`` but not into a repeat (whose children answer once per instance)."""
        yield self
        if self.type is ItemType.GROUP:
            for child in self.children:
                yield from child.scope()

    @property
    def is_group(self) -> bool:
        return self.type is ItemType.GROUP

    @property
    def appearances(self) -> frozenset[str]:
        """The words of its ``appearance`` (XLSForm's: ``field-list``, ``minimal``, ...)."""
        return frozenset((self.appearance or "").split())

    @property
    def date_precision(self) -> str:
        """What a date question asks: "day" (a whole date), "month" (XLSForm's
        ``month-year``) or "year" (``year``); a month or a year is stored as its first day."""
        if self.type is not ItemType.DATE:
            return "day"
        if "year" in self.appearances:
            return "year"
        return "month" if "month-year" in self.appearances else "day"

    @property
    def is_repeat(self) -> bool:
        return self.type is ItemType.REPEAT

    @property
    def max_instances(self) -> int:
        """The most instances a response may hold: the author's max, never above the cap."""
        return min(self.repeat_max or MAX_INSTANCES, MAX_INSTANCES)

    def enclosing_repeat(self) -> Item | None:
        """The nearest repeat this item sits in (None: it answers once per response)."""
        parent = self.parent
        while parent is not None and not parent.is_repeat:
            parent = parent.parent
        return parent

    def repeat_depth(self) -> int:
        """How many repeats enclose this item (a repeat counts itself)."""
        depth = 1 if self.is_repeat else 0
        parent = self.parent
        while parent is not None:
            depth += parent.is_repeat
            parent = parent.parent
        return depth

    def variable_names(self) -> list[str]:
        """The names this item stores answers under (one per matrix row, plus 'other' text)."""
        if self.type is ItemType.GROUP:
            return []
        if self.type is ItemType.MATRIX:
            return [f"{self.name}_{row.name}" for row in self.rows]
        return [self.name]


@dataclass(frozen=True)
class Settings:
    id: str
    title: Text
    version: str | None = None
    default_language: str = DEFAULT_LANGUAGE
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
    paging: str = "group"  # "group": a top-level group is a page; "item": one question a page
    dont_know: Availability = Availability.PHONE
    refused: Availability = Availability.PHONE
    dont_know_code: int = DEFAULT_DONT_KNOW_CODE
    refused_code: int = DEFAULT_REFUSED_CODE
    # what the system records about each response, as (column name, kind): XLSForm's
    # start, end, today and username metadata rows, exported under the names they have
    paradata: tuple[tuple[str, str], ...] = ()


@dataclass
class Questionnaire:
    """A whole definition: settings, choice lists and the ordered items."""

    settings: Settings
    choices: dict[str, ChoiceList]
    items: list[Item]
    source: str | None = None  # file name it was read from

    def walk(self) -> Iterator[Item]:
        """Every item, groups, repeats and what is inside them included, in order."""
        for item in self.items:
            yield from item.walk()

    def scope(self) -> Iterator[Item]:
        """The items answered once per response (repeats included, not their children)."""
        for item in self.items:
            yield from item.scope()

    def repeats(self) -> Iterator[Item]:
        """Every repeat, nested ones included, parents first."""
        return (item for item in self.walk() if item.is_repeat)

    def item(self, name: str) -> Item:
        """The item called ``name`` (KeyError if there is none)."""
        for item in self.walk():
            if item.name == name:
                return item
        raise KeyError(name)

    def choice_list(self, item: Item) -> ChoiceList | None:
        return self.choices.get(item.list_name) if item.list_name else None
