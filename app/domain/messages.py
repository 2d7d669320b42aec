"""Messages from the domain core that a person will read, kept translatable.

The core does not know the reader's language. It marks each message id with ``N_`` (so
Babel extracts it into the catalogues) and returns a ``Message``; the web layer or the
command line renders it with the reader's translations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:  # noqa: N802 - the conventional name Babel looks for
    """Mark ``msgid`` for extraction; it is translated where it is shown."""
    return msgid


@dataclass(frozen=True)
class Message:
    """A translatable message id (English, ``%(name)s`` placeholders) and its values."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message in the reader's language (``gettext``), or in English."""
        text = gettext(self.msgid) if gettext else self.msgid
        if not self.params:
            return text
        # a message may name another ("Point 2: <what is wrong with it>"), in the same language
        params = {
            key: value.render(gettext) if isinstance(value, Message) else value
            for key, value in self.params.items()
        }
        return text % params

    def __str__(self) -> str:
        return self.render()

    def as_json(self) -> dict[str, Any]:
        """The message as stored data (``from_json`` reads it back)."""
        return {"msgid": self.msgid, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        """A message stored by ``as_json``, or None if ``data`` is not one."""
        if isinstance(data, dict) and isinstance(data.get("msgid"), str):
            params = data.get("params")
            return cls(data["msgid"], params if isinstance(params, dict) else {})
        return None
