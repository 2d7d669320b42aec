"""Store questionnaire definitions as immutable versions keyed by their content."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.check_files import is_plan_file
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.problems import Problem
from app.models.surveys import Survey, SurveyVersion

log = logging.getLogger(__name__)

DEFINITION_SUFFIXES = (".yaml", ".yml", ".xlsx")


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
        else:
            found.append(path)
    return found


def load_file(session: Session, path: Path) -> LoadOutcome:
    """Load the definition in ``path`` (see load_bytes)."""
    return load_bytes(session, path.read_bytes(), path.name)


def load_bytes(session: Session, data: bytes, source_name: str) -> LoadOutcome:
    """Check a definition and store it as a new version unless that content is already stored.

    Nothing is stored when the definition has an error.
    """
    result = load_definition(data, source_name)
    errors = [p for p in result.problems if p.severity == "error"]
    if result.questionnaire is None or errors:
        return LoadOutcome(source_name, "invalid", problems=result.problems)
    questionnaire = result.questionnaire
    content_hash = hashlib.sha256(data).hexdigest()
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
        source_name=source_name,
        source_format="xlsform" if source_name.lower().endswith(".xlsx") else "yaml",
        source=data,
        title=title,
        item_count=sum(1 for item in questionnaire.walk() if not item.is_group),
    )
    session.add(version)
    survey.title = title
    session.flush()
    log.info("survey %s: version %d loaded from %s", survey.code, number, source_name)
    return LoadOutcome(source_name, status, survey, version, result.problems)
