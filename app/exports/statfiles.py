"""Writing a fieldwork's responses as an SPSS (.sav) or Stata (.dta) file, with pyreadstat.

The rows are the Responses sheet's (``services._rows``: the same reading of the stored
answers, the same filters), always with codes; what a statistics package keeps beside the
values (labels, missing values, measure levels) comes from ``app.domain.outputs.statfiles``.
SPSS files are UTF-8 (SPSS 16 and later read them), Stata files are format 118 (Stata 14
and later), which is UTF-8 too, so Polish characters arrive intact.

pyreadstat writes a whole data frame at once, so unlike the workbook the file's values
are held in memory while it is written (bench/export.py measures it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.domain.outputs.statfiles import (
    SPSS,
    STATA,
    STATA_MISSING,
    StatRow,
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
    """Write the responses as ``file_format`` (sav or dta) to ``path``; returns the count."""
    # pandas and pyreadstat are loaded only here: about 60 MB that every web server and
    # worker process would otherwise carry for a file few people ask for
    import pandas as pd
    import pyreadstat

    if file_format not in FORMATS:
        raise ValueError(f"unknown statistics file format {file_format!r}")
    # value labels carry the labels: the values are always codes
    options = replace(options or ExportOptions(), labels=False)
    plan = _Plan(session, fieldwork, options, translate)
    language = plan.language

    def gettext(msgid: str) -> str:
        return translate(msgid, language) if translate is not None else msgid

    variables = stat_variables(plan.ordered_flows, plan.columns, language, gettext, file_format)
    converter = StatRow(variables, plan.header, file_format)
    columns: dict[str, list[Any]] = {v.name: [] for v in variables}
    lists = [columns[v.name] for v in variables]
    count = 0
    for cells in _rows(session, fieldwork, options, plan):
        for values, value in zip(lists, converter.values(cells), strict=True):
            values.append(value)
        count += 1
        if progress is not None:
            progress(1)
    settle_guesses(variables, columns)
    formats = _whole_number_formats(variables, columns) if file_format == SPSS else {}

    # each column's list is let go as soon as its series is made, so the values are held
    # about once, not twice
    series = {}
    for v in variables:
        series[v.name] = _series(v.storage, columns.pop(v.name), file_format)
    del lists
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
                    str(code) if v.storage is Storage.TEXT else code for code in v.missing.values()
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
    return count


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
    return pd.Series(values, dtype="object")
