"""The monitoring plan: indicators with targets, computed from the responses.

A plan is a YAML file next to the questionnaires (``surveys/*.yaml`` whose top key is
``plan``), checked by ``ankieta surveys check`` with ``FILE:LINE`` problems like a
questionnaire::

    plan:
      id: slaskie_es
      title: {pl: Plan działań na rzecz ekonomii społecznej, en: Social economy plan}
    areas:
      - code: "1"
        name: {pl: Integracja i reintegracja społeczna, en: Social integration}
    indicators:
      - id: cis_zatrudnienie
        area: "1"
        name: {pl: Uczestnicy CIS/KIS, którzy podjęli zatrudnienie, en: ...}
        unit: {pl: osoby, en: people}
        questionnaire: monitoring_cis_kis
        measure: sum
        value: "${b4_zatrudnienie}"
        filter: "${a1_typ} = 'cis'"
        baseline: {year: 2024, value: 310}
        targets: {2025: 350, 2026: 400}

``measure`` says how the responses of a fieldwork (complete ones, tests left out) make the
indicator's value, with ``value`` an expression over one response, in the questionnaire's
expression language (repeat functions included: ``count(${partnerzy})``):

- ``count``: the responses that pass ``filter`` and, when ``value`` is given, for which it
  holds;
- ``sum`` / ``mean``: the sum or mean of ``value`` over the responses that pass
  ``filter``;
- ``share``: the percentage of the responses that pass ``filter`` for which ``value``
  (a condition) holds.

Every value is given with its **base** (the responses it was computed from) and the number
of **missing** ones (``value`` empty: not answered, don't know, refused, or not asked), so
a low count is never mistaken for a bad result. For ``share``, a response is missing when
an answer its condition reads is empty. ``targets`` are per year (the fieldwork's year);
``baseline`` is optional. Texts are a string (Polish) or a mapping of language to text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import questionnaire_variables
from app.domain.questionnaire.build import Node, expression_at
from app.domain.questionnaire.expressions import Expression
from app.domain.questionnaire.model import (
    DEFAULT_LANGUAGE,
    Questionnaire,
    SourceLocation,
    Text,
)
from app.domain.questionnaire.problems import Problem, problem_order
from app.domain.questionnaire.yaml_reader import read_yaml

PLAN_KEY = "plan"
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}\Z")
_TOP_KEYS = frozenset({"plan", "areas", "indicators"})
_PLAN_KEYS = frozenset({"id", "title"})
_AREA_KEYS = frozenset({"code", "name"})
_INDICATOR_KEYS = frozenset(
    {
        "id",
        "area",
        "name",
        "unit",
        "questionnaire",
        "measure",
        "value",
        "filter",
        "baseline",
        "targets",
    }
)
_BASELINE_KEYS = frozenset({"year", "value"})
MIN_YEAR, MAX_YEAR = 2000, 2100


class Measure(enum.StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    SHARE = "share"


@dataclass(frozen=True)
class Area:
    """A priority area of the plan (obszar priorytetowy)."""

    code: str
    name: Text


@dataclass(frozen=True)
class Baseline:
    year: int
    value: Decimal


@dataclass(frozen=True)
class Indicator:
    """One indicator (wskaźnik): what to compute from which questionnaire, and its targets."""

    id: str
    area: str
    name: Text
    questionnaire: str
    measure: Measure
    value: Expression | None = None
    filter: Expression | None = None
    unit: Text | None = None
    baseline: Baseline | None = None
    targets: Mapping[int, Decimal] = field(default_factory=dict)
    location: SourceLocation | None = None

    def target(self, year: int) -> Decimal | None:
        return self.targets.get(year)


@dataclass(frozen=True)
class Plan:
    id: str
    title: Text
    areas: tuple[Area, ...]
    indicators: tuple[Indicator, ...]
    source: str = ""

    def area(self, code: str) -> Area | None:
        return next((area for area in self.areas if area.code == code), None)

    def for_questionnaire(self, questionnaire_id: str) -> list[Indicator]:
        """The indicators computed from responses to that questionnaire."""
        return [i for i in self.indicators if i.questionnaire == questionnaire_id]


@dataclass
class PlanResult:
    """A plan read from a file: the plan (None if any error) and all problems."""

    plan: Plan | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(problem.is_error for problem in self.problems)


def is_plan(data: bytes) -> bool:
    """True when a YAML file is a plan (its first top-level key is ``plan``), not a
    questionnaire; read cheaply, before the file is parsed."""
    for line in data.decode("utf-8", "replace").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "---", "%")):
            continue
        return not line[:1].isspace() and stripped.split(":", 1)[0].strip() == PLAN_KEY
    return False


def load_plan(
    data: bytes, filename: str, questionnaires: Mapping[str, Questionnaire] | None = None
) -> PlanResult:
    """Read and check a plan; with ``questionnaires`` (by id), also that each indicator's
    questionnaire exists and its expressions read answers it has."""
    document, problems = read_yaml(data, filename)
    if document is None:
        return PlanResult(None, problems)
    reader = _PlanReader(filename, problems)
    plan = reader.plan(document)
    if plan is not None and questionnaires is not None:
        for indicator in plan.indicators:
            reader.check_references(indicator, questionnaires)
    problems.sort(key=problem_order)
    ok = not any(problem.is_error for problem in problems)
    return PlanResult(plan if ok else None, problems)


class _PlanReader:
    """Builds a :class:`Plan` from its document, reporting each problem where it was written."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        self.locations: dict[str, Node] = {}

    def error(self, where: SourceLocation, item: str | None, msgid: str, /, **params: Any) -> None:
        self.problems.append(Problem(where, item, Message(msgid, params)))

    def keys(self, node: Node, allowed: frozenset[str], item: str | None) -> None:
        for key in node:
            if key not in allowed:
                self.error(
                    node.where(key),
                    item,
                    N_("Unknown key %(key)s (known: %(known)s)."),
                    key=key,
                    known=", ".join(sorted(allowed)),
                )

    def plan(self, document: Any) -> Plan | None:
        whole = SourceLocation(self.filename)
        if not isinstance(document, Node) or not isinstance(document.get(PLAN_KEY), Node):
            self.error(whole, None, N_("A plan starts with plan: (its id and title)."))
            return None
        self.keys(document, _TOP_KEYS, None)
        head: Node = document[PLAN_KEY]
        self.keys(head, _PLAN_KEYS, None)
        plan_id = self.identifier(head, "id", None)
        title = self.text(head, "title", None)
        areas = self.areas(document)
        indicators = self.indicators(document, {area.code for area in areas})
        if plan_id is None or title is None:
            return None
        return Plan(plan_id, title, tuple(areas), tuple(indicators), self.filename)

    def entries(self, document: Node, key: str) -> list[Node]:
        value = document.get(key)
        if value is None:
            self.error(document.where(key), None, N_("The plan has no %(key)s."), key=key)
            return []
        if not isinstance(value, list) or not all(isinstance(each, Node) for each in value):
            self.error(
                document.where(key), None, N_("%(key)s must be a list of mappings."), key=key
            )
            return []
        return value

    def areas(self, document: Node) -> list[Area]:
        areas: dict[str, Area] = {}
        for node in self.entries(document, "areas"):
            self.keys(node, _AREA_KEYS, None)
            code = node.text("code")
            name = self.text(node, "name", code)
            if not code:
                self.error(node.where("code"), None, N_("The area has no code."))
                continue
            if code in areas:
                self.error(
                    node.where("code"), None, N_("The area %(code)s appears twice."), code=code
                )
                continue
            if name is not None:
                areas[code] = Area(code, name)
        return list(areas.values())

    def indicators(self, document: Node, area_codes: set[str]) -> list[Indicator]:
        indicators: dict[str, Indicator] = {}
        for node in self.entries(document, "indicators"):
            indicator = self.indicator(node, area_codes)
            if indicator is None:
                continue
            if indicator.id in indicators:
                self.error(
                    node.where("id"),
                    indicator.id,
                    N_("The indicator %(id)s appears twice."),
                    id=indicator.id,
                )
                continue
            indicators[indicator.id] = indicator
            self.locations[indicator.id] = node
        return list(indicators.values())

    def indicator(self, node: Node, area_codes: set[str]) -> Indicator | None:
        indicator_id = self.identifier(node, "id", None)
        name = indicator_id
        self.keys(node, _INDICATOR_KEYS, name)
        area = node.text("area")
        if area is None or area not in area_codes:
            self.error(
                node.where("area"),
                name,
                N_("area must be the code of one of the plan's areas (%(codes)s)."),
                codes=", ".join(sorted(area_codes)) or "—",
            )
        label = self.text(node, "name", name)
        unit = self.text(node, "unit", name) if "unit" in node else None
        questionnaire = node.text("questionnaire")
        if not questionnaire:
            self.error(node.where("questionnaire"), name, N_("The questionnaire is missing."))
        measure = self.measure(node, name)
        value = self.expression(node, "value", name)
        condition = self.expression(node, "filter", name)
        if measure in (Measure.SUM, Measure.MEAN, Measure.SHARE) and value is None:
            if "value" not in node:
                self.error(
                    node.where("measure"),
                    name,
                    N_("The measure %(measure)s needs a value."),
                    measure=measure.value,
                )
        baseline = self.baseline(node, name)
        targets = self.targets(node, name)
        if (
            indicator_id is None
            or area is None
            or label is None
            or not questionnaire
            or measure is None
        ):
            return None
        return Indicator(
            id=indicator_id,
            area=area,
            name=label,
            questionnaire=questionnaire,
            measure=measure,
            value=value,
            filter=condition,
            unit=unit,
            baseline=baseline,
            targets=targets,
            location=node.location,
        )

    def identifier(self, node: Node, key: str, item: str | None) -> str | None:
        value = node.text(key)
        if value is None or not _ID.match(value):
            self.error(
                node.where(key),
                item,
                N_("%(key)s must be lowercase letters, digits and _, starting with a letter."),
                key=key,
            )
            return None
        return value

    def text(self, node: Node, key: str, item: str | None) -> Text | None:
        value = node.get(key)
        if isinstance(value, Node):
            texts: dict[str, str] = {}
            for language, text in value.items():
                if not _LANGUAGE.match(str(language)) or not isinstance(text, str) or not text:
                    self.error(
                        value.where(language),
                        item,
                        N_("%(key)s: write each language as a code (pl, en) with its text."),
                        key=key,
                    )
                    continue
                texts[str(language)] = text
            if DEFAULT_LANGUAGE not in texts:
                self.error(node.where(key), item, N_("%(key)s has no Polish text (pl)."), key=key)
                return None
            return Text(texts)
        text = node.text(key)
        if not text:
            self.error(node.where(key), item, N_("%(key)s is missing."), key=key)
            return None
        return Text({DEFAULT_LANGUAGE: text})

    def measure(self, node: Node, item: str | None) -> Measure | None:
        text = node.text("measure")
        try:
            return Measure(text or "")
        except ValueError:
            self.error(
                node.where("measure"),
                item,
                N_("measure must be one of: %(known)s."),
                known=", ".join(m.value for m in Measure),
            )
            return None

    def expression(self, node: Node, key: str, item: str | None) -> Expression | None:
        return expression_at(node, key, item, self.problems)

    def baseline(self, node: Node, item: str | None) -> Baseline | None:
        value = node.get("baseline")
        if value is None:
            return None
        if not isinstance(value, Node):
            self.error(node.where("baseline"), item, N_("baseline must have a year and a value."))
            return None
        self.keys(value, _BASELINE_KEYS, item)
        year = self.year(value.get("year"), value.where("year"), item)
        number = self.number(value.get("value"), value.where("value"), item)
        return Baseline(year, number) if year is not None and number is not None else None

    def targets(self, node: Node, item: str | None) -> dict[int, Decimal]:
        value = node.get("targets")
        if value is None:
            return {}
        if not isinstance(value, Node):
            self.error(
                node.where("targets"), item, N_("targets must map years to values (2026: 150).")
            )
            return {}
        targets: dict[int, Decimal] = {}
        for key, target in value.items():
            year = self.year(key, value.where(key), item)
            number = self.number(target, value.where(key), item)
            if year is not None and number is not None:
                targets[year] = number
        return targets

    def year(self, value: Any, where: SourceLocation, item: str | None) -> int | None:
        text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
        if not text.isdigit() or not MIN_YEAR <= int(text) <= MAX_YEAR:
            self.error(
                where,
                item,
                N_("A year must be a whole number from %(least)d to %(most)d."),
                least=MIN_YEAR,
                most=MAX_YEAR,
            )
            return None
        return int(text)

    def number(self, value: Any, where: SourceLocation, item: str | None) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.error(where, item, N_("A value must be a number."))
            return None
        try:
            number = Decimal(str(value).replace(",", "."))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.error(where, item, N_("A value must be a number."))
            return None
        return number

    def check_references(
        self, indicator: Indicator, questionnaires: Mapping[str, Questionnaire]
    ) -> None:
        """The indicator's questionnaire exists and its expressions read its answers."""
        node = self.locations.get(indicator.id)
        where = node.where if node is not None else (lambda key: SourceLocation(self.filename))
        questionnaire = questionnaires.get(indicator.questionnaire)
        if questionnaire is None:
            self.error(
                where("questionnaire"),
                indicator.id,
                N_("There is no questionnaire %(id)s (known: %(known)s)."),
                id=indicator.questionnaire,
                known=", ".join(sorted(questionnaires)) or "—",
            )
            return
        names = _readable_names(questionnaire)
        for key, expression in (("value", indicator.value), ("filter", indicator.filter)):
            if expression is None:
                continue
            for name in sorted(expression.references - names):
                self.error(
                    where(key),
                    indicator.id,
                    N_("%(key)s refers to ${%(name)s}, which questionnaire %(id)s does not have."),
                    key=key,
                    name=name,
                    id=questionnaire.settings.id,
                )


def _readable_names(questionnaire: Questionnaire) -> set[str]:
    """Every name an indicator may read: the response's variables and, through the repeat
    functions, the variables inside its repeats."""
    names = set(questionnaire_variables(questionnaire))
    for repeat in questionnaire.repeats():
        for item in repeat.walk():
            names.update(item.variable_names())
    return names
