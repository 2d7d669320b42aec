"""The codebook of a response export: one row per variable (its labels in each language,
type, group and relevance) and one per choice of every choice list used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.outputs.export import merge_in_order, variables_in_order
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


def _variable_label(var: Variable, language: str, default: str) -> str:
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
        return f"{label} – other" if label else "other"
    return label


# see EARLIEST_SPREADSHEET_YEAR in app.domain.outputs.export
DATE_TYPE_NOTE = "date (before 1900: text YYYY-MM-DD)"


def codebook_rows(flows: Sequence[Flow], languages: Sequence[str]) -> list[CodebookRow]:
    """One row per variable of the versions (oldest first), described by its newest version."""
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
                required.source if not isinstance(required, bool) else ("yes" if required else "no")
            )
            constraint = item.constraint.source if item.constraint is not None else ""
            list_name = item.list_name or ""
        if var.kind is VariableKind.CALCULATION:
            required_text, constraint = "", ""
        rows.append(
            CodebookRow(
                variable=name,
                labels=tuple(_variable_label(var, lang, default) for lang in languages),
                type=DATE_TYPE_NOTE if var.value_type is ItemType.DATE else var.value_type.value,
                group=_groups_of(item),
                relevance=_relevance_of(item),
                constraint=constraint,
                required=required_text,
                choice_list=list_name,
            )
        )
    return rows


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
