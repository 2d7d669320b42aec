"""Sessions end on logout and password change; failed logins are throttled per address;
large sample files are imported in the background.

``user_account.session_generation`` is part of every session's user id: raising it (logout,
password change or reset, disabling, an admin's "end sessions") makes every session of the
account invalid on every app server. ``login_throttle`` counts failed logins per client
address, one row locked per attempt, so concurrent attempts are counted exactly.
``sample_import`` holds a large sample file and its progress while it is imported.

Revision ID: b3c8e1f2a9d4
Revises: a76594a051c1
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "b3c8e1f2a9d4"
down_revision: str | None = "a76594a051c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "login_throttle",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "sample_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_sample_import_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_sample_import_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_sample_import_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_import")),
        sa.UniqueConstraint("key", name=op.f("uq_sample_import_key")),
    )


def downgrade() -> None:
    op.drop_table("sample_import")
    op.drop_table("login_throttle")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
