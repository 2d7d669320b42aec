"""Subregional partners: an account's subregions and entity types, and the OWES coordinator.

Revision ID: e4a7c2b91d05
Revises: 9d2e4b7a1c30
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4a7c2b91d05"
down_revision: str | None = "9d2e4b7a1c30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('admin', 'analyst', 'supervisor', 'interviewer')"
NEW_ROLES = "role IN ('admin', 'analyst', 'supervisor', 'interviewer', 'coordinator')"


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subregions", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("entity_types", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), NEW_ROLES)


def downgrade() -> None:
    # the audit log keeps its accounts: a coordinator becomes a disabled interviewer
    op.execute(
        "UPDATE user_account SET role = 'interviewer', active = false WHERE role = 'coordinator'"
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), OLD_ROLES)
        batch_op.drop_column("entity_types")
        batch_op.drop_column("subregions")
