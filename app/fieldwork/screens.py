"""The analyst's fieldwork pages: the fieldwork, a response and its correction, downloads."""

from __future__ import annotations

import unicodedata
from typing import Final
from urllib.parse import quote

from flask import Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.fieldwork import services
from app.fieldwork.forms import FieldworkForm, SampleUploadForm, StateForm, UnitFilterForm
from app.interview.pages import PageBuilder, expression_values
from app.interview.service import Interview
from app.models.fieldwork import Fieldwork, SampleUnit, sample_facets
from app.models.fieldwork import Response as SurveyResponse
from app.models.surveys import list_surveys
from app.platform.extensions import db_session, now
from app.platform.uploads import file_store
from app.platform.web import current_scope, refuse_out_of_scope

UNITS_SHOWN = 500  # institutions listed on the fieldwork's page (the filters narrow it)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fieldwork_or_404(fieldwork_id: int) -> Fieldwork:
    """The fieldwork, if it exists and has institutions in the user's scope (else 404; a
    fieldwork outside the scope is an audited attempt)."""
    fieldwork = db_session().get(Fieldwork, fieldwork_id)
    if fieldwork is None:
        abort(404)
    if not current_scope().admits_fieldwork(db_session(), fieldwork):
        refuse_out_of_scope(f"fieldwork {fieldwork_id}", fieldwork_id)
    return fieldwork


def create_form() -> FieldworkForm:
    form = FieldworkForm()
    form.survey.choices = [
        (row.survey.code, f"{row.survey.title} ({row.survey.code})")
        for row in list_surveys(db_session())
    ]
    return form


def detail_page(fieldwork: Fieldwork, upload: SampleUploadForm, problems=None, status=200):
    session = db_session()
    scope = current_scope()
    subregions, types = sample_facets(session, fieldwork, scope.covers(SampleUnit.id))
    filters = UnitFilterForm(request.args)
    filters.subregion.choices = [("", _("all"))] + [(s, s) for s in subregions]
    filters.entity_type.choices = [("", _("all"))] + [(t, t) for t in types]
    filters.status.choices = [
        ("", _("all")),
        ("not_started", _("not started")),
        ("in_progress", _("in progress")),
        ("complete", _("complete")),
    ]
    units = services.units_with_status(
        session,
        fieldwork,
        scope,
        subregion=filters.subregion.data or "",
        entity_type=filters.entity_type.data or "",
        status=filters.status.data or "",
        limit=UNITS_SHOWN + 1,  # a 100,000-row sample is not one page
    )
    more = len(units) > UNITS_SHOWN
    units = units[:UNITS_SHOWN]
    summary = next(
        s for s in services.list_fieldworks(session, scope) if s.fieldwork.id == fieldwork.id
    )
    return (
        render_template(
            "fieldwork/detail.html",
            fieldwork=fieldwork,
            summary=summary,
            units=units,
            more_units=more,
            filters=filters,
            upload=upload,
            state_form=StateForm(),
            problems=problems or [],
            base_url=request.host_url.rstrip("/"),
            test_count=services.test_response_count(session, fieldwork, scope),
        ),
        status,
    )


def download(data: bytes, filename: str, mimetype: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def response_file(answer: SurveyResponse, key: str) -> Response:
    """A file sent with ``answer`` (404 unless one of its answers names it), downloaded
    under the name it was sent with; never shown in the browser as a page."""
    sent = services.response_file(answer, key)
    data = file_store().read(key) if sent is not None else None
    if sent is None or data is None:
        abort(404)
    response = Response(
        data,
        mimetype=sent.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )
    response.headers["Content-Disposition"] = attachment_disposition(sent.name)
    return response


def attachment_disposition(name: str) -> str:
    """``Content-Disposition`` for a download under ``name``: plain ASCII for old
    browsers, the real name (Polish letters) as RFC 6266 / 5987 say."""
    plain = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    plain = "".join(c for c in plain.encode("ascii", "ignore").decode() if c not in '"\\')
    return f"attachment; filename=\"{plain or 'plik'}\"; filename*=UTF-8''{quote(name, safe='')}"


def response_or_404(fieldwork: Fieldwork, response_id: int) -> SurveyResponse:
    response = db_session().get(SurveyResponse, response_id)
    if response is None or response.fieldwork_id != fieldwork.id:
        abort(404)
    if not current_scope().admits(response.sample_unit):
        refuse_out_of_scope(f"response {response_id}", fieldwork.id)
    return response


def response_page(fieldwork, answer, form, status=200):
    interview = Interview.of(answer, now())
    flow = interview.flow
    state = interview.state()
    settings = interview.questionnaire.settings
    language = str(get_locale())
    if language not in settings.languages:
        language = settings.default_language
    pages = []
    for page in flow.pages("web"):
        if not flow.is_shown(page, state, "web"):
            continue
        builder = PageBuilder(
            flow,
            state,
            language=language,
            mode="web",
            gettext=_,
            values=flow.form_values(page, state),
            errors={},
            read_only=True,
            file_link=lambda _field, sent: url_for(
                "fieldwork.response_file",
                fieldwork_id=fieldwork.id,
                response_id=answer.id,
                key=sent.key,
            ),
        )
        label = builder.text(page.group.label) if page.group else ""
        pages.append((label, builder.page(page)))
    return (
        render_template(
            "fieldwork/response.html",
            fieldwork=fieldwork,
            answer=answer,
            pages=pages,
            form=form,
            title=settings.title.get(language),
        ),
        status,
    )


# Staff edit the interviewer's screens: they have every question, with don't know / refused.
STAFF_MODE: Final = "phone"


def staff_page_or_404(interview: Interview, page_id: str):
    try:
        return interview.flow.page(STAFF_MODE, page_id)
    except KeyError:
        abort(404)


def edit_page(fieldwork, interview, page, values, errors, form, *, status=200, notice=None):
    flow = interview.flow
    state = interview.state()
    settings = interview.questionnaire.settings
    language = interview.response.language
    if language not in settings.languages:
        language = settings.default_language
    builder = PageBuilder(
        flow,
        state,
        language=language,
        mode=STAFF_MODE,
        gettext=_,
        values=values,
        errors=errors,
        list_changes=False,  # a correction changes answers, not how many entries a list has
    )
    screens = [
        (p, builder.text(p.group.label) if p.group else p.id)
        for p in flow.pages(STAFF_MODE)
        if flow.is_shown(p, state, STAFF_MODE)
    ]
    return (
        render_template(
            "fieldwork/edit_response.html",
            fieldwork=fieldwork,
            answer=interview.response,
            page=page,
            screens=screens,
            items=builder.page(page),
            group_label=builder.text(page.group.label) if page.group else "",
            title=settings.title.get(language),
            form=form,
            error_count=len(errors),
            notice=notice,
            known_answers=expression_values(flow, state),
            sample=interview.sample,
        ),
        status,
    )
