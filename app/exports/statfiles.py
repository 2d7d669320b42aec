"""Writing a fieldwork's responses as an SPSS (.sav) or Stata (.dta) file, with pyreadstat.

The rows are the Responses sheet's (``services._rows``: the same reading of the stored
answers, the same filters), always with codes; what a statistics package keeps beside the
values (labels, missing values, measure levels) comes from ``app.domain.outputs.statfiles``.
SPSS files are UTF-8 (SPSS 16 and later read them), Stata files are format 118 (Stata 14
and later), which is UTF-8 too, so Polish characters arrive intact.

pyreadstat writes a whole data frame at once, so unlike the workbook the file's values
are held in memory while it is written (bench/export.py measures it). A questionnaire with
repeats gets a zip: the responses' file and one file per repeat (its entries).
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.domain.outputs.export import Cell, repeat_flows
from app.domain.outputs.statfiles import (
    SPSS,
    STATA,
    STATA_MISSING,
    StatRow,
    StatVariable,
    Storage,
    settle_guesses,
    stat_variables,
)
from app.exports.services import ExportOptions, Progress, Translate, _Plan, _rows
from app.models.fieldwork import Fieldwork

if TYPE_CHECKING:
    import pandas as pd

FORMATS = (SPSS, STATA)
STATA_VERSION = 14  # pyreadstat's name for format 118 (UTF-8, Stata 14 and later)


def write_statfile(
    session: Session,
    fieldwork: Fieldwork,
    path: Path,
    options: ExportOptions | None = None,
    *,
    file_format: str = SPSS,
    translate: Translate | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the responses as ``file_format`` (sav or dta) to ``path``; returns the count.

    A questionnaire with repeats gets a zip instead: ``odpowiedzi.sav`` (the responses,
    with each repeat's number of entries) and ``odpowiedzi-REPEAT.sav`` per repeat (its
    entries, keyed to their response and enclosing entry as on the workbook's sheets).
    """
    if file_format not in FORMATS:
        raise ValueError(f"unknown statistics file format {file_format!r}")
    # value labels carry the labels: the values are always codes
    options = replace(options or ExportOptions(), labels=False)
    plan = _Plan(session, fieldwork, options, translate)
    language = plan.language

    def gettext(msgid: str) -> str:
        return translate(msgid, language) if translate is not None else msgid

    main = _File(
        stat_variables(plan.ordered_flows, plan.columns, language, gettext, file_format),
        plan.header,
        file_format,
    )
    repeats = {}
    for sheet in plan.repeat_sheets:
        scopes = [
            found[sheet.repeat][0]
            for found in map(repeat_flows, plan.ordered_flows)
            if sheet.repeat in found
        ]
        variables = stat_variables(
            scopes, sheet.columns, language, gettext, file_format, repeat=sheet
        )
        repeats[sheet.repeat] = _File(variables, sheet.header, file_format)

    def instance(repeat: str, cells: list[Cell]) -> None:
        repeats[repeat].add(cells)

    count = 0
    for cells in _rows(session, fieldwork, options, plan, instances=instance):
        main.add(cells)
        count += 1
        if progress is not None:
            progress(1)
    if not repeats:
        main.write(path)
        return count
    with tempfile.TemporaryDirectory(prefix="ankieta-stat-") as directory:
        folder = Path(directory)
        names = [(main, f"odpowiedzi.{file_format}")] + [
            (repeats[repeat], f"odpowiedzi-{repeat}.{file_format}") for repeat in repeats
        ]
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file, name in names:
                file.write(folder / name)
                archive.write(folder / name, name)
                (folder / name).unlink()
    return count


class _File:
    """One statistics file: its variables and their values, column by column."""

    def __init__(self, variables: list[StatVariable], header: list[str], file_format: str):
        self.variables = variables
        self.file_format = file_format
        self.converter = StatRow(variables, header, file_format)
        self.columns: dict[str, list[Any]] = {v.name: [] for v in variables}
        self.lists = [self.columns[v.name] for v in variables]

    def add(self, cells: Sequence[Cell]) -> None:
        for values, value in zip(self.lists, self.converter.values(cells), strict=True):
            values.append(value)

    def write(self, path: Path) -> None:
        # pandas and pyreadstat are loaded only here: about 60 MB that every web server and
        # worker process would otherwise carry for a file few people ask for
        import pandas as pd
        import pyreadstat

        variables, columns, file_format = self.variables, self.columns, self.file_format
        settle_guesses(variables, columns)
        formats = _whole_number_formats(variables, columns) if file_format == SPSS else {}

        # each column's list is let go as soon as its series is made, so the values are
        # held about once, not twice
        series = {}
        for v in variables:
            series[v.name] = _series(v.storage, columns.pop(v.name), file_format)
        self.lists = []
        frame = pd.DataFrame(series, copy=False)
        del series
        labels: dict[str, str | None] = {v.name: v.label for v in variables}
        value_labels = {v.name: v.value_labels for v in variables if v.value_labels}
        if file_format == SPSS:
            pyreadstat.write_sav(
                frame,
                str(path),
                column_labels=labels,
                variable_value_labels=value_labels,
                missing_ranges={
                    v.name: [
                        str(code) if v.storage is Storage.TEXT else code
                        for code in v.missing.values()
                    ]
                    for v in variables
                    if v.missing and v.storage in (Storage.NUMBER, Storage.TEXT)
                },
                variable_measure={v.name: v.measure.value for v in variables},
                variable_format=formats,
            )
        else:
            pyreadstat.write_dta(
                frame,
                str(path),
                version=STATA_VERSION,
                column_labels=labels,
                variable_value_labels=value_labels,
                missing_user_values={
                    v.name: [STATA_MISSING[m] for m in v.missing]
                    for v in variables
                    if v.missing and v.storage is not Storage.TEXT
                },
            )


def _whole_number_formats(variables: list[Any], columns: dict[str, list[Any]]) -> dict[str, str]:
    """SPSS display formats without decimals for numbers that are all whole."""
    formats = {}
    for v in variables:
        if v.storage is not Storage.NUMBER:
            continue
        values = [x for x in columns[v.name] if isinstance(x, int | float)]
        if all(float(x).is_integer() for x in values):
            width = max([len(str(int(x))) for x in values] + [8])
            formats[v.name] = f"F{width}.0"
    return formats


def _series(storage: Storage, values: list[Any], file_format: str) -> pd.Series:
    import pandas as pd

    if storage is Storage.TEXT:
        # Stata has no missing text (an empty one is missing), and pyreadstat cannot
        # write a long text (strL) column with gaps
        if file_format == STATA:
            return pd.Series(["" if v is None else v for v in values], dtype="object")
        return pd.Series(values, dtype="object")
    if storage is Storage.NUMBER:
        # all doubles (pyreadstat wants one type in a column), Stata's ".a"/".b" kept
        numbers = [v if v is None or isinstance(v, str) else float(v) for v in values]
        if not any(isinstance(v, str) for v in numbers):
            return pd.Series([float("nan") if v is None else v for v in numbers], dtype="float64")
        return pd.Series(numbers, dtype="object")
    if storage is Storage.DATETIME:
        if file_format == SPSS:
            return pd.Series(
                [v if isinstance(v, datetime) else None for v in values], dtype="object"
            )
    if storage is Storage.DATE and file_format == SPSS:
        return pd.Series([v if isinstance(v, date) else None for v in values], dtype="object")
    if storage is Storage.TIME and file_format == SPSS:
        return pd.Series([v if isinstance(v, time) else None for v in values], dtype="object")
    return pd.Series(values, dtype="object")
