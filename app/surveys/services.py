"""Store questionnaire definitions as immutable versions keyed by their content."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.check_files import is_plan_file
from app.domain.messages import N_, Message
from app.domain.monitoring.plan import load_plan
from app.domain.questionnaire.attachments import AttachedFiles, is_bundle
from app.domain.questionnaire.loading import (
    MAX_DEFINITION_BYTES,
    load_definition,
    load_with_files,
)
from app.domain.questionnaire.model import Questionnaire, SourceLocation
from app.domain.questionnaire.problems import Problem
from app.models.surveys import (
    MonitoringPlan,
    Survey,
    SurveyVersion,
    plan_of,
    questionnaire_of,
)

log = logging.getLogger(__name__)

DEFINITION_SUFFIXES = (".yaml", ".yml", ".xlsx")
YAML_FILES = (".yaml", ".yml")


@dataclass
class LoadOutcome:
    """What loading one definition file did."""

    source_name: str
    status: str  # "created" (new survey), "new_version", "unchanged" or "invalid"
    survey: Survey | None = None
    version: SurveyVersion | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "invalid"


def definition_files(paths: list[Path]) -> list[Path]:
    """The questionnaire files named by ``paths`` (directories are searched, sorted by
    name; a monitoring plan found in a directory is not a questionnaire and is left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.suffix.lower() in DEFINITION_SUFFIXES and not is_plan_file(p)
                )
            )
        elif not is_plan_file(path):
            found.append(path)
    return found


def plan_files(paths: list[Path]) -> list[Path]:
    """The monitoring plans among ``paths`` and in the directories they name."""
    found: list[Path] = []
    for path in paths:
        candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        found.extend(p for p in candidates if is_plan_file(p))
    return found


@dataclass
class PlanOutcome:
    """What loading one plan file did."""

    source_name: str
    status: str  # "created", "updated", "unchanged" or "invalid"
    plan: MonitoringPlan | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "invalid"


def latest_questionnaires(session: Session) -> dict[str, Questionnaire]:
    """The latest stored version of every survey, by code (what a plan is checked against)."""
    found: dict[str, Questionnaire] = {}
    for survey in session.scalars(select(Survey)):
        latest = survey.latest
        if latest is not None:
            found[survey.code] = questionnaire_of(latest)
    return found


def load_plan_file(session: Session, path: Path) -> PlanOutcome:
    """Check a plan against the stored questionnaires and store it (replacing the plan with
    the same id) unless that content is stored already. Nothing is stored on an error."""
    name = path.name
    with path.open("rb") as stream:
        data = stream.read(MAX_DEFINITION_BYTES + 1)
    if len(data) > MAX_DEFINITION_BYTES:
        return PlanOutcome(name, "invalid", problems=load_definition(path).problems)
    return load_plan_bytes(session, data, name)


def load_plan_bytes(session: Session, data: bytes, name: str) -> PlanOutcome:
    """Check a plan's bytes against the stored questionnaires and store it (see
    load_plan_file)."""
    result = load_plan(data, name, latest_questionnaires(session))
    if result.plan is None:
        return PlanOutcome(name, "invalid", problems=result.problems)
    plan = result.plan
    content_hash = hashlib.sha256(data).hexdigest()
    row = session.scalar(select(MonitoringPlan).where(MonitoringPlan.code == plan.id))
    if row is not None and row.content_hash == content_hash:
        return PlanOutcome(name, "unchanged", row, result.problems)
    status = "updated" if row is not None else "created"
    if row is None:
        row = MonitoringPlan(code=plan.id)
        session.add(row)
    row.title = plan.title.get("pl")
    row.content_hash = content_hash
    row.source_name = name
    row.source = data
    session.flush()
    log.info("plan %s %s from %s", plan.id, status, name)
    return PlanOutcome(name, status, row, result.problems)


@dataclass(frozen=True)
class PlanRow:
    """A stored plan as the surveys page lists it."""

    code: str
    title: str
    indicators: int
    areas: int
    loaded_at: datetime


def list_plans(session: Session) -> list[PlanRow]:
    """The stored monitoring plans, by code."""
    rows = session.scalars(select(MonitoringPlan).order_by(MonitoringPlan.code))
    listed = []
    for row in rows:
        plan = plan_of(row)
        listed.append(
            PlanRow(row.code, row.title, len(plan.indicators), len(plan.areas), row.loaded_at)
        )
    return listed


def load_file(session: Session, path: Path) -> LoadOutcome:
    """Load the definition in ``path``, with the choices files beside it (see load_bytes)."""
    return load_bytes(session, path.read_bytes(), path.name, AttachedFiles.beside(path))


def load_upload(session: Session, files: list[tuple[str, bytes]]) -> LoadOutcome:
    """Load an uploaded definition: one file (a definition, or a .zip of one and its
    files), or a definition sent together with its choices files (see load_bytes)."""
    if len(files) == 1:
        name, data = files[0]
        return load_bytes(session, data, name)
    names = ", ".join(name for name, _ in files)
    definitions = [
        (name, data)
        for name, data in files
        if name.lower().endswith(DEFINITION_SUFFIXES) or is_bundle(name)
    ]
    if len(definitions) != 1:
        message = Message(
            N_(
                "Send one questionnaire (.yaml, .yml, .xlsx or .zip) with its files; sent: "
                "%(files)s."
            ),
            {"files": names},
        )
        return LoadOutcome(
            names, "invalid", problems=[Problem(SourceLocation(names), None, message)]
        )
    name, data = definitions[0]
    others = {other: content for other, content in files if other != name}
    return load_bytes(session, data, name, AttachedFiles.given(others))


def load_bytes(
    session: Session, data: bytes, source_name: str, attached: AttachedFiles | None = None
) -> LoadOutcome:
    """Check a definition and store it as a new version unless that content is already stored.

    ``attached``: the choices files a workbook may read; one that reads some is stored as a
    bundle of it and them (``load_with_files``). Nothing is stored when the definition has
    an error.
    """
    result, stored_name, stored = load_with_files(
        data, source_name, attached or AttachedFiles.none()
    )
    errors = [p for p in result.problems if p.severity == "error"]
    if result.questionnaire is None or errors:
        return LoadOutcome(source_name, "invalid", problems=result.problems)
    questionnaire = result.questionnaire
    content_hash = hashlib.sha256(stored).hexdigest()
    settings = questionnaire.settings
    title = settings.title.get(settings.default_language)
    survey = session.scalar(select(Survey).where(Survey.code == settings.id))
    status = "new_version"
    if survey is None:
        survey = Survey(code=settings.id, title=title)
        session.add(survey)
        session.flush()
        status = "created"
    else:
        existing = session.scalar(
            select(SurveyVersion).where(
                SurveyVersion.survey_id == survey.id, SurveyVersion.content_hash == content_hash
            )
        )
        if existing is not None:
            return LoadOutcome(source_name, "unchanged", survey, existing, result.problems)
    number = (
        session.scalar(
            select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
        )
        or 0
    ) + 1
    version = SurveyVersion(
        survey_id=survey.id,
        number=number,
        content_hash=content_hash,
        source_name=stored_name,
        source_format="yaml" if stored_name.lower().endswith(YAML_FILES) else "xlsform",
        source=stored,
        title=title,
        item_count=sum(1 for item in questionnaire.walk() if not item.is_group),
    )
    session.add(version)
    survey.title = title
    session.flush()
    log.info("survey %s: version %d loaded from %s", survey.code, number, source_name)
    return LoadOutcome(source_name, status, survey, version, result.problems)
