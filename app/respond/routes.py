"""The respondent's form, opened from a personal link without an account."""

from __future__ import annotations

from typing import Final

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from app.domain.questionnaire.fields import InvalidValue, parse_file_field
from app.domain.questionnaire.flow import State
from app.domain.questionnaire.model import Settings
from app.domain.questionnaire.pages import Page
from app.interview.pages import (
    LIST_ACTIONS,
    PageBuilder,
    expression_values,
    field_label,
    live_calculations_json,
    problem_text,
    progress_percent,
    read_page_post,
    summary,
)
from app.interview.service import Interview, NotAccepting
from app.interview.submit import Step, focus_anchor, post_page
from app.models.fieldwork import FieldworkState
from app.models.surveys import questionnaire_of
from app.platform.extensions import db_session, now
from app.platform.i18n import SURVEY_LANGUAGE_KEY, language_name
from app.platform.security import public
from app.platform.uploads import upload_limit
from app.respond import services
from app.respond.services import Link

bp = Blueprint("respond", __name__)

MODE: Final = "web"
ACTIONS: Final = ("next", "back", "later", "submit", *LIST_ACTIONS)


@bp.after_request
def private_pages(response: Response) -> Response:
    # The URL holds the personal token: never send it on as a referrer, never cache the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_or_404(token: str) -> Link:
    link = services.resolve(db_session(), token)
    if link is None:
        abort(404, description="link")
    return link


def _language(settings: Settings) -> str:
    """The questionnaire language to show: the chosen one if the definition has it.

    Chosen is a questionnaire language picked on a respondent page (which may be one the
    application itself is not translated into), else the application's language.
    """
    for chosen in (session.get(SURVEY_LANGUAGE_KEY), str(get_locale() or "")):
        if chosen in settings.languages:
            return chosen
    return settings.default_language


def _languages(settings: Settings) -> dict:
    """The header's language choice on a respondent page: the application's languages and
    then the questionnaire's own, the one shown selected (template context)."""
    codes = [*current_app.config["LANGUAGES"], *settings.languages]
    return {
        "languages": [(code, language_name(code)) for code in dict.fromkeys(codes)],
        "current_language": _language(settings),
    }


def _accepting(link: Link) -> bool:
    try:
        services.check_accepting(link.fieldwork, link.response)
    except NotAccepting as exc:
        return exc.reason == "complete"  # (the page sends a complete response on to /done)
    return True


@bp.route("/r/<token>")
@public
def start(token: str):
    link = _link_or_404(token)
    if link.response is not None and link.response.is_complete:
        return redirect(url_for("respond.done", token=token))
    settings = services.questionnaire_of_link(db_session(), link).settings
    return render_template(
        "respond/start.html",
        link=link,
        title=settings.title.get(_language(settings)),
        accepting=_accepting(link),
        **_languages(settings),
    )


@bp.route("/r/<token>/start", methods=["POST"])
@public
def begin(token: str):
    link = _link_or_404(token)
    try:
        services.check_accepting(link.fieldwork, link.response)
    except NotAccepting:
        return redirect(url_for("respond.start", token=token))
    interview = services.start_interview(db_session(), link, now())
    page = interview.flow.resume_page(interview.state(), MODE, interview.response.last_page)
    if page is None:
        page = interview.flow.pages(MODE)[-1]
    return redirect(url_for("respond.page", token=token, page_id=page.id))


def _interview(link: Link) -> Interview | None:
    return services.interview_of(db_session(), link, now())


def _find_page(interview: Interview, page_id: str) -> Page:
    try:
        return interview.flow.page(MODE, page_id)
    except KeyError:
        abort(404)


@bp.route("/r/<token>/p/<page_id>", methods=["GET"])
@public
def page(token: str, page_id: str):
    link = _link_or_404(token)
    interview = _interview(link)
    if interview is None:
        return redirect(url_for("respond.start", token=token))
    if interview.response.is_complete:
        return redirect(url_for("respond.done", token=token))
    shown = _find_page(interview, page_id)
    state = interview.state()
    if not interview.flow.is_shown(shown, state, MODE):
        target = interview.flow.next_page(state, MODE, shown.id)
        if target is None:
            target = interview.flow.previous_page(state, MODE, shown.id)
        if target is None:
            abort(404)
        return redirect(url_for("respond.page", token=token, page_id=target.id))
    values = interview.flow.form_values(shown, state)
    confirm = request.args.get("remove")  # a removal to confirm (the page without script)
    return _render_page(link, interview, shown, state, values, {}, confirm_remove=confirm)


def _render_page(
    link,
    interview,
    shown,
    state: State,
    values,
    errors,
    *,
    status=200,
    notice=None,
    confirm_remove=None,
):
    language = _language(interview.questionnaire.settings)
    flow = interview.flow
    builder = PageBuilder(
        flow,
        state,
        language=language,
        mode=MODE,
        gettext=_,
        values=values,
        errors=errors,
        confirm_remove=confirm_remove,
        upload_limit=upload_limit(),
    )
    is_last = flow.next_page(state, MODE, shown.id) is None
    return (
        render_template(
            "respond/page.html",
            link=link,
            interview=interview,
            page=shown,
            items=builder.page(shown),
            group_label=builder.text(shown.group.label) if shown.group else "",
            title=interview.questionnaire.settings.title.get(language),
            percent=progress_percent(flow, MODE, shown),
            is_first=flow.previous_page(state, MODE, shown.id) is None,
            is_last=is_last,
            has_lists=bool(shown.repeats),
            revision=interview.response.revision,
            error_count=len(errors),
            notice=notice,
            known_answers=expression_values(flow, state),
            calculations=live_calculations_json(flow),
            sample=interview.sample,
            **_languages(interview.questionnaire.settings),
        ),
        status,
    )


@bp.route("/r/<token>/p/<page_id>", methods=["POST"])
@public
def submit_page(token: str, page_id: str):
    link = _link_or_404(token)
    interview = _interview(link)
    if interview is None:
        return redirect(url_for("respond.start", token=token))
    try:
        services.check_accepting(link.fieldwork, link.response)
    except NotAccepting as exc:
        if exc.reason == "complete":
            flash(_("This questionnaire has already been sent; it cannot be changed."), "info")
            return redirect(url_for("respond.done", token=token))
        return redirect(url_for("respond.start", token=token))
    shown = _find_page(interview, page_id)
    post = read_page_post(request.form, ACTIONS)
    if post is None:
        abort(400)
    outcome = post_page(
        db_session(),
        interview,
        shown,
        post,
        mode=MODE,
        language=_language(interview.questionnaire.settings),
        now=now(),
        files=request.files,
    )
    if outcome.step is Step.INVALID:
        values = outcome.fields.to_dict(flat=False)
        notice = outcome.notice.render(_) if outcome.notice else None
        return _render_page(
            link, interview, shown, outcome.current, values, outcome.errors, notice=notice
        )
    if outcome.step is Step.CHANGED:
        return redirect(
            url_for("respond.page", token=token, page_id=shown.id, _anchor=focus_anchor(outcome))
        )
    if outcome.step is Step.CONFIRM:
        return redirect(
            url_for(
                "respond.page",
                token=token,
                page_id=shown.id,
                remove=outcome.target,
                _anchor="confirm-remove",
            )
        )
    if outcome.step is Step.STALE:
        return _stale(token, shown)
    if outcome.step is Step.SAVED:
        return render_template(
            "respond/saved.html",
            link=link,
            token=token,
            page_id=shown.id,
            not_saved=_not_saved(interview, outcome.current, outcome.errors, outcome.fields),
        )
    if outcome.step is Step.DONE:
        return redirect(url_for("respond.done", token=token))
    if outcome.step is Step.INCOMPLETE:
        flash(_("Some required answers are still missing. Please complete this page."), "error")
    return redirect(url_for("respond.page", token=token, page_id=outcome.page.id))


def _not_saved(interview: Interview, state: State, errors, fields) -> list[tuple[str, str, str]]:
    """The answers typed on a page that "save and finish later" could not keep (a value
    the question does not accept): question, what was typed, why. Said on the saved page,
    so that nothing disappears silently."""
    language = _language(interview.questionnaire.settings)
    flow = interview.flow
    rows = []
    for name, problem in errors.items():
        typed = ", ".join(_typed(v) for v in fields.getlist(name) if v.strip())
        if not typed:
            continue  # an empty required answer is simply not given yet
        label = field_label(flow, state, name, language, _)
        rows.append((label, typed, problem_text(problem, language, _) or ""))
    return rows


def _typed(value: str) -> str:
    """A field's value as the respondent gave it (a file: its name)."""
    try:
        return parse_file_field(value).name
    except InvalidValue:
        return value.strip()


def _stale(token: str, shown: Page):
    """The form was older than what is stored: show what is stored and say so."""
    fresh = services.resolve(db_session(), token)  # (read again: what is stored now)
    interview = services.interview_of(db_session(), fresh, now()) if fresh else None
    if fresh is None or interview is None:
        abort(404)
    if interview.response.is_complete:
        flash(_("This questionnaire has already been sent; it cannot be changed."), "info")
        return redirect(url_for("respond.done", token=token))
    state = interview.state()
    values = interview.flow.form_values(shown, state)
    notice = _(
        "These answers were changed in another window or on another device after this page "
        "was opened. Below are the answers saved most recently; your last changes on this page "
        "were not saved. Check them and continue."
    )
    return _render_page(fresh, interview, shown, state, values, {}, status=409, notice=notice)


@bp.route("/r/<token>/done")
@public
def done(token: str):
    link = _link_or_404(token)
    interview = _interview(link)
    if interview is None or not interview.response.is_complete:
        return redirect(url_for("respond.start", token=token))
    language = _language(interview.questionnaire.settings)
    return render_template(
        "respond/done.html",
        link=link,
        title=interview.questionnaire.settings.title.get(language),
        rows=summary(interview.flow, interview.state(), language, _),
        **_languages(interview.questionnaire.settings),
    )


@bp.route("/o/<token>")
@public
def open_start(token: str):
    fieldwork = services.open_survey(db_session(), token)
    if fieldwork is None:
        abort(404, description="link")
    settings = questionnaire_of(fieldwork.survey_version).settings
    return render_template(
        "respond/start.html",
        link=None,
        open_fieldwork=fieldwork,
        token=token,
        title=settings.title.get(_language(settings)),
        accepting=fieldwork.is_open,
        **_languages(settings),
    )


@bp.route("/o/<token>", methods=["POST"])
@public
def open_begin(token: str):
    fieldwork = services.open_survey(db_session(), token)
    if fieldwork is None:
        abort(404, description="link")
    if not fieldwork.is_open:
        return redirect(url_for("respond.open_start", token=token))
    response = services.start_open_response(db_session(), fieldwork, now())
    return redirect(url_for("respond.begin_resume", token=response.open_token))


@bp.route("/r/<token>/resume")
@public
def begin_resume(token: str):
    """Continue where the respondent stopped (the page after the last one saved)."""
    link = _link_or_404(token)
    interview = _interview(link)
    if interview is None:
        return redirect(url_for("respond.start", token=token))
    if interview.response.is_complete:
        return redirect(url_for("respond.done", token=token))
    flow = interview.flow
    target = flow.resume_page(interview.state(), MODE, interview.response.last_page)
    target = target or flow.pages(MODE)[-1]
    return redirect(url_for("respond.page", token=token, page_id=target.id))


@bp.route("/t/<token>")
@public
def test_start(token: str):
    """The test link: try the real form; what is answered is marked as a test."""
    fieldwork = services.tested_fieldwork(db_session(), token)
    if fieldwork is None:
        abort(404, description="link")
    settings = questionnaire_of(fieldwork.survey_version).settings
    return render_template(
        "respond/test_start.html",
        fieldwork=fieldwork,
        token=token,
        title=settings.title.get(_language(settings)),
        accepting=fieldwork.state != FieldworkState.CLOSED,
        **_languages(settings),
    )


@bp.route("/t/<token>", methods=["POST"])
@public
def test_begin(token: str):
    fieldwork = services.tested_fieldwork(db_session(), token)
    if fieldwork is None:
        abort(404, description="link")
    if fieldwork.state == FieldworkState.CLOSED:
        return redirect(url_for("respond.test_start", token=token))
    response = services.start_test_response(db_session(), fieldwork, now())
    return redirect(url_for("respond.begin_resume", token=response.open_token))
