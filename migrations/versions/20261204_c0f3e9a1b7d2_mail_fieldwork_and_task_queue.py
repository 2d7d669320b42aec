"""E-mail fieldwork (messages, waves, every message sent; opt-outs and bounces per contact)
and the task queue's retry count on export jobs.

Revision ID: c0f3e9a1b7d2
Revises: 5c0a7e21b9d4
Create Date: 2026-12-04 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "c0f3e9a1b7d2"
down_revision: str | None = "5c0a7e21b9d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fieldwork_mail",
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("invitation_subject", sa.Text(), nullable=False),
        sa.Column("invitation_body", sa.Text(), nullable=False),
        sa.Column("reminder_subject", sa.Text(), nullable=False),
        sa.Column("reminder_body", sa.Text(), nullable=False),
        sa.Column("rops_contact", sa.Text(), nullable=False),
        sa.Column("reminder_days", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_fieldwork_mail_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fieldwork_id", name=op.f("pk_fieldwork_mail")),
    )
    op.create_table(
        "mail_wave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('invitation', 'reminder')", name=op.f("ck_mail_wave_kind_known")
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_mail_wave_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_mail_wave_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_mail_wave_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_wave")),
        sa.UniqueConstraint(
            "fieldwork_id", "kind", "number", name=op.f("uq_mail_wave_fieldwork_id_kind_number")
        ),
    )
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("sample_unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("queued_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'sending', 'sent', 'failed', 'bounced', 'skipped')",
            name=op.f("ck_mail_message_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_mail_message_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sample_unit_id"],
            ["sample_unit.id"],
            name=op.f("fk_mail_message_sample_unit_id_sample_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["mail_wave.id"],
            name=op.f("fk_mail_message_wave_id_mail_wave"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
        sa.UniqueConstraint(
            "wave_id", "sample_unit_id", name=op.f("uq_mail_message_wave_id_sample_unit_id")
        ),
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.create_index("ix_mail_message_unit", ["sample_unit_id", "kind"], unique=False)
        batch_op.create_index("ix_mail_message_wave_state", ["wave_id", "state"], unique=False)
    with op.batch_alter_table("sample_unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mail_opted_out_at", app.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("mail_bounced_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.drop_column("attempts")
    with op.batch_alter_table("sample_unit", schema=None) as batch_op:
        batch_op.drop_column("mail_bounced_at")
        batch_op.drop_column("mail_opted_out_at")
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_message_wave_state")
        batch_op.drop_index("ix_mail_message_unit")
    op.drop_table("mail_message")
    op.drop_table("mail_wave")
    op.drop_table("fieldwork_mail")
