"""The interviewer's screens: the next case, the case, the call outcome, the phone interview."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final, cast, overload

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.cati import services
from app.cati.forms import DATE_PATTERN, DialForm, NotesForm, OutcomeForm, PhoneForm
from app.domain.dates import WARSAW, format_local
from app.domain.fieldwork.outcomes import COMPLETED_ONLINE_CODE, OutcomeKind
from app.domain.questionnaire.pages import Page
from app.models.cati import Appointment, Call, Case, Outcome
from app.models.fieldwork import ContactPhone, Fieldwork, Response
from app.models.users import Role
from app.platform.extensions import db_session, now, writes_on_get
from app.platform.security import roles
from app.respond import services as respond
from app.respond.services import Interview, Link, StaleForm
from app.respond.views import (
    PageBuilder,
    expression_values,
    live_calculations,
    progress_percent,
    read_page_post,
)

bp = Blueprint("cati", __name__, url_prefix="/cati")

MODE: Final = "phone"
CALLERS = (Role.INTERVIEWER, Role.SUPERVISOR)


def _my_case(case_id: int) -> Case:
    """The case, if this user holds its claim (supervisors and admins may open any).

    An interviewer must also still be on the fieldwork's team: one taken off it loses the
    case at once. For an interviewer, someone else's case does not exist: the same 404 as
    an id no case has, so ids cannot be walked or probed.
    """
    case = db_session().get(Case, case_id)
    if case is None or (
        current_user.role_enum is Role.INTERVIEWER
        and (
            case.claimed_by_id != current_user.id
            or not services.on_team(db_session(), case.fieldwork_id, current_user.id)
        )
    ):
        abort(404)
    return case


def _open_call(case: Case) -> Call | None:
    return db_session().scalar(
        select(Call)
        .where(Call.case_id == case.id, Call.outcome_id.is_(None))
        .order_by(Call.started_at.desc())
        .limit(1)
    )


@bp.route("/")
@roles(*CALLERS)
def index():
    session = db_session()
    fieldworks = services.callable_fieldworks(session, current_user)
    mine = session.scalars(
        select(Case).where(
            Case.claimed_by_id == current_user.id,
            Case.is_final.is_(False),
            Case.fieldwork_id.in_([f.id for f in fieldworks]),
        )
    ).all()
    return render_template(
        "cati/index.html", fieldworks=fieldworks, mine=mine, form=DialForm(), nothing=None
    )


@bp.route("/<int:fieldwork_id>/next", methods=["POST"])
@roles(*CALLERS)
def next_case(fieldwork_id: int):
    session = db_session()
    fieldwork = session.get(Fieldwork, fieldwork_id)
    if (
        fieldwork is None
        or not fieldwork.is_open
        or not services.may_call(session, fieldwork.id, current_user)
    ):
        abort(404)
    claim = services.claim_next(session, fieldwork, current_user.id, now())
    if claim.case is not None:
        return redirect(url_for("cati.case", case_id=claim.case.id))
    fieldworks = services.callable_fieldworks(session, current_user)
    return render_template(
        "cati/index.html",
        fieldworks=fieldworks,
        mine=[],
        form=DialForm(),
        nothing=claim.nothing,
        nothing_text=claim.nothing.message.render(_) if claim.nothing else "",
        nothing_fieldwork=fieldwork,
    )


@bp.route("/case/<int:case_id>")
@roles(*CALLERS)
def case(case_id: int):
    found = _my_case(case_id)
    outcome_form = OutcomeForm()
    if not outcome_form.is_submitted():
        outcome_form.outcome.data = services.break_off_outcome(
            db_session(), found, _open_call(found)
        )
    return _case_page(found, outcome_form, PhoneForm(), NotesForm(notes=found.notes))


def _outcome_choices(fieldwork: Fieldwork) -> list[tuple[str, str]]:
    english = str(get_locale()) == "en"
    return [
        (o.code, o.label_en if english else o.label_pl)
        for o in services.outcomes_of(db_session(), fieldwork)
        if o.kind != OutcomeKind.SUPERVISOR.value and o.code != COMPLETED_ONLINE_CODE
    ]


def _case_page(case: Case, outcome_form, phone_form, notes_form, status: int = 200):
    session = db_session()
    outcome_form.outcome.choices = _outcome_choices(case.fieldwork)
    calls = session.scalars(
        select(Call).where(Call.case_id == case.id).order_by(Call.started_at.desc())
    ).all()
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.case_id == case.id)
        .order_by(Appointment.starts_at.desc())
    ).all()
    response = session.scalar(
        select(Response).where(Response.sample_unit_id == case.sample_unit_id)
    )
    return (
        render_template(
            "cati/case.html",
            case=case,
            unit=case.sample_unit,
            calls=calls,
            open_call=_open_call(case),
            appointments=appointments,
            response=response,
            outcome_form=outcome_form,
            phone_form=phone_form,
            notes_form=notes_form,
            dial_form=DialForm(),
        ),
        status,
    )


@bp.route("/case/<int:case_id>/dial", methods=["POST"])
@roles(*CALLERS)
def dial(case_id: int):
    found = _my_case(case_id)
    if not DialForm().validate_on_submit():
        abort(400)
    phone = None
    phone_id = request.form.get("phone_id", "")
    if phone_id.isdigit():
        phone = db_session().get(ContactPhone, int(phone_id))
        if phone is None or phone.sample_unit_id != found.sample_unit_id:
            abort(400)
    if _open_call(found) is None:
        services.start_call(db_session(), found, current_user.id, phone, now())
    return redirect(url_for("cati.case", case_id=found.id))


def _warsaw_moment(day: str, clock: str) -> datetime:
    match = re.match(DATE_PATTERN, day)
    assert match is not None  # noqa: S101 - the form validated it
    hours, minutes = (int(part) for part in re.split(r"[:.]", clock))
    local = datetime(int(match[3]), int(match[2]), int(match[1]), tzinfo=WARSAW).replace(
        hour=hours, minute=minutes
    )
    return local.astimezone(UTC)


@bp.route("/case/<int:case_id>/outcome", methods=["POST"])
@roles(*CALLERS)
def record_outcome(case_id: int):
    found = _my_case(case_id)
    form = OutcomeForm()
    form.outcome.choices = _outcome_choices(found.fieldwork)
    if not form.validate_on_submit():
        return _case_page(found, form, PhoneForm(), NotesForm(notes=found.notes), status=400)
    session = db_session()
    outcome = session.scalar(
        select(Outcome).where(
            Outcome.fieldwork_id == found.fieldwork_id, Outcome.code == form.outcome.data
        )
    )
    if outcome is None:
        abort(400)
    appointment = None
    if outcome.kind == OutcomeKind.APPOINTMENT.value:
        try:
            appointment = _appointment_from(form)
        except _AppointmentProblem as problem:
            problem.field.errors.append(problem.message)
            return _case_page(found, form, PhoneForm(), NotesForm(notes=found.notes), status=400)
    try:
        services.check_against_response(session, found, outcome)
    except services.CatiError as exc:
        cast(list[str], form.outcome.errors).append(exc.message.render(_))
        return _case_page(found, form, PhoneForm(), NotesForm(notes=found.notes), status=400)
    call = _open_call(found) or services.start_call(session, found, current_user.id, None, now())
    try:
        services.finish_call(
            session,
            found,
            call,
            outcome,
            interviewer_id=current_user.id,
            note=form.note.data or "",
            now=now(),
            appointment=appointment,
        )
    except services.CatiError as exc:
        cast(list[str], form.note.errors).append(exc.message.render(_))
        return _case_page(found, form, PhoneForm(), NotesForm(notes=found.notes), status=400)
    flash(_("Call recorded: %(outcome)s.", outcome=_outcome_label(outcome)), "success")
    if appointment is not None and not services.calling_hours(found.fieldwork).is_open(
        appointment.starts_at
    ):
        flash(
            _(
                "Note: %(when)s is outside the calling hours (%(hours)s); the case will be"
                " handed out only when calling is allowed.",
                when=format_local(appointment.starts_at),
                hours=found.fieldwork.calling_hours,
            ),
            "warning",
        )
    return redirect(url_for("cati.index"))


def _outcome_label(outcome: Outcome) -> str:
    return outcome.label_en if str(get_locale()) == "en" else outcome.label_pl


class _AppointmentProblem(Exception):
    """What is wrong with the appointment fields, and which field to mark."""

    def __init__(self, field, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _appointment_from(form: OutcomeForm) -> services.AppointmentRequest:
    if not form.appointment_date.data:
        raise _AppointmentProblem(form.appointment_date, _("Give the appointment's date."))
    if not form.appointment_from.data:
        raise _AppointmentProblem(form.appointment_from, _("Give the appointment's start time."))
    try:
        starts = _warsaw_moment(form.appointment_date.data, form.appointment_from.data)
    except ValueError:
        raise _AppointmentProblem(
            form.appointment_date,
            _("There is no such date or time: %(when)s.", when=form.appointment_date.data),
        ) from None
    ends = None
    if form.appointment_to.data:
        try:
            ends = _warsaw_moment(form.appointment_date.data, form.appointment_to.data)
        except ValueError:
            raise _AppointmentProblem(
                form.appointment_to,
                _("There is no such time: %(time)s.", time=form.appointment_to.data),
            ) from None
        if ends <= starts:
            raise _AppointmentProblem(
                form.appointment_to,
                _(
                    "The appointment must end after it starts (%(start)s–%(end)s).",
                    start=form.appointment_from.data,
                    end=form.appointment_to.data,
                ),
            )
    return services.AppointmentRequest(
        starts_at=starts,
        ends_at=ends,
        for_me=bool(form.appointment_mine.data),
        with_whom=form.appointment_with.data or "",
    )


@bp.route("/case/<int:case_id>/phones", methods=["POST"])
@roles(*CALLERS)
def add_phone(case_id: int):
    found = _my_case(case_id)
    form = PhoneForm()
    if not form.validate_on_submit():
        return _case_page(found, OutcomeForm(), form, NotesForm(notes=found.notes), status=400)
    unit = found.sample_unit
    number = re.sub(r"[ ()./-]", "", form.number.data or "")
    position = max((p.position for p in unit.phones), default=0) + 1
    unit.phones.append(
        ContactPhone(position=position, number=number, label=(form.label.data or "").strip())
    )
    flash(_("Phone number added."), "success")
    return redirect(url_for("cati.case", case_id=found.id))


@bp.route("/case/<int:case_id>/notes", methods=["POST"])
@roles(*CALLERS)
def save_notes(case_id: int):
    found = _my_case(case_id)
    form = NotesForm()
    if not form.validate_on_submit():
        return _case_page(found, OutcomeForm(), PhoneForm(), form, status=400)
    found.notes = (form.notes.data or "").strip()
    flash(_("Notes saved."), "success")
    return redirect(url_for("cati.case", case_id=found.id))


@bp.route("/appointments")
@roles(*CALLERS)
def appointments():
    session = db_session()
    since = now() - timedelta(hours=12)
    rows = session.execute(
        select(Appointment, Case)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.status == "pending",
            Appointment.starts_at >= since,
            (Appointment.interviewer_id == current_user.id)
            | (Appointment.interviewer_id.is_(None)),
            Case.fieldwork_id.in_(
                [f.id for f in services.callable_fieldworks(session, current_user)]
            ),
        )
        .order_by(Appointment.starts_at)
        .limit(200)
    ).all()
    return render_template("cati/appointments.html", rows=rows, now=now())


# --- the interview in phone mode ------------------------------------------------------------


@overload
def _interview_for(case: Case) -> Interview: ...
@overload
def _interview_for(case: Case, *, start: bool) -> Interview | None: ...
def _interview_for(case: Case, *, start: bool = True) -> Interview | None:
    """The case's interview, started here if it has none (None then, unless ``start``)."""
    session = db_session()
    unit = case.sample_unit
    response = session.scalar(select(Response).where(Response.sample_unit_id == unit.id))
    link = Link(unit.token, case.fieldwork, unit, response)
    if response is None:
        if not start:
            return None
        response = respond.start_response(session, link, now(), mode=MODE)
    return Interview.of(response, now())


@bp.route("/case/<int:case_id>/interview")
@roles(*CALLERS)
@writes_on_get  # starts the case's response if it has none; keeps the claim alive
def interview(case_id: int):
    found = _my_case(case_id)
    if _open_call(found) is None:
        flash(_("Start the call first: press the number you are dialling."), "error")
        return redirect(url_for("cati.case", case_id=found.id))
    current = _interview_for(found)
    if current.response.is_complete:
        flash(_("This institution has already sent its answers."), "info")
        return redirect(url_for("cati.case", case_id=found.id))
    flow = current.flow
    page = flow.resume_page(current.state(), MODE, current.response.last_page)
    page = page or flow.pages(MODE)[-1]
    return redirect(url_for("cati.interview_page", case_id=found.id, page_id=page.id))


def _page_or_404(current: Interview, page_id: str) -> Page:
    try:
        return current.flow.page(MODE, page_id)
    except KeyError:
        abort(404)


@bp.route("/case/<int:case_id>/interview/<page_id>")
@roles(*CALLERS)
@writes_on_get  # keeps the claim alive (and may start the response)
def interview_page(case_id: int, page_id: str):
    found = _my_case(case_id)
    current = _interview_for(found)
    if current.response.is_complete:
        return redirect(url_for("cati.case", case_id=found.id))
    page = _page_or_404(current, page_id)
    state = current.state()
    services.touch_claim(found, now())
    return _render_interview(found, current, page, state, current.flow.form_values(page, state), {})


def _language(current: Interview) -> str:
    """The questionnaire language the interviewer reads out (recorded with the answers)."""
    settings = current.questionnaire.settings
    language = str(get_locale())
    return language if language in settings.languages else settings.default_language


def _render_interview(
    case: Case, current: Interview, page: Page, state, values, errors, status=200
):
    flow = current.flow
    language = _language(current)
    builder = PageBuilder(
        flow, state, language=language, mode=MODE, gettext=_, values=values, errors=errors
    )
    shown = [p for p in flow.pages(MODE) if flow.is_shown(p, state, MODE)]
    answered = [
        (p, builder.text(p.questions[0].label) if p.questions and p.questions[0].label else p.id)
        for p in shown
        if any(name in current.answers for item in p.questions for name in item.variable_names())
    ]
    return (
        render_template(
            "cati/interview.html",
            case=case,
            unit=case.sample_unit,
            page=page,
            items=builder.page(page),
            group_label=builder.text(page.group.label) if page.group else "",
            percent=progress_percent(flow, MODE, page),
            is_first=flow.previous_page(state, MODE, page.id) is None,
            is_last=flow.next_page(state, MODE, page.id) is None,
            revision=current.response.revision,
            answered=answered,
            error_count=len(errors),
            known_answers=expression_values(flow, state),
            calculations=live_calculations(flow),
            sample=current.sample,
        ),
        status,
    )


@bp.route("/case/<int:case_id>/interview/<page_id>", methods=["POST"])
@roles(*CALLERS)
def interview_submit(case_id: int, page_id: str):
    found = _my_case(case_id)
    current = _interview_for(found, start=False)
    if current is None:  # no page of it was ever shown: a post cannot start an interview
        return redirect(url_for("cati.interview", case_id=found.id))
    if current.response.is_complete:
        return redirect(url_for("cati.case", case_id=found.id))
    page = _page_or_404(current, page_id)
    post = read_page_post(request.form, ("next", "back", "breakoff"))
    if post is None:
        abort(400)
    action, revision, fields = post.action, post.revision, post.fields
    result = current.validate(page, fields, MODE)
    merged = result.apply(current.answers)
    if action == "next" and not result.ok:
        return _render_interview(
            found, current, page, current.state(merged), fields.to_dict(flat=False), result.errors
        )
    session = db_session()
    try:
        respond.save_page(
            session,
            current,
            merged,
            expected_revision=revision,
            last_page=page.id if action == "next" else None,
            now=now(),
            mode=MODE,
            user_id=current_user.id,
            language=_language(current),
        )
    except StaleForm:
        flash(_("These answers were changed elsewhere in the meantime; check them."), "error")
        return redirect(url_for("cati.interview_page", case_id=found.id, page_id=page.id))
    services.touch_claim(found, now())
    flow = current.flow
    state = current.state()
    if action == "breakoff":
        flash(_("Interview interrupted; the answers so far are saved. Record the outcome."), "info")
        return redirect(url_for("cati.case", case_id=found.id))
    if action == "back":
        target = flow.previous_page(state, MODE, page.id) or page
        return redirect(url_for("cati.interview_page", case_id=found.id, page_id=target.id))
    following = flow.next_page(state, MODE, page.id)
    if following is not None:
        return redirect(url_for("cati.interview_page", case_id=found.id, page_id=following.id))
    return _complete(found, current, revision + 1)


def _complete(case: Case, current: Interview, revision: int):
    session = db_session()
    if not respond.submit(session, current, expected_revision=revision, now=now(), mode=MODE):
        flash(_("Some required answers are still missing."), "error")
        target = current.flow.resume_page(current.state(), MODE, None)
        target = target or current.flow.pages(MODE)[0]
        return redirect(url_for("cati.interview_page", case_id=case.id, page_id=target.id))
    complete = session.scalar(
        select(Outcome)
        .where(Outcome.fieldwork_id == case.fieldwork_id, Outcome.is_complete.is_(True))
        .where(Outcome.code != COMPLETED_ONLINE_CODE)
    )
    call = _open_call(case) or services.start_call(session, case, current_user.id, None, now())
    if complete is not None:
        services.finish_call(
            session, case, call, complete, interviewer_id=current_user.id, note="", now=now()
        )
    flash(_("Interview complete. Thank you!"), "success")
    return redirect(url_for("cati.index"))
