"""Preview: walk a loaded definition version's real form (web or phone) without storing anything.

The answers given so far travel with the page as a signed hidden field, so a preview needs
no fieldwork, no response and no database row; a forged or stale field is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict

from app.domain.questionnaire.answers import StoredFile, answers_from_json, answers_to_json
from app.domain.questionnaire.fields import (
    FIELD_VALUES,
    REMOVE_FILE_FIELD_VALUE,
    file_field,
)
from app.domain.questionnaire.flow import Flow, Mode, PageResult, State
from app.domain.questionnaire.pages import Page
from app.domain.questionnaire.uploads import safe_name
from app.interview.pages import PagePost
from app.interview.submit import PageOutcome, Step, decide
from app.interview.uploads import without_typed_files

SALT = "ankieta-preview"
MODES: tuple[Mode, ...] = ("web", "phone")


class BadPreviewState(Exception):
    """The hidden preview field was changed, broken or belongs to another version."""


@dataclass
class PreviewState:
    """The answers given so far in one preview of one version and mode."""

    version_id: int
    mode: Mode
    answers: dict[str, Any]

    def sign(self, flow: Flow, secret: str) -> str:
        data = {
            "v": self.version_id,
            "m": self.mode,
            "a": answers_to_json(flow.questionnaire, self.answers),
        }
        return URLSafeSerializer(secret, salt=SALT).dumps(data)

    @classmethod
    def read(cls, text: str, flow: Flow, secret: str, version_id: int, mode: Mode) -> PreviewState:
        try:
            data = URLSafeSerializer(secret, salt=SALT).loads(text)
        except BadSignature:
            raise BadPreviewState() from None
        if not isinstance(data, dict) or data.get("v") != version_id or data.get("m") != mode:
            raise BadPreviewState()
        stored = data.get("a")
        if not isinstance(stored, dict):
            raise BadPreviewState()
        return cls(version_id, mode, answers_from_json(flow.questionnaire, stored, flow.variables))


@dataclass
class PreviewAnswers:
    """A preview's answers as the page decision reads and stores them: nothing is kept but
    what travels with the page (app.interview.submit's Answering and AnswerStore)."""

    flow: Flow
    answers: dict[str, Any]
    today: date
    now: datetime | None = None  # what now() reads (kept by once(), as in a real response)
    mode: Mode = "web"

    def state(self, answers: dict[str, Any] | None = None) -> State:
        return self.flow.state(
            self.answers if answers is None else answers,
            sample={},
            today=self.today,
            now=self.now,
        )

    def validate(self, page: Page, form: MultiDict[str, str], mode: Mode) -> PageResult:
        return self.flow.validate_page(
            page, form, self.answers, mode=mode, sample={}, today=self.today, now=self.now
        )

    def save(self, answers: dict[str, Any], *, revision: int, last_page: str | None) -> None:
        self.answers = answers

    def submit(self, *, revision: int) -> bool:
        return self.flow.is_complete(self.state(), self.mode)


def send_page(
    flow: Flow,
    preview: PreviewState,
    page: Page,
    post: PagePost,
    today: date,
    now: datetime | None = None,
) -> PageOutcome:
    """Check the sent page as the real form does (the same decision) and keep its answers
    in ``preview``: those stored, or on an invalid page those given."""
    answers = PreviewAnswers(flow, preview.answers, today, now, preview.mode)
    outcome = decide(answers, answers, page, post, mode=preview.mode, name="preview")
    if outcome.step is Step.INVALID and outcome.state is not None:
        preview.answers = dict(outcome.state.answers)
    else:
        preview.answers = answers.answers
    return outcome


def preview_files(
    flow: Flow,
    page: Page,
    preview: PreviewState,
    fields: MultiDict[str, str],
    files: Mapping[str, Any],
    today: date,
) -> MultiDict[str, str]:
    """The page's fields with its file questions set as the real form sets them, but
    nothing is kept: a file chosen stands in by its name and size only (a preview stores
    no file and never shows one back)."""
    fields = without_typed_files(fields)
    state = flow.state(preview.answers, sample={}, today=today)
    for name, current in flow.file_fields(page, state).items():
        sent = fields.getlist(name)
        chosen = files.get(name)
        if chosen is not None and getattr(chosen, "filename", None):
            size = len(chosen.read())
            stand_in = StoredFile("", safe_name(chosen.filename, ""), size, "")
            fields.setlist(name, [file_field(stand_in)])
        elif REMOVE_FILE_FIELD_VALUE in sent:
            fields.setlist(name, [])
        elif missing := [v for v in sent if v in FIELD_VALUES]:
            fields.setlist(name, missing)
        else:
            fields.setlist(name, [file_field(current)] if current is not None else [])
    return fields
