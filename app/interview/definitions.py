"""A stored survey version's questionnaire and interview flow, parsed once per content."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.model import Questionnaire
from app.models.surveys import SurveyVersion

_questionnaires: dict[str, Questionnaire] = {}
_flows: dict[str, Flow] = {}
_cache_lock = threading.Lock()


def questionnaire_of(version: SurveyVersion) -> Questionnaire:
    """The questionnaire of a stored version, parsed once per content and then kept.

    Versions never change, so their content hash is a safe cache key.
    """
    cached = _questionnaires.get(version.content_hash)
    if cached is None:
        result = load_definition(version.source, version.source_name)
        if result.questionnaire is None:  # it was checked when it was stored
            raise ValueError(f"stored definition {version.source_name} no longer loads")
        with _cache_lock:
            cached = _questionnaires.setdefault(version.content_hash, result.questionnaire)
    return cached


def flow_of(version: SurveyVersion) -> Flow:
    """The interview flow of a stored version (built once per content)."""
    cached = _flows.get(version.content_hash)
    if cached is None:
        flow = Flow(questionnaire_of(version))
        with _cache_lock:
            cached = _flows.setdefault(version.content_hash, flow)
    return cached


def version_numbered(session: Session, survey_id: int, number: int) -> SurveyVersion | None:
    """The survey's version with this number (1, 2, ...)."""
    return session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey_id, SurveyVersion.number == number
        )
    )
