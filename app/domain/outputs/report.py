"""Figures of the monitoring report: frequency tables, numeric summaries and response rates.

Plain Python: the caller gives a ``Flow`` and the responses as pairs of (clean answers,
sample variables) — ``Flow.clean_answers`` of each response and the sampled institution's
``sample_variables()`` — and gets back tables that a writer (the XLSX workbook in
``app.exports.report``) lays out.

Closed questions
    Every select_one, select_multiple and matrix row is one ``ClosedTable``: one row per
    choice of its list, then one row for don't know and one for refused (their export codes
    from the settings). The **base** is the number of responses in which the variable has a
    value, don't know and refused included: a question that was not asked (irrelevant) or
    left empty is not in the base. Percentages are of the base; for a select_multiple each
    choice is counted once per response that ticked it, so they may add up to more than 100.

Numeric questions
    Every integer and decimal question, and every calculation whose values are numbers
    (decided from the data: a calculation that ever gives text, a date or a truth value is
    left out), is one ``NumericTable``: n, sum, mean, median, min and max of the numeric
    answers (exact ``Decimal`` arithmetic; the median of an even n is the mean of the middle
    two), plus how many said don't know or refused (not in n).

Repeats
    A variable inside a repeat gets the same tables, counted over the repeat's entries
    (``repeat`` names it): a closed one's base is the entries in which it has a value and
    its counts are entries per choice ("partners by type"); a numeric one's n, sum, mean,
    … are of the entries' answers ("jobs created in the supported enterprises", summed),
    each entry in the breakdown group of its response. A nested repeat's entries are
    counted the same way, over all entries of all enclosing entries. The repeat itself
    gets a numeric table of its number of entries (``entries``): n = responses (or
    enclosing entries) that were asked, sum = entries in all ("partners, by subregion").

Breakdown
    Each figure is computed overall and per group of a sample variable (``by``: subregion,
    entity_type, powiat, gmina, or any other sample column). The groups are the ones given
    (in practice every value found in the sample, so a group with no response still shows,
    with a base of 0 and empty percentages) followed by any other value met in the
    responses, sorted; a response without the variable (an open-link response) falls in
    the group ``NO_VALUE``.

Response rates
    ``response_rates`` counts, per group, the sampled units and those with a complete
    response: rate = complete / sample size (None for an empty group);
    ``disposition_counts`` the cases per AAPOR disposition code, overall and per group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, Missing, Variable, VariableKind
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.model import Item, ItemType, Text

NO_VALUE = ""  # the group of responses whose sample has no value for the breakdown variable

Record = tuple[Mapping[str, Any], Mapping[str, Any]]  # (clean answers, sample variables)


@dataclass(frozen=True)
class ChoiceRow:
    """One row of a closed table: a choice of the list, or don't know / refused."""

    key: str  # the choice code, or the Missing's value ("dont_know" / "refused")
    code: str | int  # what is exported: the choice code, or the DK/RF code from the settings
    label: Text | None  # the choice's label; None for don't know / refused
    missing: Missing | None = None


@dataclass
class Frequencies:
    """Counts of one closed variable in one group of responses."""

    base: int = 0  # responses in which the variable has a value (DK/RF included)
    counts: dict[str, int] = field(default_factory=dict)  # ChoiceRow.key -> responses

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def share(self, key: str) -> float | None:
        """The share of the base (0.25 for 25 %), None when the base is empty."""
        return self.counts.get(key, 0) / self.base if self.base else None


@dataclass(frozen=True)
class NumericSummary:
    """n, sum, mean, median, min and max of the numeric answers of one group."""

    n: int = 0
    sum: Decimal | None = None
    mean: Decimal | None = None
    median: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    dont_know: int = 0
    refused: int = 0

    @classmethod
    def of(cls, values: list[Decimal], dont_know: int = 0, refused: int = 0) -> NumericSummary:
        """The summary of ``values`` (any order); empty figures when there are none."""
        if not values:
            return cls(dont_know=dont_know, refused=refused)
        ordered = sorted(values)
        n = len(ordered)
        total = sum(ordered, Decimal(0))
        middle = n // 2
        median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        return cls(
            n=n,
            sum=total,
            mean=total / n,
            median=median,
            min=ordered[0],
            max=ordered[-1],
            dont_know=dont_know,
            refused=refused,
        )


@dataclass
class ClosedTable:
    """The frequency table of one select_one, select_multiple or matrix row."""

    variable: str
    item: Item
    label: Text | None  # the question's label
    row_label: Text | None  # a matrix row's label (None for a plain select)
    multiple: bool
    rows: tuple[ChoiceRow, ...]
    overall: Frequencies
    groups: dict[str, Frequencies]
    repeat: str | None = None  # counted over the entries of this repeat, not responses


@dataclass
class NumericTable:
    """The summary of one integer, decimal or numeric calculation."""

    variable: str
    item: Item
    label: Text | None
    overall: NumericSummary
    groups: dict[str, NumericSummary]
    repeat: str | None = None  # summed over the entries of this repeat, not responses
    entries: bool = False  # the variable is a repeat: its figures are numbers of entries


Table = ClosedTable | NumericTable


@dataclass
class Report:
    """Every table of the report, in questionnaire order, and the groups they break down by."""

    by: str | None
    groups: tuple[str, ...]
    responses: int
    responses_by_group: dict[str, int]
    tables: list[Table]

    @property
    def closed(self) -> list[ClosedTable]:
        return [t for t in self.tables if isinstance(t, ClosedTable)]

    @property
    def numeric(self) -> list[NumericTable]:
        return [t for t in self.tables if isinstance(t, NumericTable)]

    def table(self, variable: str) -> Table:
        """The table of ``variable`` (KeyError if the report has none)."""
        for table in self.tables:
            if table.variable == variable:
                return table
        raise KeyError(variable)


@dataclass(frozen=True)
class RateRow:
    """Sample size and complete responses of one group."""

    group: str | None  # None: the whole sample
    sample_size: int
    complete: int
    invitations: int = 0  # e-mail invitations sent
    reminders: int = 0  # e-mail reminders sent

    @property
    def rate(self) -> float | None:
        return self.complete / self.sample_size if self.sample_size else None


def group_of(sample: Mapping[str, Any], by: str | None) -> str:
    """The breakdown group of a response or unit: the sample variable as text."""
    if by is None:
        return NO_VALUE
    value = sample.get(by)
    return NO_VALUE if value is None else str(value).strip()


def _ordered_groups(given: Iterable[str], seen: Iterable[str]) -> tuple[str, ...]:
    """The given groups in their order, then the others met, sorted (no value last)."""
    groups = list(dict.fromkeys(given))
    known = set(groups)
    extra = sorted({g for g in seen if g not in known and g != NO_VALUE})
    groups.extend(extra)
    if NO_VALUE in set(seen) and NO_VALUE not in known:
        groups.append(NO_VALUE)
    return tuple(groups)


def _number(value: Any) -> Decimal | None:
    """A numeric answer as an exact Decimal (None for anything that is not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest text that reads back as this float: 0.1 stays 0.1
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    return None


class _Closed:
    """Accumulates the counts of one closed variable."""

    def __init__(self, flow: Flow, var: Variable) -> None:
        self.var = var
        self.repeat = _repeat_of(var)
        settings = flow.settings
        choice_list = flow.questionnaire.choice_list(var.item)
        choices = choice_list.choices if choice_list else ()
        self.rows = tuple(ChoiceRow(c.name, c.name, c.label) for c in choices) + tuple(
            ChoiceRow(m.value, m.code(settings), None, m) for m in (DONT_KNOW, REFUSED)
        )
        self.overall = Frequencies()
        self.groups: dict[str, Frequencies] = {}

    def add(self, value: Any, group: str) -> None:
        if value is None:
            return
        if isinstance(value, Missing):
            keys: tuple[str, ...] = (value.value,)
        elif isinstance(value, tuple):
            keys = value
        else:
            keys = (str(value),)
        for freq in (self.overall, self.groups.setdefault(group, Frequencies())):
            freq.base += 1
            for key in keys:
                freq.counts[key] = freq.counts.get(key, 0) + 1

    def table(self, groups: tuple[str, ...]) -> ClosedTable:
        item = self.var.item
        row_label = None
        if self.var.kind is VariableKind.ROW:
            row_name = self.var.name[len(item.name) + 1 :]
            row_label = next((r.label for r in item.rows if r.name == row_name), None)
        return ClosedTable(
            variable=self.var.name,
            item=item,
            label=item.label,
            row_label=row_label,
            multiple=item.type is ItemType.SELECT_MULTIPLE,
            rows=self.rows,
            overall=self.overall,
            groups={g: self.groups.get(g, Frequencies()) for g in groups},
            repeat=self.repeat,
        )


class _Numeric:
    """Collects the numeric answers of one variable (all kept: the median needs them)."""

    def __init__(self, var: Variable) -> None:
        self.var = var
        self.repeat = _repeat_of(var)
        self.values: dict[str, list[Decimal]] = {}
        self.missing: dict[str, dict[Missing, int]] = {}
        self.numeric = True  # a calculation is dropped once it gives a non-number
        self.seen = False

    def add(self, value: Any, group: str) -> None:
        if value is None:
            return
        if isinstance(value, Missing):
            counts = self.missing.setdefault(group, {})
            counts[value] = counts.get(value, 0) + 1
            return
        number = _number(value)
        if number is None:
            self.numeric = False
            return
        self.seen = True
        self.values.setdefault(group, []).append(number)

    def _summary(self, groups: Iterable[str]) -> NumericSummary:
        values = [v for g in groups for v in self.values.get(g, [])]
        missing = [self.missing.get(g, {}) for g in groups]
        return NumericSummary.of(
            values,
            dont_know=sum(m.get(DONT_KNOW, 0) for m in missing),
            refused=sum(m.get(REFUSED, 0) for m in missing),
        )

    def table(self, groups: tuple[str, ...]) -> NumericTable:
        all_groups = set(self.values) | set(self.missing)
        return NumericTable(
            variable=self.var.name,
            item=self.var.item,
            label=self.var.item.label,
            overall=self._summary(all_groups),
            groups={g: self._summary((g,)) for g in groups},
            repeat=self.repeat,
            entries=self.var.kind is VariableKind.REPEAT,
        )


_CLOSED_TYPES = (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE)
_NUMERIC_TYPES = (ItemType.INTEGER, ItemType.DECIMAL, ItemType.RANGE)


def _accumulator(flow: Flow, var: Variable) -> _Closed | _Numeric | None:
    """What collects ``var``'s figures, or None when the report has no table for it."""
    if var.kind is VariableKind.ROW:
        return _Closed(flow, var)
    if var.kind is VariableKind.CALCULATION:
        return _Numeric(var)
    if var.kind is VariableKind.ANSWER:
        if var.item.type in _CLOSED_TYPES:
            return _Closed(flow, var)
        if var.item.type in _NUMERIC_TYPES:
            return _Numeric(var)
    return None


def _repeat_of(var: Variable) -> str | None:
    repeat = var.item.enclosing_repeat()
    return repeat.name if repeat is not None else None


@dataclass
class _Scope:
    """The accumulators of the variables of one scope (the response, or one repeat's
    entries) and the scopes of the repeats inside it."""

    accumulators: list[_Closed | _Numeric]
    repeats: dict[str, _Scope]

    @classmethod
    def of(cls, flow: Flow, ordered: list[_Closed | _Numeric]) -> _Scope:
        """The scope of ``flow``; every accumulator is also appended to ``ordered``, in
        questionnaire order (a repeat's tables where the repeat is)."""
        scope = cls([], {})
        for var in flow.variables.values():
            if var.kind is VariableKind.REPEAT:
                # its number of entries (per response or enclosing entry), then its tables
                counted = _Numeric(var)
                scope.accumulators.append(counted)
                ordered.append(counted)
                scope.repeats[var.name] = cls.of(flow.repeat_flows[var.name], ordered)
                continue
            acc = _accumulator(flow, var)
            if acc is not None:
                scope.accumulators.append(acc)
                ordered.append(acc)
        return scope

    def add(self, answers: Mapping[str, Any], group: str) -> None:
        for acc in self.accumulators:
            value = answers.get(acc.var.name)
            if acc.var.kind is VariableKind.REPEAT:  # counted; None when not asked
                value = len(value) if isinstance(value, tuple) else None
            acc.add(value, group)
        for name, inner in self.repeats.items():
            for entry in answers.get(name) or ():
                inner.add(entry, group)


def build_report(
    flow: Flow,
    records: Iterable[Record],
    *,
    by: str | None = None,
    groups: Iterable[str] = (),
) -> Report:
    """The report's tables for ``records`` (clean answers, sample variables), read once.

    ``groups`` are the breakdown groups to show even when no response falls in them
    (the values of ``by`` in the sample); ignored when ``by`` is None.
    """
    accumulators: list[_Closed | _Numeric] = []
    scope = _Scope.of(flow, accumulators)
    responses = 0
    by_group: dict[str, int] = {}
    for answers, sample in records:
        group = group_of(sample, by)
        responses += 1
        by_group[group] = by_group.get(group, 0) + 1
        scope.add(answers, group)
    shown = _ordered_groups(groups, by_group) if by is not None else ()
    tables: list[Table] = []
    for acc in accumulators:
        if isinstance(acc, _Numeric) and acc.var.kind is VariableKind.CALCULATION:
            if not (acc.numeric and acc.seen):
                continue
        tables.append(acc.table(shown))
    return Report(
        by=by,
        groups=shown,
        responses=responses,
        responses_by_group={g: by_group.get(g, 0) for g in shown},
        tables=tables,
    )


def response_rates(
    units: Iterable[tuple[Mapping[str, Any], bool] | tuple[Mapping[str, Any], bool, int, int]],
    *,
    by: str | None = None,
) -> list[RateRow]:
    """Sample size and complete responses overall, then per group of ``by`` (sorted).

    ``units`` are (sample variables, has a complete response) per sampled unit, optionally
    followed by the e-mail invitations and reminders sent to it.
    """
    sizes: dict[str, int] = {}
    completes: dict[str, int] = {}
    mail: dict[str, list[int]] = {}
    for sample, complete, *sent in units:
        group = group_of(sample, by)
        sizes[group] = sizes.get(group, 0) + 1
        completes[group] = completes.get(group, 0) + (1 if complete else 0)
        counts = mail.setdefault(group, [0, 0])
        if sent:
            counts[0] += sent[0]
            counts[1] += sent[1]

    def row(group: str | None, names: Iterable[str]) -> RateRow:
        names = list(names)
        return RateRow(
            group,
            sum(sizes[g] for g in names),
            sum(completes[g] for g in names),
            sum(mail[g][0] for g in names),
            sum(mail[g][1] for g in names),
        )

    rows = [row(None, sizes)]
    if by is not None:
        rows.extend(row(g, [g]) for g in _ordered_groups((), sizes))
    return rows


@dataclass(frozen=True)
class DispositionTable:
    """Cases per AAPOR disposition code, overall and per group of a sample variable."""

    codes: tuple[str, ...]  # the codes met, sorted
    overall: dict[str, int]
    groups: dict[str, dict[str, int]]  # group -> code -> cases (groups sorted, no value last)


def disposition_counts(
    cases: Iterable[tuple[Mapping[str, Any], str | None]], *, by: str
) -> DispositionTable:
    """Count ``cases`` (the sample variables of the case's unit, its disposition code; a
    case without a code is left out) overall and per group of ``by``."""
    overall: dict[str, int] = {}
    groups: dict[str, dict[str, int]] = {}
    for sample, code in cases:
        if not code:
            continue
        overall[code] = overall.get(code, 0) + 1
        counts = groups.setdefault(group_of(sample, by), {})
        counts[code] = counts.get(code, 0) + 1
    ordered = _ordered_groups((), groups)
    # as text, AAPOR's order: 2.11 < 2.112 < 2.12 < 3.11
    return DispositionTable(tuple(sorted(overall)), overall, {g: groups[g] for g in ordered})
