"""Fieldwork, sample units with phones, responses and their corrections.

Revision ID: 9af8b655849b
Revises: 76b8fc23d4ea
Create Date: 2026-11-22 04:57:24.105565
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "9af8b655849b"
down_revision: str | None = "76b8fc23d4ea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "fieldwork",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("survey_version_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("open_link_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'open', 'closed')", name=op.f("ck_fieldwork_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["survey.id"], name=op.f("fk_fieldwork_survey_id_survey")
        ),
        sa.ForeignKeyConstraint(
            ["survey_version_id"],
            ["survey_version.id"],
            name=op.f("fk_fieldwork_survey_version_id_survey_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fieldwork")),
        sa.UniqueConstraint("open_link_token", name=op.f("uq_fieldwork_open_link_token")),
    )
    op.create_table(
        "sample_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("subregion", sa.String(length=100), nullable=False),
        sa.Column("powiat", sa.String(length=100), nullable=False),
        sa.Column("gmina", sa.String(length=100), nullable=False),
        sa.Column("contact_person", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=300), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_sample_unit_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_unit")),
        sa.UniqueConstraint(
            "fieldwork_id", "external_id", name=op.f("uq_sample_unit_fieldwork_id_external_id")
        ),
        sa.UniqueConstraint("token", name=op.f("uq_sample_unit_token")),
    )
    op.create_table(
        "contact_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_unit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_unit_id"],
            ["sample_unit.id"],
            name=op.f("fk_contact_phone_sample_unit_id_sample_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_phone")),
        sa.UniqueConstraint(
            "sample_unit_id", "position", name=op.f("uq_contact_phone_sample_unit_id_position")
        ),
    )
    op.create_table(
        "response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fieldwork_id", sa.Integer(), nullable=False),
        sa.Column("sample_unit_id", sa.Integer(), nullable=True),
        sa.Column("open_token", sa.String(length=64), nullable=True),
        sa.Column("survey_version_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("last_page", sa.String(length=100), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("via_web", sa.Boolean(), nullable=False),
        sa.Column("via_phone", sa.Boolean(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_progress', 'complete')", name=op.f("ck_response_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["fieldwork_id"],
            ["fieldwork.id"],
            name=op.f("fk_response_fieldwork_id_fieldwork"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sample_unit_id"],
            ["sample_unit.id"],
            name=op.f("fk_response_sample_unit_id_sample_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_version_id"],
            ["survey_version.id"],
            name=op.f("fk_response_survey_version_id_survey_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response")),
        sa.UniqueConstraint("open_token", name=op.f("uq_response_open_token")),
        sa.UniqueConstraint("sample_unit_id", name=op.f("uq_response_sample_unit_id")),
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(
            "ix_response_fieldwork_status", ["fieldwork_id", "status"], unique=False
        )

    op.create_table(
        "response_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("variable", sa.String(length=100), nullable=True),
        sa.Column("old_value", sa.JSON(), nullable=False),
        sa.Column("new_value", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_response_change_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_response_change_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_change")),
    )


def downgrade() -> None:

    op.drop_table("response_change")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_fieldwork_status")

    op.drop_table("response")
    op.drop_table("contact_phone")
    op.drop_table("sample_unit")
    op.drop_table("fieldwork")
