"""Indicators computed from a fieldwork's responses: value, base, missing, target, by subregion.

``compute(indicator, flow, observations, year=)`` takes the responses that count (the
caller's choice: complete ones, tests left out) as :class:`Observation` objects — a
response's stored answers and its institution's sample variables — and evaluates the
indicator's ``filter`` and ``value`` on each with the questionnaire's :class:`Flow`, so
relevance, calculations and repeats mean exactly what they mean in the interview. See
``app.domain.monitoring.plan`` for the measures.

The result gives the value overall and for each subregion (the sample's ``subregion``;
institutions without one under ``""``), each with its base and missing count, the target
for the year and the percentage of it achieved (value ÷ target × 100; None without a
target or with a target of 0), and, when the caller passes the previous period's result,
the change from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.monitoring.plan import Indicator, Measure
from app.domain.questionnaire.flow import Flow, State

SUBREGION = "subregion"


@dataclass(frozen=True)
class Observation:
    """One response as an indicator reads it."""

    answers: Mapping[str, Any]
    sample: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """A computed value with what it rests on: ``base`` responses, ``missing`` of them
    without a value (for ``count``: responses that passed the filter)."""

    value: float | None
    base: int
    missing: int = 0


@dataclass(frozen=True)
class IndicatorResult:
    indicator: Indicator
    year: int
    overall: Figure
    by_subregion: dict[str, Figure]
    target: Decimal | None
    previous: Figure | None = None

    @property
    def achieved(self) -> float | None:
        """The percentage of the year's target reached (None without a target or value)."""
        if self.target is None or self.target == 0 or self.overall.value is None:
            return None
        return self.overall.value / float(self.target) * 100

    @property
    def change(self) -> float | None:
        """The change from the previous period's value (None when either is unknown)."""
        if self.previous is None or self.previous.value is None or self.overall.value is None:
            return None
        return self.overall.value - self.previous.value


class _Tally:
    """What one group of responses adds up to for an indicator."""

    def __init__(self) -> None:
        self.base = 0
        self.missing = 0
        self.total = 0.0
        self.hits = 0

    def figure(self, measure: Measure) -> Figure:
        answered = self.base - self.missing
        if measure is Measure.COUNT:
            return Figure(float(self.hits), self.base, self.missing)
        if measure is Measure.SUM:
            return Figure(self.total if answered else None, self.base, self.missing)
        if measure is Measure.MEAN:
            return Figure(self.total / answered if answered else None, self.base, self.missing)
        return Figure(self.hits / answered * 100 if answered else None, self.base, self.missing)


def compute(
    indicator: Indicator,
    flow: Flow,
    observations: Iterable[Observation],
    *,
    year: int,
    today: date | None = None,
    previous: Figure | None = None,
) -> IndicatorResult:
    """The indicator over ``observations`` (see the module docstring)."""
    overall = _Tally()
    groups: dict[str, _Tally] = {}
    when = today or date(year, 12, 31)
    for observation in observations:
        state = flow.state(observation.answers, sample=observation.sample, today=when)
        state.ensure_all()
        context = state.context()
        if indicator.filter is not None and not indicator.filter.evaluate_bool(context):
            continue
        subregion = str(observation.sample.get(SUBREGION) or "")
        group = groups.setdefault(subregion, _Tally())
        for tally in (overall, group):
            _add(tally, indicator, state)
    return IndicatorResult(
        indicator=indicator,
        year=year,
        overall=overall.figure(indicator.measure),
        by_subregion={
            name: tally.figure(indicator.measure) for name, tally in sorted(groups.items())
        },
        target=indicator.target(year),
        previous=previous,
    )


def _add(tally: _Tally, indicator: Indicator, state: State) -> None:
    """Count one response that passed the filter."""
    tally.base += 1
    value = indicator.value
    context = state.context()
    if indicator.measure is Measure.COUNT:
        if value is None or value.evaluate_bool(context):
            tally.hits += 1
        return
    if value is None:
        tally.missing += 1
        return
    if indicator.measure is Measure.SHARE:
        if any(_empty(state, name) for name in value.scalar_references):
            tally.missing += 1
        elif value.evaluate_bool(context):
            tally.hits += 1
        return
    result = value.evaluate(context)
    if isinstance(result, bool) or not isinstance(result, int | float):
        tally.missing += 1
        return
    tally.total += float(result)


def _empty(state: State, name: str) -> bool:
    """True when a response's variable has no value an expression could read."""
    current = state.context().values.get(name)
    return current is None or current == "" or (isinstance(current, tuple) and not current)
