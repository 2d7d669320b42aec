"""The interviewer's screens: the next case, the case, the call outcome, the phone interview."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final, cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.cati import (
    queue,
    receivers,  # noqa: F401 - CATI hears other features once registered
    services,
)
from app.cati.forms import DATE_PATTERN, DialForm, NotesForm, OutcomeForm, PhoneForm
from app.domain.dates import WARSAW, format_local
from app.domain.fieldwork.outcomes import COMPLETED_ONLINE_CODE, OutcomeKind
from app.domain.questionnaire.pages import Page
from app.domain.questionnaire.roster import (
    Stop,
    asks_another,
    entry,
    instance_count,
    roster_of,
    stop_at,
    stops,
)
from app.interview.pages import (
    LIST_ACTIONS,
    PageBuilder,
    PagePost,
    expression_values,
    live_calculations_json,
    problem_text,
    progress_percent,
    read_page_post,
)
from app.interview.roster import ANOTHER, INSTANCE, NO, YES, roster_post
from app.interview.service import Interview
from app.interview.submit import Step, focus_anchor
from app.models.calling import on_team, outcomes_of
from app.models.cati import Case, Outcome
from app.models.fieldwork import ContactPhone, Fieldwork
from app.models.users import Role
from app.platform.extensions import db_session, now, writes_on_get
from app.platform.security import SCOPED, roles
from app.platform.web import current_scope, refuse_out_of_scope

bp = Blueprint("cati", __name__, url_prefix="/cati")

MODE: Final = "phone"
ACTIONS: Final = ("next", "back", "breakoff", *LIST_ACTIONS)
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
            or not on_team(db_session(), case.fieldwork_id, current_user.id)
        )
    ):
        abort(404)
    if not current_scope().admits(case.sample_unit):
        refuse_out_of_scope(f"case {case_id}", case.fieldwork_id)
    return case


@bp.route("/")
@roles(*CALLERS, scope=SCOPED)
def index():
    session = db_session()
    fieldworks = queue.callable_fieldworks(session, current_user)
    mine = queue.my_cases(session, current_user, fieldworks)
    return render_template(
        "cati/index.html", fieldworks=fieldworks, mine=mine, form=DialForm(), nothing=None
    )


@bp.route("/<int:fieldwork_id>/next", methods=["POST"])
@roles(*CALLERS, scope=SCOPED)
def next_case(fieldwork_id: int):
    session = db_session()
    fieldwork = session.get(Fieldwork, fieldwork_id)
    if (
        fieldwork is None
        or not fieldwork.is_open
        or not queue.may_call(session, fieldwork.id, current_user)
    ):
        abort(404)
    if not current_scope().admits_fieldwork(session, fieldwork):
        refuse_out_of_scope(f"fieldwork {fieldwork_id}", fieldwork_id)
    claim = queue.claim_next(session, fieldwork, current_user.id, now(), current_scope())
    if claim.case is not None:
        return redirect(url_for("cati.case", case_id=claim.case.id))
    fieldworks = queue.callable_fieldworks(session, current_user)
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
@roles(*CALLERS, scope=SCOPED)
def case(case_id: int):
    found = _my_case(case_id)
    outcome_form = OutcomeForm()
    if not outcome_form.is_submitted():
        session = db_session()
        outcome_form.outcome.data = services.break_off_outcome(
            session, found, services.open_call(session, found)
        )
    return _case_page(found, outcome_form, PhoneForm(), NotesForm(notes=found.notes))


def _outcome_choices(fieldwork: Fieldwork) -> list[tuple[str, str]]:
    english = str(get_locale()) == "en"
    return [
        (o.code, o.label_en if english else o.label_pl)
        for o in outcomes_of(db_session(), fieldwork)
        if o.kind != OutcomeKind.SUPERVISOR.value and o.code != COMPLETED_ONLINE_CODE
    ]


def _case_page(case: Case, outcome_form, phone_form, notes_form, status: int = 200):
    outcome_form.outcome.choices = _outcome_choices(case.fieldwork)
    screen = services.case_screen(db_session(), case)
    return (
        render_template(
            "cati/case.html",
            case=case,
            unit=case.sample_unit,
            calls=screen.calls,
            open_call=screen.open_call,
            appointments=screen.appointments,
            response=screen.response,
            outcome_form=outcome_form,
            phone_form=phone_form,
            notes_form=notes_form,
            dial_form=DialForm(),
        ),
        status,
    )


@bp.route("/case/<int:case_id>/dial", methods=["POST"])
@roles(*CALLERS, scope=SCOPED)
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
    services.dial(db_session(), found, current_user.id, phone, now())
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
@roles(*CALLERS, scope=SCOPED)
def record_outcome(case_id: int):
    found = _my_case(case_id)
    form = OutcomeForm()
    form.outcome.choices = _outcome_choices(found.fieldwork)
    if not form.validate_on_submit():
        return _case_page(found, form, PhoneForm(), NotesForm(notes=found.notes), status=400)
    session = db_session()
    outcome = services.outcome_by_code(session, found.fieldwork_id, form.outcome.data)
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
    try:
        services.record_outcome(
            session,
            found,
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
    if appointment is not None and not queue.calling_hours(found.fieldwork).is_open(
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
@roles(*CALLERS, scope=SCOPED)
def add_phone(case_id: int):
    found = _my_case(case_id)
    form = PhoneForm()
    if not form.validate_on_submit():
        return _case_page(found, OutcomeForm(), form, NotesForm(notes=found.notes), status=400)
    number = re.sub(r"[ ()./-]", "", form.number.data or "")
    services.add_phone(found, number, (form.label.data or "").strip())
    flash(_("Phone number added."), "success")
    return redirect(url_for("cati.case", case_id=found.id))


@bp.route("/case/<int:case_id>/notes", methods=["POST"])
@roles(*CALLERS, scope=SCOPED)
def save_notes(case_id: int):
    found = _my_case(case_id)
    form = NotesForm()
    if not form.validate_on_submit():
        return _case_page(found, OutcomeForm(), PhoneForm(), form, status=400)
    found.notes = (form.notes.data or "").strip()
    flash(_("Notes saved."), "success")
    return redirect(url_for("cati.case", case_id=found.id))


@bp.route("/appointments")
@roles(*CALLERS, scope=SCOPED)
def appointments():
    rows = queue.upcoming_appointments(db_session(), current_user, now())
    return render_template("cati/appointments.html", rows=rows, now=now())


# --- the interview in phone mode ------------------------------------------------------------


def _interview_for(case: Case) -> Interview:
    """The case's interview, started here if it has none."""
    current = services.interview_of_case(db_session(), case, now())
    assert current is not None  # noqa: S101 - started when missing
    return current


@bp.route("/case/<int:case_id>/interview")
@roles(*CALLERS, scope=SCOPED)
@writes_on_get  # starts the case's response if it has none; keeps the claim alive
def interview(case_id: int):
    found = _my_case(case_id)
    if services.open_call(db_session(), found) is None:
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
@roles(*CALLERS, scope=SCOPED)
@writes_on_get  # keeps the claim alive (and may start the response)
def interview_page(case_id: int, page_id: str):
    found = _my_case(case_id)
    current = _interview_for(found)
    if current.response.is_complete:
        return redirect(url_for("cati.case", case_id=found.id))
    page = _page_or_404(current, page_id)
    state = current.state()
    services.show_interview_page(found, now())
    values = current.flow.form_values(page, state)
    confirm = request.args.get("remove")  # a removal to confirm (the page without script)
    stop = _stop(current, page, state)
    return _render_interview(
        found, current, page, state, values, {}, confirm_remove=confirm, stop=stop
    )


def _stop(current: Interview, page: Page, state) -> Stop | None:
    """On a list's own page, the instance the roster shows (``?n=``; the first by default,
    the last for ``n=last``); None on any other page."""
    if roster_of(page) is None:
        return None
    wanted = request.form.get(INSTANCE) or request.args.get("n", "1")
    if wanted == "last":
        return entry(page, state, backwards=True)
    number = int(wanted) if wanted.isdigit() and len(wanted) < 6 else 1
    return stop_at(current.flow, state, MODE, page.id, number)


def _page_url(case: Case, page: Page, state, *, backwards: bool = False, number=None) -> str:
    """Where to show ``page``: on a list's own page, the instance to show."""
    if roster_of(page) is None:
        return url_for("cati.interview_page", case_id=case.id, page_id=page.id)
    if number is None:
        number = entry(page, state, backwards=backwards).instance
    return url_for("cati.interview_page", case_id=case.id, page_id=page.id, n=number)


def _language(current: Interview) -> str:
    """The questionnaire language the interviewer reads out (recorded with the answers)."""
    settings = current.questionnaire.settings
    language = str(get_locale())
    return language if language in settings.languages else settings.default_language


def _render_interview(
    case: Case,
    current: Interview,
    page: Page,
    state,
    values,
    errors,
    status=200,
    *,
    notice=None,
    confirm_remove=None,
    stop: Stop | None = None,
    another_error: str | None = None,
):
    flow = current.flow
    language = _language(current)
    builder = PageBuilder(
        flow,
        state,
        language=language,
        mode=MODE,
        gettext=_,
        values=values,
        errors=errors,
        confirm_remove=confirm_remove,
    )
    answered = []
    for each in stops(flow, state, MODE):
        repeat = roster_of(each.page)
        if repeat is not None:
            if each.instance:  # the list's instances, each by its title
                instance = state.instances(repeat.name)[each.instance - 1]
                answered.append((each, builder.instance_title(repeat, instance)))
            continue
        p = each.page
        if any(name in current.answers for item in p.questions for name in item.variable_names()):
            label = p.questions[0].label if p.questions else None
            answered.append((each, builder.text(label) if label else p.id))
    roster = _roster_view(builder, stop, state, errors) if stop is not None else None
    return (
        render_template(
            "cati/interview.html",
            case=case,
            unit=case.sample_unit,
            page=page,
            items=roster["items"] if roster else builder.page(page),
            roster=roster,
            another_error=another_error,
            stop=stop,
            group_label=roster["title"]
            if roster
            else (builder.text(page.group.label) if page.group else ""),
            percent=progress_percent(flow, MODE, page),
            is_first=flow.previous_page(state, MODE, page.id) is None
            and (stop is None or stop.instance <= 1),
            is_last=flow.next_page(state, MODE, page.id) is None
            and (stop is None or stop.instance >= instance_count(page, state)),
            has_lists=bool(page.repeats),
            notice=notice,
            revision=current.response.revision,
            answered=answered,
            error_count=len(errors),
            known_answers=expression_values(flow, state),
            calculations=live_calculations_json(flow),
            sample=current.sample,
        ),
        status,
    )


def _roster_view(builder: PageBuilder, stop: Stop, state, errors) -> dict:
    """What the screen of one instance of a list shows: the instance's items, its title,
    the fields that say which instance this is, and "is there another?" when it asks."""
    repeat = roster_of(stop.page)
    assert repeat is not None  # noqa: S101 - a stop is only made on a list's page
    count = instance_count(stop.page, state)
    label = builder.text(repeat.label) or repeat.name
    # the notes read before the list (on its screen), then the instance's own items
    items: list = [view for view in builder.page(stop.page) if view.type != "repeat"]
    title = label
    if stop.instance:
        view = builder.instance_at(f"{repeat.name}.{stop.instance}")
        items, title = items + view.items, view.title
    asks = asks_another(stop, state)
    return {
        "name": repeat.name,
        "count": count,
        "marker": f"{repeat.name}.{stop.instance}" if stop.instance else None,
        "items": items,
        "title": title,
        "asks": asks,
        "question": _("Is there another entry: %(label)s?", label=label)
        if stop.instance
        else _("Is there an entry: %(label)s?", label=label),
        "field": ANOTHER,
        "yes": YES,
        "no": NO,
        "error": problem_text(errors.get(repeat.name), builder.language, _)
        if errors.get(repeat.name)
        else None,
        "position": _("Entry %(number)d of %(count)d", number=stop.instance, count=count)
        if stop.instance
        else "",
    }


@bp.route("/case/<int:case_id>/interview/<page_id>", methods=["POST"])
@roles(*CALLERS, scope=SCOPED)
def interview_submit(case_id: int, page_id: str):
    found = _my_case(case_id)
    current = services.interview_of_case(db_session(), found, now(), start=False)
    if current is None:  # no page of it was ever shown: a post cannot start an interview
        return redirect(url_for("cati.interview", case_id=found.id))
    if current.response.is_complete:
        return redirect(url_for("cati.case", case_id=found.id))
    page = _page_or_404(current, page_id)
    post = read_page_post(request.form, ACTIONS)
    if post is None:
        abort(400)
    stop = _stop(current, page, current.state())
    if stop is not None:
        checked = roster_post(stop, current.state(), post)
        if not isinstance(checked, PagePost):
            values = post.fields.to_dict(flat=False)
            return _render_interview(
                found,
                current,
                page,
                current.state(),
                values,
                {},
                stop=stop,
                another_error=checked.render(_),
                status=400,
            )
        post = checked
    outcome = services.submit_interview_page(
        db_session(),
        found,
        current,
        page,
        post,
        interviewer_id=current_user.id,
        language=_language(current),
        now=now(),
    )
    if outcome.step is Step.INVALID:
        values = outcome.fields.to_dict(flat=False)
        notice = outcome.notice.render(_) if outcome.notice else None
        return _render_interview(
            found,
            current,
            page,
            outcome.state,
            values,
            outcome.errors,
            notice=notice,
            stop=stop,
        )
    if outcome.step is Step.STAY and stop is not None:
        return redirect(_page_url(found, page, outcome.state, number=stop.instance + 1))
    if outcome.step is Step.BACK and stop is not None and stop.instance > 1:
        return redirect(_page_url(found, page, outcome.state, number=stop.instance - 1))
    # on the roster, the same entry again (a list inside it changed)
    shown: dict[str, Any] = {"n": stop.instance} if stop is not None else {}
    if outcome.step is Step.CHANGED:
        return redirect(
            url_for(
                "cati.interview_page",
                case_id=found.id,
                page_id=page.id,
                _anchor=focus_anchor(outcome),
                **shown,
            )
        )
    if outcome.step is Step.CONFIRM:
        return redirect(
            url_for(
                "cati.interview_page",
                case_id=found.id,
                page_id=page.id,
                remove=outcome.target,
                _anchor="confirm-remove",
                **shown,
            )
        )
    if outcome.step is Step.STALE:
        flash(_("These answers were changed elsewhere in the meantime; check them."), "error")
        return redirect(url_for("cati.interview_page", case_id=found.id, page_id=page.id))
    if outcome.step is Step.SAVED:
        flash(_("Interview interrupted; the answers so far are saved. Record the outcome."), "info")
        return redirect(url_for("cati.case", case_id=found.id))
    if outcome.step is Step.DONE:
        flash(_("Interview complete. Thank you!"), "success")
        return redirect(url_for("cati.index"))
    if outcome.step is Step.INCOMPLETE:
        flash(_("Some required answers are still missing."), "error")
    backwards = outcome.step is Step.BACK
    return redirect(_page_url(found, outcome.page, outcome.state, backwards=backwards))
