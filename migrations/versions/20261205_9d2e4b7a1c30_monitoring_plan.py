"""Monitoring plans: indicators and their targets, as loaded from their files.

Revision ID: 9d2e4b7a1c30
Revises: c0f3e9a1b7d2
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "9d2e4b7a1c30"
down_revision: str | None = "c0f3e9a1b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("loaded_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_plan")),
        sa.UniqueConstraint("code", name=op.f("uq_monitoring_plan_code")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_plan")
