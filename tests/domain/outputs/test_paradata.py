"""The paradata columns of the export: named as the questionnaire names them, lined up over
its versions, filled from the response's own times and interviewer."""

from __future__ import annotations

from datetime import date, datetime

from app.domain.outputs.export import paradata_cells, paradata_columns
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition

DEFINITION = """\
settings:
  id: wizyty
  title: Wizyty
  paradata: {PARADATA}
survey:
  - {type: integer, name: liczba, label: Liczba}
"""


def _flow(paradata: str) -> Flow:
    result = load_definition(DEFINITION.replace("{PARADATA}", paradata).encode(), "w.yaml")
    assert result.questionnaire is not None, result.problems
    return Flow(result.questionnaire)


def test_columns_line_up_over_versions_and_keep_clear_of_the_fixed_ones() -> None:
    old = _flow("{poczatek: start, interviewer: username}")
    new = _flow("{poczatek: start, dzien: today, interviewer: username, koniec: end}")
    assert paradata_columns([old, new]) == [
        ("poczatek", "start"),
        ("dzien", "today"),
        ("interviewer_username", "username"),
        ("koniec", "end"),
    ]
    assert paradata_columns([_flow("{}")]) == []


def test_cells_come_from_the_responses_times_and_interviewer() -> None:
    columns = [("a", "start"), ("b", "end"), ("c", "today"), ("d", "username")]
    started = datetime(2026, 3, 31, 23, 50)
    cells = paradata_cells(columns, started=started, completed=None, username="ankieter1")
    assert cells == [started, None, date(2026, 3, 31), "ankieter1"]
    assert paradata_cells(columns, started=None, completed=None, username=None) == [None] * 4
