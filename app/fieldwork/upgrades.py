"""Corrections during fieldwork: moving a fieldwork to a newer version of its definition."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.domain.messages import N_, Message
from app.domain.questionnaire.upgrade import VersionChanges, compare
from app.fieldwork.services import FieldworkError
from app.models.fieldwork import (
    Fieldwork,
    FieldworkState,
    Response,
    ResponseStatus,
)
from app.models.surveys import SurveyVersion, flow_of

log = logging.getLogger(__name__)


@dataclass
class UpgradePlan:
    """What moving ``fieldwork`` to ``target`` would do (``changes.ok``: whether it may)."""

    fieldwork: Fieldwork
    current: SurveyVersion
    target: SurveyVersion
    changes: VersionChanges
    moved: list[int] = field(default_factory=list)  # responses in progress that move
    kept_complete: int = 0  # complete responses: stay on the version they were given on
    kept_removed: int = 0  # in progress with answers to removed questions: stay, kept in exports

    def audit_detail(self) -> dict:
        return {
            "version": [self.current.number, self.target.number],
            "moved": len(self.moved),
            "kept_complete": self.kept_complete,
            "kept_removed": self.kept_removed,
            "removed": self.changes.removed,
            "added": self.changes.added,
            "new_choices": "; ".join(self.changes.new_choices),
            "texts": ", ".join(self.changes.texts),
        }


def plan_upgrade(session: Session, fieldwork: Fieldwork, number: int) -> UpgradePlan:
    """Check moving the fieldwork to version ``number`` of its survey (changes nothing)."""
    if fieldwork.state == FieldworkState.CLOSED:
        raise FieldworkError(Message(N_("The fieldwork is closed.")))
    target = session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == fieldwork.survey_id, SurveyVersion.number == number
        )
    )
    if target is None:
        raise FieldworkError(Message(N_("The survey has no version %(n)s."), {"n": number}))
    current = fieldwork.survey_version
    if target.number <= current.number:
        raise FieldworkError(
            Message(
                N_("The fieldwork already uses version %(n)d; choose a newer one."),
                {"n": current.number},
            )
        )
    changes = compare(flow_of(current), flow_of(target))
    plan = UpgradePlan(fieldwork, current, target, changes)
    rows = session.execute(
        select(Response.id, Response.status, Response.answers).where(
            Response.fieldwork_id == fieldwork.id, Response.survey_version_id == current.id
        )
    )
    for response_id, status, answers in rows:
        if status == ResponseStatus.COMPLETE.value:
            plan.kept_complete += 1
        elif changes.holds_removed(answers):
            plan.kept_removed += 1
        else:
            plan.moved.append(response_id)
    return plan


def upgrade(session: Session, plan: UpgradePlan, now: datetime) -> None:
    """Move the fieldwork (and its responses in progress) to the plan's version."""
    if not plan.changes.ok:
        raise FieldworkError(Message(N_("The new version is not compatible; nothing changed.")))
    fieldwork = plan.fieldwork
    moved = session.execute(
        update(Fieldwork)
        .where(Fieldwork.id == fieldwork.id, Fieldwork.survey_version_id == plan.current.id)
        .values(survey_version_id=plan.target.id)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], moved).rowcount != 1:  # someone moved it since the check
        raise FieldworkError(Message(N_("The fieldwork changed meanwhile; check again.")))
    if plan.moved:
        session.execute(
            update(Response)
            .where(
                Response.id.in_(plan.moved),
                Response.survey_version_id == plan.current.id,
                Response.status == ResponseStatus.IN_PROGRESS.value,
            )
            .values(survey_version_id=plan.target.id, revision=Response.revision + 1)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    session.expire(fieldwork)
    log.info(
        "fieldwork %d moved to version %d (%d responses)",
        fieldwork.id,
        plan.target.number,
        len(plan.moved),
    )


def upgrade_report(plan: UpgradePlan, gettext: Callable[[str], str]) -> list[str]:
    """The check's result as lines for a person: what is refused, changed, moved and kept."""
    changes = plan.changes
    lines = [
        gettext("Version %(old)d → %(new)d.")
        % {"old": plan.current.number, "new": plan.target.number}
    ]
    lines += [gettext("Refused: %(why)s") % {"why": m.render(gettext)} for m in changes.refused]
    listed = (
        (N_("Changed texts: %(names)s"), changes.texts),
        (N_("New optional questions: %(names)s"), changes.added),
        (N_("New answer options: %(names)s"), changes.new_choices),
        (
            N_("Removed questions (their answers stay stored and exported): %(names)s"),
            changes.removed,
        ),
    )
    lines += [gettext(msgid) % {"names": "; ".join(names)} for msgid, names in listed if names]
    if changes.ok:
        lines.append(
            gettext("Responses in progress that move to the new version: %(n)d")
            % {"n": len(plan.moved)}
        )
        lines.append(
            gettext("Complete responses (they keep the version they were given on): %(n)d")
            % {"n": plan.kept_complete}
        )
        if plan.kept_removed:
            lines.append(
                gettext(
                    "Responses in progress with answers to removed questions (they keep "
                    "version %(old)d): %(n)d"
                )
                % {"old": plan.current.number, "n": plan.kept_removed}
            )
    return lines
