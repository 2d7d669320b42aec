"""Telephone interviewing: outcomes, cases, calls, appointments, supervisor actions.

Revision ID: 92e6dedd4f51
Revises: 9af8b655849b
Create Date: 2026-11-22 05:42:22.828048
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "92e6dedd4f51"
down_revision: str | None = "9af8b655849b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_pl", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("aapor", sa.String(length=10), nullable=False),
        sa.Column("contacted", sa.Boolean(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("retry_minutes", sa.Integer(), nullable=True),
        sa.Column("try_other_number", sa.Boolean(), nullable=False),
        sa.Column("note_required", sa.Boolean(), nullable=False),
        sa.Column("is_complete", sa.Boolean(), nullable=False),
        sa.Column("is_partial", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('temporary', 'appointment', 'refusal', 'final', 'supervisor')",
            name=op.f("ck_outcome_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_outcome_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
        sa.UniqueConstraint("fieldwork_id", "code", name=op.f("uq_outcome_fieldwork_id_code")),
    )
    op.create_table(
        "cati_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("sample_unit_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("queue_rank", sa.Integer(), nullable=False),
        sa.Column("assigned_interviewer_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retried", sa.Boolean(), nullable=False),
        sa.Column("next_callable_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("disposition_code", sa.String(length=10), nullable=False),
        sa.Column("disposition_outcome_id", sa.Integer(), nullable=True),
        sa.Column("ever_contacted", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("appointment_start", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appointment_end", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appointment_interviewer_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_interviewer_id"],
            ["user_account.id"],
            name=op.f("fk_cati_case_appointment_interviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_interviewer_id"],
            ["user_account.id"],
            name=op.f("fk_cati_case_assigned_interviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["user_account.id"],
            name=op.f("fk_cati_case_claimed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["disposition_outcome_id"],
            ["outcome.id"],
            name=op.f("fk_cati_case_disposition_outcome_id_outcome"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_cati_case_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sample_unit_id"],
            ["sample_unit.id"],
            name=op.f("fk_cati_case_sample_unit_id_sample_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cati_case")),
        sa.UniqueConstraint("sample_unit_id", name=op.f("uq_cati_case_sample_unit_id")),
    )
    with op.batch_alter_table("cati_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cati_case_appointment", ["fieldwork_id", "appointment_start"], unique=False
        )
        batch_op.create_index("ix_cati_case_claimed_by", ["claimed_by_id"], unique=False)
        batch_op.create_index(
            "ix_cati_case_queue",
            ["fieldwork_id", "is_final", "queue_rank", "retried", "next_callable_at", "id"],
            unique=False,
        )

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("interviewer_id", sa.Integer(), nullable=True),
        sa.Column("phone_id", sa.Integer(), nullable=True),
        sa.Column("with_whom", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'kept', 'missed', 'cancelled')",
            name=op.f("ck_appointment_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cati_case.id"],
            name=op.f("fk_appointment_case_id_cati_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_interviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["phone_id"],
            ["contact_phone.id"],
            name=op.f("fk_appointment_phone_id_contact_phone"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_case_status", ["case_id", "status"], unique=False)

    op.create_table(
        "call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("interviewer_id", sa.Integer(), nullable=True),
        sa.Column("phone_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("interview_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cati_case.id"],
            name=op.f("fk_call_case_id_cati_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["user_account.id"],
            name=op.f("fk_call_interviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"], ["outcome.id"], name=op.f("fk_call_outcome_id_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["phone_id"],
            ["contact_phone.id"],
            name=op.f("fk_call_phone_id_contact_phone"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call")),
    )
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index("ix_call_case_started", ["case_id", "started_at"], unique=False)
        batch_op.create_index(
            "ix_call_interviewer_started", ["interviewer_id", "started_at"], unique=False
        )

    op.create_table(
        "supervisor_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["call.id"],
            name=op.f("fk_supervisor_action_call_id_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cati_case.id"],
            name=op.f("fk_supervisor_action_case_id_cati_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_supervisor_action_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_supervisor_action_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisor_action")),
    )
    with op.batch_alter_table("fieldwork", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "calling_hours",
                sa.String(length=200),
                server_default="pn-pt 8:00-16:00",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("attempt_limit", sa.Integer(), server_default="10", nullable=False)
        )
        batch_op.add_column(
            sa.Column("claim_timeout_minutes", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.add_column(sa.Column("aapor_e", sa.Float(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("fieldwork", schema=None) as batch_op:
        batch_op.drop_column("aapor_e")
        batch_op.drop_column("claim_timeout_minutes")
        batch_op.drop_column("attempt_limit")
        batch_op.drop_column("calling_hours")

    op.drop_table("supervisor_action")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_interviewer_started")
        batch_op.drop_index("ix_call_case_started")

    op.drop_table("call")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_case_status")

    op.drop_table("appointment")
    with op.batch_alter_table("cati_case", schema=None) as batch_op:
        batch_op.drop_index("ix_cati_case_queue")
        batch_op.drop_index("ix_cati_case_claimed_by")
        batch_op.drop_index("ix_cati_case_appointment")

    op.drop_table("cati_case")
    op.drop_table("outcome")
