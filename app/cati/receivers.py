"""What telephone fieldwork does when other features' events happen (app.platform.signals).

Connected when this module is imported, which app/cati/routes.py does: registering the
CATI blueprint is what makes CATI listen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.cati.queue import release_claims_of
from app.cati.services import mark_completed_online
from app.models.fieldwork import Response, ResponseRow
from app.platform.signals import response_completed, user_logged_out


@response_completed.connect
def close_case_completed_online(
    response: Response | ResponseRow, *, session: Session, mode: str, now: datetime, **_: Any
) -> None:
    """An institution that finished the web form leaves the call queue. (A phone interview
    closes its case itself, with the interviewer's call: app.cati.services.)"""
    if mode == "web" and response.sample_unit_id is not None:
        mark_completed_online(session, response.sample_unit_id, now)


@user_logged_out.connect
def release_claims(user_id: int, *, session: Session, **_: Any) -> None:
    """An interviewer's held cases go back to the queue when they log out."""
    release_claims_of(session, user_id)
