"""The XLSForm corpus of tests/xlsforms (written by its make_workbooks.py) and pyxform's
own verdict on each workbook. Choices files (.csv, .xml) lie beside the workbooks, as a
user keeps them: ``load_definition`` reads them from there, pyxform needs none to convert."""

from __future__ import annotations

import warnings
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "xlsforms"

# Question types pyxform converts that Ankieta does not have yet: each such workbook is
# refused by that type's name, at its row. When the type lands, take its line out: the
# workbook then has to load, run and export like the others.
PENDING: dict[str, str] = {}


# Workbooks pyxform converts that Ankieta refuses on purpose (docs/questionnaires.md says
# why): the start of the message each is refused with, at its row.
DIFFERS = {
    "differs_choice_name_with_a_space.xlsx": "The code extra large is not valid",
    "differs_question_name_with_a_dot.xlsx": "The name q1.2 is not valid",
    "differs_filter_on_a_missing_column.xlsx": "choice_filter uses the column shop",
    "differs_forward_reference.xlsx": "relevant refers to ${b}, which comes later",
    "differs_choices_file_missing.xlsx": "The file corpus_nowhere.csv is missing",
    "differs_choices_file_malformed.xlsx": "The choices file corpus_broken.csv, line 3: the row",
}


def corpus() -> list[Path]:
    """Every workbook of the corpus, by name."""
    return sorted(CORPUS.glob("*.xlsx"))


def pyxform_refusal(path: Path) -> str | None:
    """pyxform's error converting the workbook into an XForm, None when it converts it."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            convert(str(path))
    except PyXFormError as error:
        return str(error)
    return None


def runnable() -> list[Path]:
    """The workbooks pyxform converts, Ankieta has every type of and takes."""
    return [
        p
        for p in corpus()
        if p.name not in PENDING and p.name not in DIFFERS and pyxform_refusal(p) is None
    ]
