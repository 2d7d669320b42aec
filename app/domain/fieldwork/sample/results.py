"""What reading a sample gives: its rows, and the problems that refuse the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from app.domain.messages import N_, Message

Gettext = Callable[[str], str]
VariableValue = str | int | float

REASON_LENGTH: Final = 200  # the longest reader's error quoted in a problem


@dataclass(frozen=True)
class SampleRow:
    """One sampled institution as read from the file, values cleaned and checked."""

    row: int  # 1-based row number in the file (the header is usually row 1), for messages
    external_id: str
    name: str
    entity_type: str = ""
    subregion: str = ""
    powiat: str = ""
    gmina: str = ""
    contact_person: str = ""
    email: str = ""
    phones: tuple[str, ...] = ()
    variables: dict[str, VariableValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SampleProblem:
    """Why a sample file is refused: what is wrong, in which row and column if any."""

    row: int | None
    column: str | None  # the header as written in the file
    message: Message

    def render(self, gettext: Gettext | None = None) -> str:
        """``row 7, column email: 'abc' is not an e-mail address`` in the reader's language."""
        text = _render(self.message, gettext)
        if self.row is not None and self.column is not None:
            where = Message(
                N_("row %(row)s, column %(column)s: %(message)s"),
                {"row": self.row, "column": self.column, "message": text},
            )
        elif self.row is not None:
            where = Message(N_("row %(row)s: %(message)s"), {"row": self.row, "message": text})
        elif self.column is not None:
            where = Message(
                N_("column %(column)s: %(message)s"), {"column": self.column, "message": text}
            )
        else:
            return text
        return where.render(gettext)

    def __str__(self) -> str:
        return self.render()


@dataclass
class SampleParseResult:
    """The rows of a sample file and every problem in it."""

    rows: list[SampleRow]  # the rows without a problem of their own (all of them when ok)
    problems: list[SampleProblem]  # in file order: the file, the header, then row by row
    variable_names: list[str] = field(default_factory=list)  # the extra columns, in order
    headers: dict[str, str] = field(default_factory=dict)  # standard column -> its header

    @property
    def ok(self) -> bool:
        """No problems: the whole file may be imported (otherwise nothing of it is)."""
        return not self.problems


def _render(message: Message, gettext: Gettext | None) -> str:
    """Render ``message``, first rendering any parameter that is itself a message."""
    params = {
        key: value.render(gettext) if isinstance(value, Message) else value
        for key, value in message.params.items()
    }
    return Message(message.msgid, params).render(gettext)


def problem_at(row: int | None, column: str | None, msgid: str, **params: object) -> SampleProblem:
    return SampleProblem(row, column, Message(msgid, params))
