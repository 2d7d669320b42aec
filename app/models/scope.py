"""The part of the region an account sees: its subregions and entity types.

A ROPS works with subregional partners (an OWES per subregion). An account limited to
some subregions (and optionally entity types) sees only the institutions of its sample
units that match them, and everything hanging off those institutions: responses, cases,
calls, counts, exports. An empty list means no limit on that dimension; an account with
neither is the whole region's. Matching is exact, as the sample file spells the value.

Every feature applies a scope the same way: ``scope.covers(column)`` is a WHERE clause over
any column holding a sample unit's id (``SampleUnit.id``, ``Response.sample_unit_id``,
``Case.sample_unit_id``), ``scope.admits(unit)`` checks one object already loaded.
Responses without a sample unit (the open link) belong to no subregion, so a scoped
account does not see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from app.models.fieldwork import Fieldwork, SampleUnit
from app.models.users import User


def _clean(values: Iterable[Any] | None) -> frozenset[str]:
    return frozenset(str(v).strip() for v in values or () if str(v).strip())


@dataclass(frozen=True)
class Scope:
    subregions: frozenset[str] = frozenset()  # empty: every subregion
    entity_types: frozenset[str] = frozenset()  # empty: every entity type

    @classmethod
    def of(cls, user: User | None) -> Scope:
        """The scope of ``user`` (None, e.g. the command line without --as: the whole region)."""
        if user is None:
            return UNSCOPED
        return cls(_clean(user.subregions), _clean(user.entity_types))

    @property
    def is_whole_region(self) -> bool:
        return not self.subregions and not self.entity_types

    def _unit_conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.subregions:
            conditions.append(SampleUnit.subregion.in_(sorted(self.subregions)))
        if self.entity_types:
            conditions.append(SampleUnit.entity_type.in_(sorted(self.entity_types)))
        return conditions

    def covers(self, unit_id: Any) -> ColumnElement[bool]:
        """A WHERE clause: ``unit_id`` (a column holding a sample unit's id) is in scope."""
        if self.is_whole_region:
            return true()
        if unit_id is SampleUnit.id:
            conditions = self._unit_conditions()
            return conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]
        in_scope = select(SampleUnit.id).where(*self._unit_conditions())
        return unit_id.in_(in_scope)  # type: ignore[no-any-return]

    def covers_fieldwork(self) -> ColumnElement[bool]:
        """A WHERE clause over Fieldwork: it has at least one sample unit in scope."""
        if self.is_whole_region:
            return true()
        return Fieldwork.id.in_(select(SampleUnit.fieldwork_id).where(*self._unit_conditions()))

    def admits_fieldwork(self, session: Session, fieldwork: Fieldwork) -> bool:
        """Whether ``fieldwork`` has at least one institution in scope."""
        if self.is_whole_region:
            return True
        found = session.scalar(
            select(SampleUnit.id)
            .where(SampleUnit.fieldwork_id == fieldwork.id, *self._unit_conditions())
            .limit(1)
        )
        return found is not None

    def admits(self, unit: SampleUnit | None) -> bool:
        """Whether one institution (None: an open-link response's) is in scope."""
        if self.is_whole_region:
            return True
        if unit is None:
            return False
        return self.outside(unit.subregion, unit.entity_type) is None

    def outside(self, subregion: str, entity_type: str) -> str | None:
        """Which of an institution's values the scope does not cover: ``"subregion"``,
        ``"entity_type"``, or None when it covers both (a sample row before it is stored)."""
        if self.subregions and subregion not in self.subregions:
            return "subregion"
        if self.entity_types and entity_type not in self.entity_types:
            return "entity_type"
        return None

    def contains(self, other: Scope) -> bool:
        """Whether everything ``other`` sees, this scope sees too."""
        if self.subregions and not (other.subregions and other.subregions <= self.subregions):
            return False
        return not (
            self.entity_types
            and not (other.entity_types and other.entity_types <= self.entity_types)
        )

    def describe(self) -> dict[str, list[str]]:
        """The scope as plain lists (recorded with an export job, read by ``described``)."""
        return {"subregions": sorted(self.subregions), "entity_types": sorted(self.entity_types)}

    @classmethod
    def described(cls, data: Any) -> Scope:
        """The scope ``describe`` wrote (anything else: the whole region)."""
        if not isinstance(data, dict):
            return UNSCOPED
        return cls(_clean(data.get("subregions")), _clean(data.get("entity_types")))


UNSCOPED = Scope()
