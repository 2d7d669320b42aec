"""Answers: the values a response stores, its variables, and how both are kept in JSON.

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
time                         ``datetime.time`` (minutes)     ``"HH:MM"``
datetime                     aware ``datetime``, Warsaw      ``"YYYY-MM-DDTHH:MM+02:00"``
range                        ``int`` (whole start and step)  number, or string
                             or ``Decimal``                  (as decimal)
rank                         ``tuple`` of codes, rank order  list of strings
acknowledge                  ``"OK"``                        string
barcode                      ``str``                         string
geopoint                     ``str`` "lat lon[ alt[ acc]]"   string
geotrace, geoshape           ``str``, points joined by ";"   string
file                         ``StoredFile``                  ``{"file": KEY, "name":
                                                             ..., "size": ..., "type":
                                                             ...}``
don't know / refused         ``DONT_KNOW`` / ``REFUSED``     ``{"missing": "dont_know"}``
repeat                       ``tuple`` of instance dicts     list of objects
===========================  ==============================  =======================

A file answer names the file as kept by the upload store (``key``: random, never the
sent name) and what was sent: its name, size in bytes and type (as found in its content).
Expressions see its name. A file erased (``ankieta privacy erase``) keeps its size and type
only: key and name are empty.

A repeat stores its instances under its own name, in order: each instance is a mapping
like the response's own, of the variables of the repeat's children (a nested repeat's
instances under its name inside it). The variables of a scope (the response, or one
repeat's instances) are ``scope_variables``; a repeat's children are not variables of
the response.

A missing key means "no answer". ``DONT_KNOW`` and ``REFUSED`` are explicit answers
(they satisfy ``required`` and are kept in the result; their export codes come from the
settings, ``Missing.code(settings)``), but **in expressions they behave as empty**, as
if nothing was answered: ``${a1} > 5`` is false and ``coalesce(${a1}, 0)`` gives 0.
``answers_to_json`` / ``answers_from_json`` convert; what ``answers_from_json`` cannot
place (a name the questionnaire no longer has, a value that no longer fits its type —
answers given under another version) is kept aside under ``ASIDE_KEY`` and written back
unchanged by ``answers_to_json``, so nothing is lost.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.dates import WARSAW
from app.domain.questionnaire.model import Item, ItemType, Questionnaire, Settings

ASIDE_KEY = "@aside"  # not a valid variable name, so it can never collide with one
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


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

FILE_KEY = re.compile(r"[0-9a-f]{32}")  # a stored file's key: 128 random bits in hex
FILE_NAME_MAX = 255


@dataclass(frozen=True)
class StoredFile:
    """A file question's answer: the stored file's key and what the respondent sent."""

    key: str  # its name in the upload store ("" once erased)
    name: str  # the name it was sent under ("" once erased)
    size: int  # bytes
    content_type: str  # as found in its content (magic bytes), not as the browser said

    @property
    def erased(self) -> bool:
        return not self.key

    def to_json(self) -> dict[str, Any]:
        return {"file": self.key, "name": self.name, "size": self.size, "type": self.content_type}

    @classmethod
    def from_json(cls, raw: Any) -> StoredFile | None:
        """The stored file of a stored answer; None when ``raw`` does not have its shape."""
        if not isinstance(raw, dict) or set(raw) != {"file", "name", "size", "type"}:
            return None
        key, name, size, kind = raw["file"], raw["name"], raw["size"], raw["type"]
        if not (
            isinstance(key, str)
            and (key == "" or FILE_KEY.fullmatch(key))
            and isinstance(name, str)
            and len(name) <= FILE_NAME_MAX
            and isinstance(size, int)
            and not isinstance(size, bool)
            and size >= 0
            and isinstance(kind, str)
            and len(kind) <= 100
        ):
            return None
        return cls(key, name, size, kind)

    def __str__(self) -> str:
        return self.name


def stored_files(answers: Mapping[str, Any]) -> list[StoredFile]:
    """Every stored file among ``answers`` (Python values), repeats' instances included."""
    found: list[StoredFile] = []
    for value in answers.values():
        if isinstance(value, StoredFile):
            found.append(value)
        elif isinstance(value, tuple):
            for each in value:
                if isinstance(each, Mapping):
                    found.extend(stored_files(each))
    return found


def stored_file_keys(data: Any) -> set[str]:
    """The keys of every file a response's stored JSON answers name (repeats included,
    and what was kept aside): what erasing the response's files removes."""
    keys: set[str] = set()
    if isinstance(data, dict):
        stored = StoredFile.from_json(data)
        if stored is not None:
            return {stored.key} if stored.key else set()
        for value in data.values():
            keys |= stored_file_keys(value)
    elif isinstance(data, list):
        for value in data:
            keys |= stored_file_keys(value)
    return keys


def without_files(data: Any) -> tuple[Any, set[str]]:
    """Stored JSON answers with every file erased (its key and name emptied, its size and
    type kept), and the keys of the files they named."""
    if isinstance(data, dict):
        stored = StoredFile.from_json(data)
        if stored is not None:
            erased = StoredFile("", "", stored.size, stored.content_type).to_json()
            return erased, {stored.key} if stored.key else set()
        keys: set[str] = set()
        result = {}
        for name, value in data.items():
            result[name], found = without_files(value)
            keys |= found
        return result, keys
    if isinstance(data, list):
        pairs = [without_files(value) for value in data]
        return [value for value, _ in pairs], set().union(*(found for _, found in pairs))
    return data, set()


def find_stored_file(data: Any, key: str) -> StoredFile | None:
    """The file with ``key`` that a response's stored JSON answers name, if one does."""
    if not key:
        return None
    if isinstance(data, dict):
        stored = StoredFile.from_json(data)
        if stored is not None:
            return stored if stored.key == key else None
        values: Iterable[Any] = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return None
    return next((found for v in values if (found := find_stored_file(v, key))), None)


Value = str | int | Decimal | date | time | tuple[str, ...] | StoredFile | Missing


class VariableKind(enum.Enum):
    """What a variable holds."""

    ANSWER = "answer"  # a question's answer
    ROW = "row"  # one row of a matrix: a select_one on the matrix's list
    OTHER = "other"  # the text given with an ``other`` choice
    CALCULATION = "calculation"
    REPEAT = "repeat"  # a repeat's instances


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


def answers_to_json(q: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object stored for ``answers`` (what was kept aside is written back)."""
    data: dict[str, Any] = dict(answers.get(ASIDE_KEY) or {})
    for name, value in answers.items():
        if name != ASIDE_KEY and value is not None:
            data[name] = _value_to_json(value)
    return data


def _value_to_json(value: Any) -> Any:
    if isinstance(value, Missing | StoredFile):
        return value.to_json()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        return [_instance_to_json(each) if isinstance(each, Mapping) else each for each in value]
    return value


def _instance_to_json(instance: Mapping[str, Any]) -> dict[str, Any]:
    """One repeat instance as stored (what was kept aside in it written back)."""
    data: dict[str, Any] = dict(instance.get(ASIDE_KEY) or {})
    for name, value in instance.items():
        if name != ASIDE_KEY and value is not None:
            data[name] = _value_to_json(value)
    return data


def answers_from_json(
    q: Questionnaire, data: Mapping[str, Any], variables: Mapping[str, Variable] | None = None
) -> dict[str, Any]:
    """Answers from their stored JSON; what does not fit this questionnaire goes aside.

    ``variables`` (a ``Flow``'s, computed once per questionnaire) saves working them out.
    """
    if variables is None:
        variables = questionnaire_variables(q)
    answers: dict[str, Any] = {}
    aside: dict[str, Any] = {}
    for name, raw in data.items():
        var = variables.get(name)
        value = value_from_json(q, var, raw) if var is not None else None
        if value is None:
            aside[name] = raw
        else:
            answers[name] = value
    if aside:
        answers[ASIDE_KEY] = aside
    return answers


def value_from_json(q: Questionnaire, var: Variable, raw: Any) -> Any:
    """The Python value of a stored JSON value, or None when it does not fit ``var``."""
    if var.kind is VariableKind.REPEAT:
        return _instances_from_json(q, var.item, raw)
    if var.value_type is ItemType.FILE and isinstance(raw, dict) and "file" in raw:
        return StoredFile.from_json(raw)
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
    if kind is ItemType.TIME:
        return time_from_json(raw)
    if kind is ItemType.DATETIME:
        return datetime_from_json(raw)
    if kind in _TEXT_LIKE:
        return _text_like_from_json(kind, raw)
    if kind is ItemType.FILE:
        return None  # a file's answer is an object (above); anything else goes aside
    if kind is ItemType.RANGE:
        value = decimal_from_json(raw)
        spec = var.item.range
        if value is None or spec is None or not spec.allows(value):
            return None
        return int(value) if spec.whole else value
    choice_list = q.choice_list(var.item)
    codes = choice_list.codes if choice_list else ()
    if kind is ItemType.RANK:
        # a rank given before a choice was added to the list still reads (without it)
        ranked = (
            isinstance(raw, list)
            and len(set(raw)) == len(raw)
            and all(isinstance(code, str) and code in codes for code in raw)
        )
        return tuple(raw) if ranked else None
    if kind is ItemType.SELECT_ONE:
        return raw if raw in codes else None
    if isinstance(raw, list) and all(code in codes for code in raw):
        return tuple(code for code in codes if code in raw)
    return None


def _instances_from_json(
    q: Questionnaire, repeat: Item, raw: Any
) -> tuple[dict[str, Any], ...] | None:
    """A repeat's stored instances; None (kept aside whole) when it is not a list of objects."""
    if not isinstance(raw, list) or not all(isinstance(each, dict) for each in raw):
        return None
    variables = scope_variables(repeat.children, q)
    return tuple(answers_from_json(q, each, variables) for each in raw)


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
    if not isinstance(raw, str) or not ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


_TEXT_LIKE = frozenset(
    {
        ItemType.ACKNOWLEDGE,
        ItemType.BARCODE,
        ItemType.GEOPOINT,
        ItemType.GEOTRACE,
        ItemType.GEOSHAPE,
    }
)


_POINT = r"-?[0-9]+(?:\.[0-9]+)?(?: -?[0-9]+(?:\.[0-9]+)?){1,3}"
_STORED_SHAPES = {
    ItemType.ACKNOWLEDGE: re.compile("OK"),
    ItemType.BARCODE: re.compile(r".*", re.DOTALL),
    ItemType.GEOPOINT: re.compile(_POINT),
    ItemType.GEOTRACE: re.compile(rf"{_POINT}(?:;{_POINT})+"),
    ItemType.GEOSHAPE: re.compile(rf"{_POINT}(?:;{_POINT}){{3,}}"),
}


def _text_like_from_json(kind: ItemType, raw: Any) -> str | None:
    """A stored acknowledge, barcode or place; None when it does not have its shape."""
    if not isinstance(raw, str) or not _STORED_SHAPES[kind].fullmatch(raw):
        return None
    return raw


def time_from_json(raw: Any) -> time | None:
    """A stored "HH:MM" as a time; None if it is not one."""
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", raw):
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        return None


def datetime_from_json(raw: Any) -> datetime | None:
    """A stored moment with its offset as an aware datetime in Warsaw; None if it is not one."""
    if not isinstance(raw, str) or not ISO_DATE.match(raw):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.astimezone(WARSAW) if moment.tzinfo is not None else None


def other_codes(item: Item, q: Questionnaire) -> frozenset[str]:
    """The codes of ``other`` choices an item offers (matrix rows take no text)."""
    if item.type not in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE):
        return frozenset()
    choices = q.choice_list(item)
    return frozenset(c.name for c in choices.choices if c.other) if choices else frozenset()


def item_variables(item: Item, q: Questionnaire) -> tuple[Variable, ...]:
    """The variables an item stores, its answer first and its ``_other`` text last."""
    if item.type is ItemType.MATRIX:
        return tuple(Variable(name, item, VariableKind.ROW) for name in item.variable_names())
    if item.type is ItemType.CALCULATE:
        return (Variable(item.name, item, VariableKind.CALCULATION),)
    if item.type is ItemType.REPEAT:
        return (Variable(item.name, item, VariableKind.REPEAT),)
    if not item.type.is_question:
        return ()
    answer = Variable(item.name, item, VariableKind.ANSWER)
    if other_codes(item, q):
        return (answer, Variable(f"{item.name}_other", item, VariableKind.OTHER))
    return (answer,)


def questionnaire_variables(q: Questionnaire) -> dict[str, Variable]:
    """The variables a response stores by name (a repeat's, not those of its instances)."""
    return scope_variables(q.items, q)


def scope_variables(items: Iterable[Item], q: Questionnaire) -> dict[str, Variable]:
    """The variables of ``items`` and their groups, stopping at repeats (whose own variable
    holds the instances): the variables of a response, or of one repeat instance."""
    return {
        var.name: var for top in items for item in top.scope() for var in item_variables(item, q)
    }
