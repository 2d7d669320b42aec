"""The one decision taken when a questionnaire page is posted, on the web or by phone.

read (the route) → validate → merge → save → stale form → navigate → submit: the route
passes the posted page in and turns the ``PageOutcome`` it gets back into its own HTTP
answer (a page, a redirect, a message). Nothing here knows the route or the mode's URLs.
``post_page`` stores the answers in the response (web and phone); the preview passes its
own store to ``decide``, which keeps nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import StoredFile, answers_to_json
from app.domain.questionnaire.fields import InvalidValue, file_field, parse_file_field
from app.domain.questionnaire.flow import (
    ErrorText,
    Flow,
    InvalidInstance,
    Mode,
    PageResult,
    State,
)
from app.domain.questionnaire.pages import Page
from app.interview.pages import LIST_ACTIONS, PagePost
from app.interview.service import Interview, StaleForm, save_page, submit
from app.interview.uploads import receive_files, settle_files
from app.platform.extensions import after_commit
from app.platform.uploads import file_store, upload_limit

log = logging.getLogger(__name__)

FORWARD = ("next", "submit")  # store the page as answered and go on (checked first)
BACK = "back"  # store what is valid and go to the previous page
LEAVE = ("later", "breakoff")  # store what is valid and stop for now (web, phone)
# A list's buttons (``post.target`` names the list or instance): store what is valid,
# then add an instance / ask whether to remove one / remove it / keep it after all, and
# show the page again.
ADD, REMOVE, CONFIRM_REMOVE, KEEP = LIST_ACTIONS
# The interviewer's roster (app.domain.questionnaire.roster): store the page as answered,
# like "next", but stay on it (the next instance of its list is shown).
STAY = "stay"
ACTIONS = (*FORWARD, STAY, BACK, *LEAVE, *LIST_ACTIONS)

NO_SUCH_LIST = Message(N_("There is no such list on this page."))
NO_SUCH_ENTRY = Message(N_("There is no such entry in this list."))


class Step(enum.Enum):
    """What happened to a posted page."""

    NEXT = "next"  # saved; show ``page``, the next one
    BACK = "back"  # saved; show ``page``, the previous one (or the same at the start)
    SAVED = "saved"  # saved; the respondent or interviewer stops here for now
    DONE = "done"  # saved and submitted: the response is complete
    INVALID = "invalid"  # nothing saved: show the page again with ``errors`` and ``fields``
    STALE = "stale"  # nothing saved: someone saved the response after this form was shown
    INCOMPLETE = "incomplete"  # saved, but required answers are missing: show ``page``
    CHANGED = "changed"  # saved (an instance added, removed or kept): show ``page`` again
    CONFIRM = "confirm"  # saved; ask whether to remove the instance ``target``
    STAY = "stay"  # saved as answered; show ``page`` again (the roster's next instance)


@dataclass(frozen=True)
class PageOutcome:
    """A posted page's outcome: the step, the page to show or go to, and what the route
    needs to show it (the state after the post, its errors, the fields as posted)."""

    step: Step
    page: Page
    state: State | None = None  # None when STALE (the stored answers must be read again)
    errors: Mapping[str, ErrorText] = field(default_factory=dict)
    fields: MultiDict[str, str] = field(default_factory=MultiDict)
    # CHANGED: the instance to move to ("partnerzy.3": the one added or kept) or the list
    # whose instance was removed ("partnerzy"); CONFIRM: the instance a removal is asked about
    target: str = ""
    notice: Message | None = None  # INVALID: what is wrong with a list's button or count

    @property
    def current(self) -> State:
        """The state after the post (every step but STALE has one)."""
        if self.state is None:
            raise LookupError("a stale page has no state: read the stored answers again")
        return self.state


class Answering(Protocol):
    """What the decision reads: the flow and the answers so far (an ``Interview``, or a
    preview's answers that travel with the page)."""

    @property
    def flow(self) -> Flow: ...

    @property
    def answers(self) -> dict[str, Any]: ...

    def state(self, answers: dict[str, Any] | None = None) -> State: ...

    def validate(self, page: Page, form: MultiDict[str, str], mode: Mode) -> PageResult: ...


class AnswerStore(Protocol):
    """Where a posted page's answers go: the response in the database, or nowhere (a
    preview). Both raise ``StaleForm`` when the form was shown before someone else saved."""

    def save(self, answers: dict[str, Any], *, revision: int, last_page: str | None) -> None: ...

    def submit(self, *, revision: int) -> bool: ...


@dataclass
class _StoredResponse:
    """The AnswerStore of a real interview: its response, saved by app.interview.service."""

    session: Session
    interview: Interview
    mode: Mode
    language: str
    now: datetime
    user_id: int | None

    def save(self, answers: dict[str, Any], *, revision: int, last_page: str | None) -> None:
        save_page(
            self.session,
            self.interview,
            answers,
            expected_revision=revision,
            last_page=last_page,
            now=self.now,
            mode=self.mode,
            user_id=self.user_id,
            language=self.language,
        )

    def submit(self, *, revision: int) -> bool:
        return submit(
            self.session, self.interview, expected_revision=revision, now=self.now, mode=self.mode
        )


def post_page(
    session: Session,
    interview: Interview,
    page: Page,
    post: PagePost,
    *,
    mode: Mode,
    language: str,
    now: datetime,
    user_id: int | None = None,
    files: Mapping[str, Any] | None = None,
) -> PageOutcome:
    """A page posted on the web form or the phone screens: ``decide`` with the response as
    the store. ``user_id``: the interviewer (None: the respondent). ``files``: the files
    sent with a web page (by phone no file is collected), checked and kept first
    (app.interview.uploads)."""
    store = _StoredResponse(session, interview, mode, language, now, user_id)
    name = f"response {interview.response.id}"
    if mode != "web" or not page.takes_files:
        return decide(interview, store, page, post, mode=mode, name=name)
    state = interview.state()
    uploads = file_store()
    received = receive_files(
        interview.flow, page, state, post.fields, files or {}, uploads, upload_limit()
    )
    before = interview.answers
    post = replace(post, fields=received.fields, upload_errors=received.errors)
    outcome = decide(interview, store, page, post, mode=mode, name=name)
    saved = interview.answers is not before  # (save_page sets the answers it stored)
    q = interview.questionnaire
    settle_files(
        uploads,
        answers_to_json(q, before),
        answers_to_json(q, interview.answers),
        received.new_keys,
        saved,
        after_commit,
    )
    if saved or not received.new_keys:
        return outcome
    return _without_unsaved_files(outcome, received.new_keys, state)


NOT_KEPT = N_("The file %(name)s was not kept: the page has other errors. Choose it again.")


def _without_unsaved_files(outcome: PageOutcome, new_keys: list[str], state: State) -> PageOutcome:
    """A page shown again unsaved: the files just sent (dropped) are not shown as sent;
    each such question says to choose its file again."""
    fields = outcome.fields.copy()
    errors = dict(outcome.errors)
    for name in list(fields.keys()):
        values = fields.getlist(name)
        if len(values) != 1:
            continue
        try:
            sent = parse_file_field(values[0])
        except InvalidValue:
            continue
        if sent.key not in new_keys:
            continue
        current = _stored_at(state.answers, name)
        fields.setlist(name, [file_field(current)] if isinstance(current, StoredFile) else [])
        errors.setdefault(name, Message(NOT_KEPT, {"name": sent.name}))
    return replace(outcome, fields=fields, errors=errors)


def _stored_at(answers: Mapping[str, Any], name: str) -> Any:
    """The stored answer at a field name ("photo", "R.2.photo"), None when there is none."""
    parts = name.split(".")
    current: Any = answers
    while len(parts) > 1:
        instances = current.get(parts[0]) if isinstance(current, Mapping) else None
        number = int(parts[1]) if parts[1].isdigit() else 0
        if not isinstance(instances, tuple) or not 1 <= number <= len(instances):
            return None
        current, parts = instances[number - 1], parts[2:]
    return current.get(parts[0]) if isinstance(current, Mapping) and parts else None


def decide(
    interview: Answering,
    store: AnswerStore,
    page: Page,
    post: PagePost,
    *,
    mode: Mode,
    name: str,
) -> PageOutcome:
    """Validate the posted ``page``, store its answers and decide where to go.

    A page whose lists were forged (a count the list cannot hold, a field of an instance
    that is not there) stores nothing (INVALID with a ``notice``), whatever was pressed.
    A forward action ("next", "submit", and the roster's "stay", which stores the page as
    answered and shows it again: STAY) with an invalid answer stores nothing (INVALID);
    "back" and the leaving actions ("later", "breakoff") store what is valid. "submit", or
    "next" on the last page, submits (DONE, or INCOMPLETE when required answers are still
    missing). A list's button stores what is valid, then adds an instance or removes
    one (CHANGED), or asks first whether to remove it (CONFIRM; "keep" answers no); a
    path that names no instance of a list on this page stores nothing (INVALID with the
    ``notice``). ``name`` says whose answers these are in the log ("response 12").
    """
    if post.action not in ACTIONS:
        raise ValueError(f"unknown page action {post.action!r}")
    forward = post.action in FORWARD or post.action == STAY
    result = interview.validate(page, post.fields, mode)
    result.errors.update(post.upload_errors)  # a refused file: its answer stays as it was
    if result.unknown_fields:
        log.warning(
            "%s page %s: fields not on the page ignored: %s",
            name,
            page.id,
            ", ".join(sorted(result.unknown_fields))[:500],
        )
    merged = result.apply(interview.answers)
    refused = refused_lists(page, result, post.fields)
    if refused is not None:
        errors, notice = refused
        state = interview.state(merged)
        return PageOutcome(Step.INVALID, page, state, errors, post.fields, notice=notice)
    if post.action in LIST_ACTIONS:
        return _change_list(interview, store, page, post, result, merged)
    if forward and not result.ok:
        return PageOutcome(Step.INVALID, page, interview.state(merged), result.errors, post.fields)
    try:
        store.save(merged, revision=post.revision, last_page=page.id if forward else None)
    except StaleForm:
        return PageOutcome(Step.STALE, page, None, {}, post.fields)
    flow = interview.flow
    state = interview.state()
    if post.action == STAY:
        return PageOutcome(Step.STAY, page, state)
    if post.action == BACK:
        target = flow.previous_page(state, mode, page.id) or page
        return PageOutcome(Step.BACK, target, state)
    if post.action in LEAVE:
        return PageOutcome(Step.SAVED, page, state, result.errors, post.fields)
    following = flow.next_page(state, mode, page.id)
    if following is not None and post.action == "next":
        return PageOutcome(Step.NEXT, following, state)
    try:
        complete = store.submit(revision=post.revision + 1)
    except StaleForm:  # saved from elsewhere between this save and the submit
        return PageOutcome(Step.STALE, page, None, {}, post.fields)
    if complete:
        return PageOutcome(Step.DONE, page, state)
    return PageOutcome(Step.INCOMPLETE, flow.resume_page(state, mode, None) or page, state)


def focus_anchor(outcome: PageOutcome) -> str:
    """Where a page shown again after a list's button puts the reader (the id of an
    element): the instance added or kept, or the list an instance was removed from."""
    parts = outcome.target.split(".")
    return f"instance-{outcome.target}" if len(parts) % 2 == 0 else f"t-{outcome.target}"


def refused_lists(
    page: Page, result: PageResult, fields: MultiDict[str, str]
) -> tuple[dict[str, ErrorText], Message | None] | None:
    """What to say about a page whose lists were forged (errors, notice), None when they
    were not: a count a list cannot hold (its error), or a field of an instance the list
    does not have (the notice). Used by ``decide`` and by staff edits."""
    repeats = {each.name: each for item in page.repeats for each in item.walk() if each.is_repeat}
    counts: dict[str, ErrorText] = {}
    for name, problem in result.errors.items():
        repeat = repeats.get(name.rsplit(".", 1)[-1])
        if repeat is None:
            continue
        sent = [value.strip() for value in fields.getlist(name)]
        if sent and not (
            len(sent) == 1 and sent[0].isdigit() and int(sent[0]) <= repeat.max_instances
        ):
            counts[name] = problem
    lists = {item.name for item in page.repeats}
    strays = [name for name in result.unknown_fields if name.split(".", 1)[0] in lists]
    if not counts and not strays:
        return None
    return counts, NO_SUCH_ENTRY if strays else None


def _change_list(
    interview: Answering,
    store: AnswerStore,
    page: Page,
    post: PagePost,
    result: PageResult,
    merged: dict[str, Any],
) -> PageOutcome:
    """A list's button: what is valid on the page is kept, then the instance is added,
    removed, or its removal asked about; the same page is shown again."""
    flow = interview.flow
    # A typed answer that cannot be kept is shown again before anything else happens.
    lists = {each.name for item in page.repeats for each in item.walk() if each.is_repeat}
    typed = {
        name: problem
        for name, problem in result.errors.items()
        if name.rsplit(".", 1)[-1] not in lists
        and any(value.strip() for value in post.fields.getlist(name))
    }
    if typed:
        return PageOutcome(Step.INVALID, page, interview.state(merged), typed, post.fields)
    try:
        changed = _changed_answers(flow, page, interview.state(merged), merged, post)
    except InvalidInstance as invalid:
        state = interview.state(merged)
        return PageOutcome(Step.INVALID, page, state, {}, post.fields, notice=invalid.message)
    try:
        store.save(changed, revision=post.revision, last_page=None)
    except StaleForm:
        return PageOutcome(Step.STALE, page, None, {}, post.fields)
    state = interview.state()
    if post.action == REMOVE:
        return PageOutcome(Step.CONFIRM, page, state, target=post.target)
    if post.action == ADD:
        count = _instance_count(state, post.target)
        return PageOutcome(Step.CHANGED, page, state, target=f"{post.target}.{count}")
    if post.action == KEEP:
        return PageOutcome(Step.CHANGED, page, state, target=post.target)
    return PageOutcome(Step.CHANGED, page, state, target=post.target.rsplit(".", 1)[0])


def _changed_answers(
    flow: Flow, page: Page, state: State, merged: dict[str, Any], post: PagePost
) -> dict[str, Any]:
    """``merged`` after the list's button (unchanged for "remove", which only asks, and
    "keep"); raises
    ``InvalidInstance`` for a path that names no open list or instance on this page."""
    path = post.target
    parts = path.split(".")
    if parts[0] not in {item.name for item in page.repeats}:
        raise InvalidInstance(NO_SUCH_LIST)
    _check_shown(state, parts)
    if post.action == ADD:
        if len(parts) % 2 == 0:  # "R" or "R.1.S": a list, not an instance
            raise InvalidInstance(NO_SUCH_LIST)
        return flow.add_instance(merged, path)
    if len(parts) % 2:
        raise InvalidInstance(NO_SUCH_ENTRY)
    removed = flow.remove_instance(merged, path)  # (refused as it would be when confirmed)
    return removed if post.action == CONFIRM_REMOVE else merged


def _check_shown(state: State, parts: list[str]) -> None:
    """Raise ``InvalidInstance`` unless every list on the path is relevant and every
    instance on it counts now (checked against the instances shown, not only stored)."""
    current = state
    while parts:
        name = parts[0]
        try:
            relevant = current.is_relevant(name)
        except KeyError:
            relevant = False
        if not relevant:
            raise InvalidInstance(NO_SUCH_LIST)
        if len(parts) == 1:
            return
        number, parts = parts[1], parts[2:]
        instances = current.instances(name)
        if not number.isdigit() or not 1 <= int(number) <= len(instances):
            raise InvalidInstance(NO_SUCH_ENTRY)
        current = instances[int(number) - 1]


def _instance_count(state: State, path: str) -> int:
    """How many instances the list at ``path`` ("R", "R.1.S") has in ``state``."""
    parts = path.split(".")
    current = state
    while len(parts) > 1:
        current = current.instances(parts[0])[int(parts[1]) - 1]
        parts = parts[2:]
    return len(current.instances(parts[0]))
