"""The codebook of a response export: one row per variable (its labels in each language,
type, group, relevance and the sheet that holds it: the responses' or a repeat's) and one
per choice of every choice list used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.outputs.export import (
    RepeatSheet,
    merge_in_order,
    repeat_flows,
    variables_in_order,
)
from app.domain.outputs.words import ENGLISH, NOTED_TYPES, POLISH, FileWords
from app.domain.questionnaire.answers import Variable, VariableKind
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Item, ItemType, Questionnaire


@dataclass(frozen=True)
class CodebookRow:
    """One variable described: how it was asked and what its values mean."""

    variable: str
    labels: tuple[str, ...]  # one per language of the export
    type: str
    group: str
    relevance: str
    constraint: str
    required: str
    choice_list: str
    sheet: str = ""  # the sheet that holds the variable: the responses' or a repeat's


def _groups_of(item: Item) -> str:
    names: list[str] = []
    parent = item.parent
    while parent is not None:
        names.append(parent.name)
        parent = parent.parent
    return "/".join(reversed(names))


def _relevance_of(item: Item) -> str:
    """The item's own condition and its groups', as the definition writes them."""
    conditions: list[str] = []
    node: Item | None = item
    while node is not None:
        if node.relevant is not None:
            conditions.append(node.relevant.source)
        node = node.parent
    if len(conditions) <= 1:
        return conditions[0] if conditions else ""
    return " and ".join(f"({c})" for c in reversed(conditions))


def _other_word(language: str) -> str:
    """ "other" in a label's language (Polish or English; English for any other)."""
    return (POLISH if language == "pl" else ENGLISH).note("other")


def _variable_label(var: Variable, language: str, default: str, other: str) -> str:
    item = var.item
    label = item.label.get(language, default) if item.label else ""
    if var.kind is VariableKind.ROW:
        row_name = var.name.removeprefix(f"{item.name}_")
        row = next((r for r in item.rows if r.name == row_name), None)
        if row is not None:
            return (
                f"{label} – {row.label.get(language, default)}"
                if label
                else row.label.get(language, default)
            )
    if var.kind is VariableKind.OTHER:
        return f"{label} – {other}" if label else other
    return label


def codebook_rows(
    flows: Sequence[Flow],
    languages: Sequence[str],
    *,
    main_sheet: str = "",
    repeats: Sequence[RepeatSheet] = (),
    words: FileWords = ENGLISH,
) -> list[CodebookRow]:
    """One row per variable of the versions (oldest first), described by its newest version:
    the response's variables (on ``main_sheet``), then each repeat's (on its sheet); the
    codebook's own words (yes/no, notes on a type) in the file's ``words``."""
    titles = {sheet.repeat: sheet.title for sheet in repeats}
    rows = _scope_rows(flows, languages, main_sheet, titles, words)
    for sheet in repeats:
        scopes = [
            found[sheet.repeat][0] for found in map(repeat_flows, flows) if sheet.repeat in found
        ]
        rows.extend(_scope_rows(scopes, languages, sheet.title, titles, words))
    return rows


def _scope_rows(
    flows: Sequence[Flow],
    languages: Sequence[str],
    sheet: str,
    titles: dict[str, str],
    words: FileWords,
) -> list[CodebookRow]:
    latest: dict[str, tuple[Variable, Questionnaire]] = {}
    orders: list[list[str]] = []
    for flow in flows:
        q = flow.questionnaire
        variables = variables_in_order(flow)
        orders.append([var.name for var in variables])
        latest.update((var.name, (var, q)) for var in variables)
    rows: list[CodebookRow] = []
    for name in merge_in_order(orders):
        var, q = latest[name]
        item = var.item
        default = q.settings.default_language
        required = item.required
        if var.kind is VariableKind.OTHER:
            required_text, constraint, list_name = "", "", ""
        else:
            required_text = (
                required.source
                if not isinstance(required, bool)
                else words.value("yes" if required else "no")
            )
            constraint = item.constraint.source if item.constraint is not None else ""
            list_name = item.list_name or ""
        if var.kind is VariableKind.CALCULATION:
            required_text, constraint = "", ""
        type_text = var.value_type.value
        if type_text in NOTED_TYPES:
            type_text = words.note(type_text)
        if var.value_type is ItemType.RANGE and item.range is not None:
            spec = item.range
            type_text = words.note("range") % {
                "start": spec.start, "end": spec.end, "step": spec.step
            }  # fmt: skip
        if var.kind is VariableKind.REPEAT:
            # the column holds the number of entries; the entries are rows of their sheet
            type_text = words.note("repeat") % {"sheet": titles.get(name, name)}
            required_text, constraint = "", ""
        rows.append(
            CodebookRow(
                variable=name,
                labels=tuple(
                    _variable_label(var, lang, default, _other_word(lang)) for lang in languages
                ),
                type=type_text,
                group=_groups_of(item),
                relevance=_relevance_of(item),
                constraint=constraint,
                required=required_text,
                choice_list=list_name,
                sheet=sheet,
            )
        )
    return rows


def list_sheets(rows: Sequence[CodebookRow]) -> dict[str, str]:
    """Choice list -> the sheets whose variables use it (", " between them)."""
    found: dict[str, list[str]] = {}
    for row in rows:
        if row.choice_list:
            sheets = found.setdefault(row.choice_list, [])
            if row.sheet and row.sheet not in sheets:
                sheets.append(row.sheet)
    return {name: ", ".join(sheets) for name, sheets in found.items()}


def choice_rows(
    flows: Sequence[Flow], languages: Sequence[str]
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(list, code, labels per language) of every choice list; the newest version's wins."""
    lists: dict[str, tuple[Questionnaire, Any]] = {}
    for q in (flow.questionnaire for flow in flows):
        for name, choices in q.choices.items():
            lists[name] = (q, choices)
    rows: list[tuple[str, str, tuple[str, ...]]] = []
    for name, (q, choices) in lists.items():
        default = q.settings.default_language
        for choice in choices.choices:
            rows.append(
                (name, choice.name, tuple(choice.label.get(lang, default) for lang in languages))
            )
    return rows
