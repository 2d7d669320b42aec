"""Preview: walk a loaded definition version's real form (web or phone) without storing anything.

The answers given so far travel with the page as a signed hidden field, so a preview needs
no fieldwork, no response and no database row; a forged or stale field is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from app.domain.questionnaire.answers import answers_from_json, answers_to_json
from app.domain.questionnaire.flow import Flow, Mode, PageResult
from app.domain.questionnaire.pages import Page

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
class PreviewStep:
    """Where a preview goes after a page was sent."""

    page: Page | None  # the page to show (None: the end was reached with everything answered)
    result: PageResult | None  # the sent page's check (errors are shown on the same page)
    answers: dict[str, Any]


def step(
    flow: Flow,
    preview: PreviewState,
    page: Page,
    form: Any,
    action: str,
    today: date,
) -> PreviewStep:
    """Check the sent page as the real form does and work out the page to show next."""
    mode = preview.mode
    result = flow.validate_page(page, form, preview.answers, mode=mode, sample={}, today=today)
    merged = result.apply(preview.answers)
    state = flow.state(merged, sample={}, today=today)
    if action == "back":
        return PreviewStep(flow.previous_page(state, mode, page.id) or page, None, merged)
    if not result.ok:
        return PreviewStep(page, result, merged)
    following = flow.next_page(state, mode, page.id)
    if following is not None:
        return PreviewStep(following, None, merged)
    if flow.is_complete(state):
        return PreviewStep(None, None, merged)
    return PreviewStep(flow.resume_page(state, mode, None) or page, None, merged)
