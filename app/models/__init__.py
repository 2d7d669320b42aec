"""The database models, split by aggregate. Importing this module registers them all."""

from app.models.audit import AuditEvent
from app.models.cati import Appointment, Call, Case, Outcome, SupervisorAction
from app.models.fieldwork import (
    ContactPhone,
    Fieldwork,
    FieldworkInterviewer,
    FieldworkState,
    Response,
    ResponseChange,
    ResponseStatus,
    SampleUnit,
)
from app.models.jobs import ExportChunk, ExportJob, JobState, SampleImport
from app.models.mail import FieldworkMail, MailMessage, MailWave
from app.models.surveys import Survey, SurveyVersion
from app.models.tokens import ApiToken, TokenScope
from app.models.users import LoginThrottle, Role, User

__all__ = [
    "ApiToken",
    "TokenScope",
    "AuditEvent",
    "ExportChunk",
    "ExportJob",
    "FieldworkInterviewer",
    "FieldworkMail",
    "MailMessage",
    "MailWave",
    "JobState",
    "LoginThrottle",
    "Appointment",
    "Call",
    "Case",
    "Outcome",
    "SupervisorAction",
    "ContactPhone",
    "Fieldwork",
    "FieldworkState",
    "Response",
    "ResponseChange",
    "ResponseStatus",
    "Role",
    "SampleImport",
    "SampleUnit",
    "Survey",
    "SurveyVersion",
    "User",
]
