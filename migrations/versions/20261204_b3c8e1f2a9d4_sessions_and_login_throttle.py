"""Sessions end on logout and password change; failed logins are throttled per address.

``user_account.session_generation`` is part of every session's user id: raising it (logout,
password change or reset, disabling, an admin's "end sessions") makes every session of the
account invalid on every app server. ``login_throttle`` counts failed logins per client
address, one row locked per attempt, so concurrent attempts are counted exactly.

Revision ID: b3c8e1f2a9d4
Revises: a76594a051c1
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

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
        sa.Column("window_started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
