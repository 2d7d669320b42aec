"""Preview of a loaded definition version, in web or phone mode, for authors and analysts."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.domain.dates import local_date
from app.domain.questionnaire.flow import Mode
from app.domain.questionnaire.pages import Page
from app.interview.pages import (
    LIST_ACTIONS,
    PageBuilder,
    expression_values,
    read_page_post,
    summary,
)
from app.interview.submit import Step
from app.models.surveys import SurveyVersion, flow_of, version_numbered
from app.models.users import Role
from app.platform.extensions import db_session, now
from app.platform.security import NO_INSTITUTIONS, roles
from app.respond.preview import MODES, BadPreviewState, PreviewState, preview_files, send_page

bp = Blueprint("preview", __name__, url_prefix="/surveys")

ACTIONS = ("next", "back", "submit", *LIST_ACTIONS)


def _version_or_404(survey_id: int, number: int) -> SurveyVersion:
    version = version_numbered(db_session(), survey_id, number)
    if version is None:
        abort(404)
    return version


def _mode_or_404(mode: str) -> Mode:
    if mode not in MODES:
        abort(404)
    return mode


@bp.route("/<int:survey_id>/versions/<int:number>/preview/<mode>")
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def show(survey_id: int, number: int, mode: str):
    version = _version_or_404(survey_id, number)
    checked = _mode_or_404(mode)
    flow = flow_of(version)
    preview = PreviewState(version.id, checked, {})
    state = flow.state({}, sample={}, today=local_date(now()))
    first = flow.next_page(state, checked, None)
    if first is None:
        abort(404)
    return _render(version, flow, preview, first, flow.form_values(first, state), {})


@bp.route("/<int:survey_id>/versions/<int:number>/preview/<mode>", methods=["POST"])
@roles(Role.ANALYST, scope=NO_INSTITUTIONS)
def send(survey_id: int, number: int, mode: str):
    version = _version_or_404(survey_id, number)
    checked = _mode_or_404(mode)
    flow = flow_of(version)
    form = request.form.copy()
    secret = current_app.config["SECRET_KEY"]
    try:
        preview = PreviewState.read(form.pop("preview", ""), flow, secret, version.id, checked)
        page = flow.page(checked, form.pop("page", ""))
    except (BadPreviewState, KeyError):
        return _restart(version, checked)
    post = read_page_post(form, ACTIONS)
    if post is None:
        return _restart(version, checked)
    moment = now()
    today = local_date(moment)
    if page.takes_files:
        fields = preview_files(flow, page, preview, post.fields, request.files, today)
        post = replace(post, fields=fields)
    outcome = send_page(flow, preview, page, post, today, moment)
    state = flow.state(preview.answers, sample={}, today=today, now=moment)
    if outcome.step is Step.DONE:
        language = _language(flow)
        return render_template(
            "respond/preview_done.html",
            version=version,
            mode=checked,
            title=flow.questionnaire.settings.title.get(language),
            rows=summary(flow, state, language, _),
        )
    if outcome.step is Step.INVALID:
        values = post.fields.to_dict(flat=False)
        notice = outcome.notice.render(_) if outcome.notice else None
        return _render(
            version, flow, preview, outcome.page, values, outcome.errors, 400, notice=notice
        )
    confirm = outcome.target if outcome.step is Step.CONFIRM else None
    values = flow.form_values(outcome.page, state)
    return _render(version, flow, preview, outcome.page, values, {}, confirm_remove=confirm)


def _restart(version: SurveyVersion, mode: str):
    """A forged or stale preview page: say so and offer to start again."""
    restart = url_for("preview.show", survey_id=version.survey_id, number=version.number, mode=mode)
    return render_template("respond/preview_stale.html", restart=restart), 400


def _language(flow) -> str:
    settings = flow.questionnaire.settings
    chosen = str(get_locale() or "")
    return chosen if chosen in settings.languages else settings.default_language


def _render(
    version,
    flow,
    preview: PreviewState,
    page: Page,
    values,
    errors,
    status=200,
    *,
    notice=None,
    confirm_remove=None,
):
    mode = preview.mode
    language = _language(flow)
    state = flow.state(preview.answers, sample={}, today=local_date(now()))
    builder = PageBuilder(
        flow,
        state,
        language=language,
        mode=mode,
        gettext=_,
        values=values,
        errors=errors,
        confirm_remove=confirm_remove,
    )
    pages = [p for p in flow.pages(mode) if flow.is_shown(p, state, mode)]
    position = next((i for i, p in enumerate(pages) if p.id == page.id), 0)
    return (
        render_template(
            "respond/preview.html",
            version=version,
            mode=mode,
            page=page,
            items=builder.page(page),
            group_label=builder.text(page.group.label) if page.group else "",
            title=flow.questionnaire.settings.title.get(language),
            position=position + 1,
            total=len(pages),
            is_first=flow.previous_page(state, mode, page.id) is None,
            is_last=flow.next_page(state, mode, page.id) is None,
            error_count=len(errors),
            notice=notice,
            preview_state=preview.sign(flow, current_app.config["SECRET_KEY"]),
            known_answers=expression_values(flow, state),
        ),
        status,
    )
