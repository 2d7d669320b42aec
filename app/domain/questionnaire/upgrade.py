"""Whether a fieldwork can move to a newer version of its definition, and what that does.

Compatible changes: texts, new optional questions, new choices, removed questions (their
answers stay stored and exported). Refused: a question whose type changed, a choice that
was removed from a list a question uses, a new or newly required question (complete
responses would lack its answer).

Repeats: a new list is an optional question when it may stay empty (no ``repeat_min``, no
fixed count of instances with required questions); a list's own children are compared like
questions, named ``LIST.CHILD`` (a new required question inside an existing list is
refused: its entries lack the answer). A list whose count changes between fixed and open,
whose minimum grows or whose maximum shrinks is refused: stored entries may not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import Variable, VariableKind
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Item, Text


@dataclass
class VersionChanges:
    """What moving from one version to another changes, and what makes it impossible."""

    refused: list[Message] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # variables no longer asked
    added: list[str] = field(default_factory=list)  # new (optional) variables
    new_choices: list[str] = field(default_factory=list)  # "variable: code, code"
    texts: list[str] = field(default_factory=list)  # items whose texts changed

    @property
    def ok(self) -> bool:
        return not self.refused

    def holds_removed(self, answers: Mapping[str, Any] | None) -> bool:
        """True when stored ``answers`` (as kept in JSON) hold an answer to a removed
        question, at the top or in an entry of a list (``LIST.QUESTION``)."""
        return any(_holds(answers or {}, name.split(".")) for name in self.removed)


def _holds(answers: Mapping[str, Any], path: list[str]) -> bool:
    """True when ``answers`` hold a value at ``path`` (through every entry of a list)."""
    value = answers.get(path[0])
    if len(path) == 1:
        return value is not None
    entries = value if isinstance(value, list | tuple) else ()
    return any(_holds(entry, path[1:]) for entry in entries if isinstance(entry, Mapping))


def _stored(flow: Flow) -> dict[str, Variable]:
    return {
        name: var
        for name, var in flow.variables.items()
        if var.kind is not VariableKind.CALCULATION
    }


def _texts(item: Item) -> tuple[Text | None, ...]:
    return (item.label, item.hint, item.interviewer_note, item.required_message,
            item.constraint_message)  # fmt: skip


def _codes(flow: Flow, var: Variable) -> tuple[str, ...]:
    choices = flow.questionnaire.choice_list(var.item)
    return choices.codes if choices else ()


def _labels(flow: Flow, var: Variable) -> tuple[Text, ...]:
    choices = flow.questionnaire.choice_list(var.item)
    return tuple(c.label for c in choices.choices) if choices else ()


def compare(old: Flow, new: Flow) -> VersionChanges:
    """What moving answers given on ``old`` to ``new`` would change."""
    changes = VersionChanges()
    _compare(old, new, changes, "")
    return changes


def _compare(old: Flow, new: Flow, changes: VersionChanges, prefix: str) -> None:
    """Compare one scope (the response, or one list's entries; ``prefix``: ``LIST.``)."""
    before, after = _stored(old), _stored(new)
    for bare, var in before.items():
        name = prefix + bare
        if bare not in after:
            changes.removed.append(name)
            continue
        other = after[bare]
        if other.value_type is not var.value_type:
            changes.refused.append(
                Message(
                    N_("%(name)s: the type changed from %(old)s to %(new)s."),
                    {"name": name, "old": var.value_type.value, "new": other.value_type.value},
                )
            )
            continue
        if var.kind is VariableKind.REPEAT:
            _compare_repeat(old, new, var.item, other.item, changes, name)
            continue
        if var.value_type.uses_choices:
            old_codes, new_codes = _codes(old, var), _codes(new, other)
            gone = [code for code in old_codes if code not in new_codes]
            if gone:
                changes.refused.append(
                    Message(
                        N_("%(name)s: answer codes removed: %(codes)s."),
                        {"name": name, "codes": ", ".join(gone)},
                    )
                )
            added = [code for code in new_codes if code not in old_codes]
            if added:
                changes.new_choices.append(f"{name}: {', '.join(added)}")
            if _labels(old, var) != _labels(new, other) and var.kind is not VariableKind.OTHER:
                changes.texts.append(name)
        if (
            var.kind is VariableKind.ANSWER
            and other.item.required is not False
            and var.item.required is False
        ):
            changes.refused.append(
                Message(N_("%(name)s: the question is now required."), {"name": name})
            )
        if var.kind is VariableKind.ANSWER and _texts(var.item) != _texts(other.item):
            if name not in changes.texts:
                changes.texts.append(name)
    for bare, var in after.items():
        name = prefix + bare
        if bare in before:
            continue
        if (
            var.kind in (VariableKind.ANSWER, VariableKind.ROW) and var.item.required is not False
        ) or (var.kind is VariableKind.REPEAT and _needs_entries(var.item)):
            changes.refused.append(
                Message(
                    N_("%(name)s: a new required question (complete responses lack it)."),
                    {"name": name},
                )
            )
        else:
            changes.added.append(name)


def _compare_repeat(
    old: Flow, new: Flow, before: Item, after: Item, changes: VersionChanges, name: str
) -> None:
    """A list in both versions: its count and texts, then its children like questions."""
    if (before.repeat_count is None) != (after.repeat_count is None):
        changes.refused.append(
            Message(
                N_("%(name)s: the list's count changed between fixed and open."), {"name": name}
            )
        )
    elif after.repeat_count is None and (after.repeat_min or 0) > (before.repeat_min or 0):
        changes.refused.append(
            Message(
                N_("%(name)s: the list now needs at least %(count)d entries."),
                {"name": name, "count": after.repeat_min},
            )
        )
    elif after.repeat_count is None and after.max_instances < before.max_instances:
        changes.refused.append(
            Message(
                N_("%(name)s: the list now holds at most %(count)d entries."),
                {"name": name, "count": after.max_instances},
            )
        )
    if _texts(before) != _texts(after):
        changes.texts.append(name)
    _compare(old.repeat_flows[before.name], new.repeat_flows[after.name], changes, f"{name}.")


def _needs_entries(repeat: Item) -> bool:
    """True when a list cannot stay empty: a minimum, or a fixed count of entries with
    required questions in them (complete responses would lack them)."""
    if repeat.repeat_count is None:
        return bool(repeat.repeat_min)
    return any(item.type.is_question and item.required is not False for item in repeat.walk())
