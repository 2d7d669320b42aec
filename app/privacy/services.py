"""Personal data of a fieldwork: how long contact data is kept, and erasing it.

Contact data is what identifies or reaches a person: the contact person's name, e-mail
addresses (of the sample and of every e-mail message sent), phone numbers (of the sample
and of every call) and their labels, every free text staff type about a case (interviewers'
call and case notes, appointments' notes and "with whom", supervisors' reasons for an
exclusion or a changed outcome, the reasons for correcting a response), sample columns named
like contact data, the SMTP servers' replies, and the personal-link tokens. The fieldwork's
stored results files (the workbook's Calls sheet has numbers and notes) are deleted. The
audit log never holds any of it: it records that a note or a reason was given, and where it
is kept, not the text (app.audit), so it keeps that the erasure happened and who did it, and
nothing erased. Files respondents sent with file questions (photos, recordings, documents)
are deleted from the upload store; their answers keep the file's size and type only (no
name), also in the copies kept when a response was re-opened.
Erasing replaces each value with a pseudonym made with a key that is thrown away at once
(HMAC-SHA256 with 32 random bytes): the same number becomes the same pseudonym within one
erasure, so call histories still line up, but nothing can be turned back. Responses,
dispositions, calls (who, when, outcome), institutions' names and identifiers, and
therefore every rate and report, stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from app.domain.fieldwork.links import new_token
from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import without_files
from app.models.cati import Appointment, Call, Case, SupervisorAction
from app.models.fieldwork import Fieldwork, FieldworkState, Response, ResponseChange, SampleUnit
from app.models.jobs import ExportChunk, ExportJob
from app.models.mail import MailMessage
from app.platform.audit import record_for_fieldwork
from app.platform.uploads import file_store

# sample columns (beyond the standard ones) whose values are treated as contact data
CONTACT_COLUMN = re.compile(
    r"(phone|tel|mobile|komork|e-?mail|mail|contact|kontakt|osoba|person|imie|imię|nazwisko"
    r"|address|adres|pesel)",
    re.IGNORECASE,
)


class PrivacyError(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


@dataclass(frozen=True)
class Erasure:
    institutions: int
    phones: int
    calls: int
    notes: int
    files: int = 0  # stored results files deleted
    attachments: int = 0  # files sent with file questions deleted


class _Pseudonyms:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)  # never stored: the pseudonyms cannot be reversed

    def __call__(self, prefix: str, value: str) -> str:
        value = (value or "").strip()
        if not value:
            return ""
        digest = hmac.new(self._key, value.lower().encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:10]}"


def erase_contacts(
    session: Session,
    fieldwork: Fieldwork,
    now: datetime,
    *,
    user_id: int | None = None,
    actor_name: str | None = None,
) -> Erasure:
    """Pseudonymise the contact data of a closed fieldwork (PrivacyError if not allowed).

    ``user_id`` is the acting account (None: the command line); the erasure is audited
    (with the request's address, see ``record_by_id``; by ``actor_name`` if given, a
    command run as an account).
    """
    if fieldwork.state != FieldworkState.CLOSED:
        raise PrivacyError(Message(N_("Close the fieldwork before erasing its contact data.")))
    if fieldwork.contacts_erased_at is not None:
        raise PrivacyError(Message(N_("The contact data of this fieldwork is already erased.")))
    pseudonym = _Pseudonyms()
    units = session.scalars(select(SampleUnit).where(SampleUnit.fieldwork_id == fieldwork.id))
    institutions = phones = calls = notes = 0
    for unit in units:
        institutions += 1
        unit.contact_person = pseudonym("osoba", unit.contact_person)
        unit.email = pseudonym("email", unit.email)
        unit.token = new_token()  # the old personal link leads nowhere now
        if unit.variables:
            unit.variables = {
                name: pseudonym("dane", str(value))
                if CONTACT_COLUMN.search(name) and value not in (None, "")
                else value
                for name, value in unit.variables.items()
            }
        for phone in unit.phones:
            phone.number = pseudonym("tel", phone.number)
            phone.label = ""
            phones += 1
    case_ids = select(Case.id).where(Case.fieldwork_id == fieldwork.id)
    for call in session.scalars(select(Call).where(Call.case_id.in_(case_ids))):
        call.number = pseudonym("tel", call.number)
        if call.note:
            call.note, notes = "", notes + 1
        calls += 1
    for case in session.scalars(select(Case).where(Case.fieldwork_id == fieldwork.id)):
        if case.notes:
            case.notes, notes = "", notes + 1
    for appointment in session.scalars(
        select(Appointment).where(Appointment.case_id.in_(case_ids))
    ):
        if appointment.note:
            appointment.note, notes = "", notes + 1
        appointment.with_whom = pseudonym("osoba", appointment.with_whom)  # a person's name
    # the e-mail log: the address each message went to, and the servers' replies (which
    # often repeat the address); states, times and counts stay for the response rates
    for message in session.scalars(
        select(MailMessage).where(MailMessage.fieldwork_id == fieldwork.id)
    ):
        message.email = pseudonym("email", message.email)
        message.error = ""
        message.message_id = ""
    for action in session.scalars(
        select(SupervisorAction).where(SupervisorAction.fieldwork_id == fieldwork.id)
    ):
        if action.note:  # why a case was excluded or a call's outcome changed
            action.note, notes = "", notes + 1
    response_ids = select(Response.id).where(Response.fieldwork_id == fieldwork.id)
    sent_files: set[str] = set()  # the files respondents sent: deleted, their names too
    for response in session.scalars(select(Response).where(Response.fieldwork_id == fieldwork.id)):
        answers, keys = without_files(response.answers or {})
        if keys:
            response.answers, sent_files = answers, sent_files | keys
    for change in session.scalars(
        select(ResponseChange).where(ResponseChange.response_id.in_(response_ids))
    ):
        if change.reason:  # why a completed response was corrected
            change.reason, notes = "", notes + 1
        for column in ("old_value", "new_value"):  # a re-opened response's answers
            value, keys = without_files(getattr(change, column))
            if keys:
                setattr(change, column, value)
                sent_files |= keys
    # results files built before the erasure (kept a day, still downloadable): gone
    job_ids = select(ExportJob.id).where(ExportJob.fieldwork_id == fieldwork.id)
    session.execute(delete(ExportChunk).where(ExportChunk.job_id.in_(job_ids)))
    files = session.execute(delete(ExportJob).where(ExportJob.fieldwork_id == fieldwork.id))
    fieldwork.contacts_erased_at = now
    store = file_store()
    attachments = sum(store.delete(key) for key in sorted(sent_files))
    result = Erasure(
        institutions, phones, calls, notes, cast(CursorResult[Any], files).rowcount, attachments
    )
    detail = {
        "institutions": institutions,
        "phones": phones,
        "calls": calls,
        "notes": notes,
        "files": cast(CursorResult[Any], files).rowcount,
        "attachments": attachments,
    }
    record_for_fieldwork(
        session,
        "fieldwork.contacts_erased",
        now,
        fieldwork.id,
        user_id,
        detail,
        actor_name=actor_name,
    )
    session.flush()
    return result


def set_retention(
    session: Session,
    fieldwork: Fieldwork,
    until: date | None,
    now: datetime,
    *,
    user_id: int | None = None,
    actor_name: str | None = None,
) -> None:
    """Keep the fieldwork's contact data until ``until`` (None: no date set); audited (by
    ``actor_name`` if given, a command run as an account)."""
    old = fieldwork.retain_contacts_until
    fieldwork.retain_contacts_until = until
    detail = {"until": [old.isoformat() if old else None, until.isoformat() if until else None]}
    record_for_fieldwork(
        session,
        "fieldwork.retention_changed",
        now,
        fieldwork.id,
        user_id,
        detail,
        actor_name=actor_name,
    )
    session.flush()
