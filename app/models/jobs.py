"""Background export jobs: a workbook built outside the request, stored in chunks.

The file lives in the database (``export_chunk``), so with several app servers any of
them can serve the download, whichever one built it. A job whose heartbeat stops (its
process died) is marked failed when somebody looks at it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.dates import utcnow
from app.models.base import Base


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATE_VALUES = ", ".join(f"'{s.value}'" for s in JobState)


class ExportJob(Base):
    __tablename__ = "export_job"
    __table_args__ = (CheckConstraint(f"state IN ({JOB_STATE_VALUES})", name="state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the job's URL carries this, not the id, so jobs cannot be walked
    key: Mapped[str] = mapped_column(String(64), unique=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(20))  # "responses" or "report"
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED.value)
    total: Mapped[int] = mapped_column(default=0)  # rows to write (0 while unknown)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(default=0)
    # times put back on the queue after its worker died (app.exports.jobs.recover_stale)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def state_enum(self) -> JobState:
        return JobState(self.state)


class ExportChunk(Base):
    __tablename__ = "export_chunk"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("export_job.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SampleImport(Base):
    """A large sample file imported in the background (app.fieldwork.imports).

    The uploaded file waits in ``data`` (so any app server can run it) and is emptied when
    the import ends; ``total``/``done`` are the rows to store and stored so far.
    """

    __tablename__ = "sample_import"
    __table_args__ = (CheckConstraint(f"state IN ({JOB_STATE_VALUES})", name="state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # in the status page's URL
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldwork.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    file_name: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED.value)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
