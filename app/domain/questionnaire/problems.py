"""What is wrong with a definition: :class:`Problem`, :class:`LoadResult`, and their wording.

Every reader (YAML, XLSForm), the builder and the whole-questionnaire checks report what
they find as problems pointing at the line (YAML) or the sheet and row (workbook) where it
was written; a :class:`LoadResult` carries them all, with the questionnaire only when none
is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from app.domain.messages import N_, Message
from app.domain.questionnaire.model import Questionnaire, SourceLocation

Severity = Literal["error", "warning"]
Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Problem:
    """Something wrong (an error) or doubtful (a warning) in a definition, and where."""

    location: SourceLocation
    item: str | None
    message: Message
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def render(self, gettext: Gettext | None = None) -> str:
        """``FILE:LINE: item NAME: sentence`` in the reader's language (English by default)."""
        parts = [_where(self.location)]
        if self.item is not None:
            parts.append(Message(N_("item %(name)s"), {"name": self.item}).render(gettext))
        sentence = _render(self.message, gettext)
        if not self.is_error:
            sentence = Message(N_("warning: %(message)s"), {"message": sentence}).render(gettext)
        parts.append(sentence)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.render()


@dataclass
class LoadResult:
    """A definition read from a file: the questionnaire (None if any error) and all problems."""

    questionnaire: Questionnaire | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def _render(message: Message, gettext: Gettext | None) -> str:
    """Render ``message``, first rendering parameters that render themselves.

    Those are nested messages and expression errors, translated with the same ``gettext``.
    """
    params = {
        key: value.render(gettext) if hasattr(value, "render") else value
        for key, value in message.params.items()
    }
    return Message(message.msgid, params).render(gettext)


def _where(location: SourceLocation) -> str:
    """``FILE:LINE``, ``FILE:SHEET:ROW`` or just ``FILE`` for the file as a whole."""
    if location.sheet is not None:
        if location.row is None:
            return f"{location.file}:{location.sheet}"
        return f"{location.file}:{location.sheet}:{location.row}"
    if location.line is not None:
        return f"{location.file}:{location.line}"
    return location.file


def describe_location(location: SourceLocation | None) -> Message:
    """Say where something else was written: "line 12" or "row 5 of survey"."""
    if location is None:
        return Message(N_("elsewhere"))
    if location.sheet is not None:
        return Message(
            N_("row %(row)s of %(sheet)s"), {"row": location.row, "sheet": location.sheet}
        )
    return Message(N_("line %(line)s"), {"line": location.line})


def problem_order(problem: Problem) -> tuple[int, int]:
    """Sort key: problems in the order of the file (survey, choices, settings sheets)."""
    location = problem.location
    sheet_rank = {None: 0, "survey": 1, "choices": 2, "settings": 3}.get(location.sheet, 4)
    return sheet_rank, location.line or location.row or 0


def refused(location: SourceLocation, msgid: str, **params: Any) -> LoadResult:
    """A result with no questionnaire and one error: the file as a whole cannot be used."""
    return LoadResult(None, [Problem(location, None, Message(msgid, params))])
