"""What an SPSS (.sav) or Stata (.dta) file of the responses declares, beside the values.

The Responses sheet's columns (``app.domain.outputs.export``) become the file's variables, each
with what a statistics package keeps about a variable and a spreadsheet cannot:

- a **variable label**: the question's text in the export's language (a matrix row's and a
  tick column's with the row's or choice's label after a dash);
- **value labels** for every single choice (and matrix row) and for the 0/1 columns of a
  multiple choice; a choice list whose codes are all whole numbers keeps them as values,
  any other list is numbered 1, 2, … in list order (Stata labels whole numbers only) and
  the labels say what each number means;
- **missing values**: don't know and refused keep their codes (-98, -99 by default) and
  are declared user-missing in SPSS; in Stata they are the extended missing values ``.a``
  (don't know) and ``.b`` (refused), labelled; a date's non-answer is an empty date in
  SPSS (a date cannot hold -98); a text has no missing values in either package, so its
  non-answer stays its code as text (declared missing in SPSS);
- a **measure level** (SPSS): choices nominal, numbers and dates scale;
- the **storage**: number, text, date or date and time.

A repeat's entries go to a file of their own (the writer zips the files), whose first
variables are the keys that link an entry to its response and to the entry it sits in
(``REPEAT_KEY_COLUMNS``); the responses' file has the number of entries of each repeat.

Names longer than the format allows (Stata 32 characters, SPSS 64 bytes) are shortened,
kept unique. Labels longer than the format holds end with "…": Stata keeps 80 characters
of a variable label; SPSS 255 bytes of a variable label and 120 bytes of a value label
(UTF-8: a Polish letter takes two). The workbook's Codebook keeps them whole.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain.messages import N_
from app.domain.outputs.codebook import codebook_rows
from app.domain.outputs.export import (
    META_COLUMNS,
    REPEAT_KEY_COLUMNS,
    Cell,
    Column,
    ColumnKind,
    RepeatSheet,
    paradata_columns,
)
from app.domain.questionnaire.answers import Missing, VariableKind
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Availability, ItemType

SPSS, STATA = "sav", "dta"
NAME_LIMITS = {SPSS: 64, STATA: 32}
STATA_LABEL_LIMIT = 80  # characters of a variable label
SPSS_LABEL_BYTES = 255  # bytes of a variable label (UTF-8)
SPSS_VALUE_LABEL_BYTES = 120  # bytes of a value label
STATA_MISSING = {Missing.DONT_KNOW: "a", Missing.REFUSED: "b"}
ELLIPSIS = "…"

# labels of the fixed columns (translated by the writer)
META_LABELS: dict[str, str] = {
    "response_id": N_("Response number"),
    "external_id": N_("Institution's identifier in the sample"),
    "institution": N_("Institution"),
    "entity_type": N_("Type of institution"),
    "subregion": N_("Subregion"),
    "powiat": N_("County (powiat)"),
    "gmina": N_("Municipality (gmina)"),
    "mode": N_("How the response was collected"),
    "status": N_("Status of the response"),
    "started": N_("Started"),
    "completed": N_("Completed"),
    "duration_minutes": N_("Duration in minutes"),
    "interviewer": N_("Last interviewer"),
    "definition_version": N_("Version of the questionnaire"),
    "demo": N_("Made-up demonstration data"),
    "test": N_("Given through the test link"),
}
# labels of the paradata columns (Settings.paradata), by what they record
PARADATA_LABELS: dict[str, str] = {
    "start": N_("Started"),
    "end": N_("Completed"),
    "today": N_("Day the response was started"),
    "username": N_("Interviewer's user name"),
}
COUNT_LABEL = N_("number of entries")
SELECTED_LABEL = N_("selected")
NOT_SELECTED_LABEL = N_("not selected")
YES_LABEL, NO_LABEL = N_("yes"), N_("no")
DONT_KNOW_LABEL, REFUSED_LABEL = N_("Don't know"), N_("Refused")


class Storage(enum.Enum):
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    GUESS = "guess"  # a calculation: a number if every value is one, else text


class Measure(enum.StrEnum):
    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    SCALE = "scale"


@dataclass
class StatVariable:
    """One variable of the file and what the file declares about it."""

    name: str  # in the file
    header: str  # the Responses sheet's column it is filled from
    label: str
    storage: Storage
    measure: Measure
    value_labels: dict[Any, str] = field(default_factory=dict)
    recode: dict[str, int] | None = None  # choice code -> number, for non-numeric lists
    missing: dict[Missing, int] = field(default_factory=dict)  # declared non-answers


def _whole_number(code: str) -> bool:
    return re.fullmatch(r"-?(0|[1-9][0-9]{0,8})", code) is not None


def file_names(names: Sequence[str], limit: int) -> list[str]:
    """``names`` cut to ``limit`` characters (UTF-8 bytes), still unique."""
    taken: set[str] = set()
    result = []
    for name in names:
        candidate = _cut_bytes(name, limit)
        number = 1
        while candidate.lower() in taken:
            number += 1
            suffix = f"_{number}"
            candidate = _cut_bytes(name, limit - len(suffix)) + suffix
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _cut_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore")


def _missing_allowed(flow_var: Any, settings: Any) -> bool:
    if flow_var.kind in (VariableKind.OTHER, VariableKind.CALCULATION, VariableKind.REPEAT):
        return False
    item = flow_var.item
    return (item.dont_know or settings.dont_know) is not Availability.NO or (
        item.refused or settings.refused
    ) is not Availability.NO


# labels of a repeat file's key columns (REPEAT_KEY_COLUMNS)
KEY_LABELS: dict[str, str] = {
    "response_id": N_("Response number"),
    "parent_key": N_("Key of the entry this one belongs to (the response number at the top)"),
    "instance": N_("Number of the entry in its list"),
    "instance_key": N_("Key of the entry"),
}


def _key_variables(translate: Callable[[str], str], nested: bool) -> list[StatVariable]:
    """The key columns of a repeat's file: numbers, but a nested list's parent key (and
    every entry's own key) is text like ``17/2``."""
    text = {"instance_key", *(("parent_key",) if nested else ())}
    return [
        StatVariable(
            name,
            name,
            translate(KEY_LABELS[name]),
            Storage.TEXT if name in text else Storage.NUMBER,
            Measure.NOMINAL,
        )
        for name in REPEAT_KEY_COLUMNS
    ]


def stat_variables(
    flows: Sequence[Flow],
    columns: Sequence[Column],
    language: str,
    translate: Callable[[str], str],
    file_format: str,
    *,
    repeat: RepeatSheet | None = None,
) -> list[StatVariable]:
    """The file's variables: the fixed columns, then one per questionnaire column; for a
    ``repeat``'s file (``flows`` are then the repeat's flows), its key columns first."""
    newest = flows[-1]
    settings = newest.questionnaire.settings
    missing_codes = {m: m.code(settings) for m in Missing}
    missing_labels = {
        Missing.DONT_KNOW: translate(DONT_KNOW_LABEL),
        Missing.REFUSED: translate(REFUSED_LABEL),
    }
    variables: list[StatVariable] = []
    if repeat is not None:
        variables.extend(_key_variables(translate, nested=repeat.parent is not None))
    for name in META_COLUMNS if repeat is None else ():
        storage = {
            "response_id": Storage.NUMBER,
            "duration_minutes": Storage.NUMBER,
            "definition_version": Storage.NUMBER,
            "demo": Storage.NUMBER,
            "test": Storage.NUMBER,
            "started": Storage.DATETIME,
            "completed": Storage.DATETIME,
        }.get(name, Storage.TEXT)
        measure = Measure.SCALE if name == "duration_minutes" else Measure.NOMINAL
        if storage in (Storage.DATETIME,):
            measure = Measure.SCALE
        labels = (
            {0: translate(NO_LABEL), 1: translate(YES_LABEL)} if name in ("demo", "test") else {}
        )
        variables.append(
            StatVariable(name, name, translate(META_LABELS[name]), storage, measure, labels)
        )

    for name, kind in paradata_columns(flows) if repeat is None else ():
        stored = {"start": Storage.DATETIME, "end": Storage.DATETIME, "today": Storage.DATE}
        variables.append(
            StatVariable(
                name,
                name,
                translate(PARADATA_LABELS[kind]),
                stored.get(kind, Storage.TEXT),
                Measure.SCALE if kind in stored else Measure.NOMINAL,
                {},
            )
        )

    described = {row.variable: row.labels[0] for row in codebook_rows(flows, [language])}
    latest: dict[str, tuple[Any, Any]] = {}
    select_codes: dict[str, list[str]] = {}
    choice_texts: dict[str, dict[str, str]] = {}
    allows_missing: dict[str, bool] = {}
    for flow in flows:
        q = flow.questionnaire
        default = q.settings.default_language
        for var_name, var in flow.variables.items():
            latest[var_name] = (var, q)
            allows_missing[var_name] = allows_missing.get(var_name, False) or _missing_allowed(
                var, q.settings
            )
            if var.value_type in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE, ItemType.RANK):
                choices = q.choice_list(var.item)
                if choices is None:
                    continue
                codes = select_codes.setdefault(var_name, [])
                codes.extend(c for c in choices.codes if c not in codes)
                texts = choice_texts.setdefault(var_name, {})
                texts.update({c.name: c.label.get(language, default) for c in choices.choices})

    for column in columns:
        var, _q = latest[column.variable]
        label = described.get(column.variable, "")
        declared = {m: missing_codes[m] for m in Missing} if allows_missing[column.variable] else {}
        if column.kind is ColumnKind.COUNT:  # a repeat's number of entries
            variables.append(
                StatVariable(
                    column.name,
                    column.name,
                    f"{label} – {translate(COUNT_LABEL)}" if label else translate(COUNT_LABEL),
                    Storage.NUMBER,
                    Measure.SCALE,
                )
            )
            continue
        if column.kind is ColumnKind.CHOICE:
            choice = choice_texts.get(column.variable, {}).get(column.code or "", column.code)
            variables.append(
                StatVariable(
                    column.name,
                    column.name,
                    f"{label} – {choice}" if label else str(choice),
                    Storage.NUMBER,
                    Measure.NOMINAL,
                    {0: translate(NOT_SELECTED_LABEL), 1: translate(SELECTED_LABEL)},
                )
            )
            continue
        if column.kind in (ColumnKind.RANK, ColumnKind.PART):  # a rank's, a geopoint's numbers
            detail = (
                choice_texts.get(column.variable, {}).get(column.code or "", column.code)
                if column.kind is ColumnKind.RANK
                else column.code
            )
            variables.append(
                StatVariable(
                    column.name,
                    column.name,
                    f"{label} – {detail}" if label else str(detail),
                    Storage.NUMBER,
                    Measure.ORDINAL if column.kind is ColumnKind.RANK else Measure.SCALE,
                )
            )
            continue
        kind = column.value_type
        if kind is ItemType.SELECT_ONE:
            codes = select_codes.get(column.variable, [])
            texts = choice_texts.get(column.variable, {})
            if all(_whole_number(c) for c in codes):
                recode = None
                value_labels: dict[Any, str] = {int(c): texts[c] for c in codes}
            else:
                recode = {code: position for position, code in enumerate(codes, start=1)}
                value_labels = {recode[c]: texts[c] for c in codes}
            variable = StatVariable(
                column.name,
                column.name,
                label,
                Storage.NUMBER,
                Measure.NOMINAL,
                value_labels,
                recode,
                declared,
            )
        elif kind in (ItemType.INTEGER, ItemType.DECIMAL, ItemType.RANGE):
            variable = StatVariable(
                column.name, column.name, label, Storage.NUMBER, Measure.SCALE, {}, None, declared
            )
        elif kind in (ItemType.DATE, ItemType.TIME, ItemType.DATETIME):
            storage = {
                ItemType.DATE: Storage.DATE,
                ItemType.TIME: Storage.TIME,
                ItemType.DATETIME: Storage.DATETIME,
            }[kind]
            variable = StatVariable(
                column.name, column.name, label, storage, Measure.SCALE, {}, None, declared
            )
        elif kind is ItemType.CALCULATE:
            variable = StatVariable(column.name, column.name, label, Storage.GUESS, Measure.SCALE)
        else:  # text, a multiple choice's codes
            variable = StatVariable(
                column.name, column.name, label, Storage.TEXT, Measure.NOMINAL, {}, None, declared
            )
        if variable.missing and variable.storage is not Storage.TEXT:
            for missing, code in variable.missing.items():
                key = STATA_MISSING[missing] if file_format == STATA else code
                if variable.storage is Storage.NUMBER or file_format == STATA:
                    variable.value_labels[key] = missing_labels[missing]
        if variable.missing and variable.storage is Storage.TEXT and file_format == SPSS:
            for missing, code in variable.missing.items():
                variable.value_labels[str(code)] = missing_labels[missing]
        variables.append(variable)

    names = file_names([v.name for v in variables], NAME_LIMITS[file_format])
    for variable, name in zip(variables, names, strict=True):
        variable.name = name
        if file_format == STATA and len(variable.label) > STATA_LABEL_LIMIT:
            variable.label = variable.label[: STATA_LABEL_LIMIT - 1] + ELLIPSIS
        if file_format == SPSS:
            variable.label = fit_bytes(variable.label, SPSS_LABEL_BYTES)
            variable.value_labels = {
                value: fit_bytes(text, SPSS_VALUE_LABEL_BYTES)
                for value, text in variable.value_labels.items()
            }
    return variables


def fit_bytes(text: str, limit: int) -> str:
    """``text``, or as much of it as fits ``limit`` UTF-8 bytes with "…" at the end."""
    if len(text.encode("utf-8")) <= limit:
        return text
    return _cut_bytes(text, limit - len(ELLIPSIS.encode("utf-8"))) + ELLIPSIS


class StatRow:
    """Turns a Responses row (codes, not labels) into the file's values."""

    def __init__(
        self, variables: Sequence[StatVariable], header: Sequence[str], file_format: str
    ) -> None:
        position = {name: index for index, name in enumerate(header)}
        self.file_format = file_format
        self._plan = [(position[v.header], v, self._missing_values(v)) for v in variables]

    def _missing_values(self, variable: StatVariable) -> dict[Any, Any]:
        """The cell value of each declared non-answer -> what the file holds instead."""
        result: dict[Any, Any] = {}
        for missing, code in variable.missing.items():
            if variable.storage is Storage.TEXT:
                result[code] = str(code)
            elif self.file_format == STATA:
                result[code] = STATA_MISSING[missing]
            elif variable.storage in (Storage.DATE, Storage.TIME, Storage.DATETIME):
                result[code] = None  # SPSS: a date or a time cannot hold the code
            else:
                result[code] = code
        return result

    def values(self, cells: Sequence[Cell]) -> list[Any]:
        row: list[Any] = []
        for index, variable, missing in self._plan:
            value = cells[index]
            if value is None:
                row.append(None)
            elif type(value) is int and value in missing:
                row.append(missing[value])
            elif variable.recode is not None:
                row.append(variable.recode.get(value) if isinstance(value, str) else None)
            elif variable.storage is Storage.NUMBER:
                row.append(int(value) if isinstance(value, str) else value)
            elif variable.storage is Storage.TEXT:
                row.append(value if isinstance(value, str) else str(value))
            else:
                row.append(value)
        return row


def settle_guesses(
    variables: Sequence[StatVariable], columns: MutableMapping[str, list[Any]]
) -> None:
    """Decide each calculation's storage from its values: numbers if all are, else text."""
    for variable in variables:
        if variable.storage is not Storage.GUESS:
            continue
        values = [v for v in columns[variable.name] if v is not None]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            variable.storage = Storage.NUMBER
        elif all(type(v) is date for v in values):
            variable.storage = Storage.DATE
        elif all(type(v) is datetime for v in values):
            variable.storage = Storage.DATETIME
        else:
            variable.storage = Storage.TEXT
            variable.measure = Measure.NOMINAL
            columns[variable.name] = [None if v is None else str(v) for v in columns[variable.name]]
