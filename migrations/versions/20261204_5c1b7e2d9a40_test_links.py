"""Test links of a fieldwork and test responses.

A fieldwork gets a test link (``fieldwork.test_link_token``) that works while it is a draft
or open; what is answered through it is a response marked ``is_test``, left out of
progress, reports and exports unless asked for.

Revision ID: 5c1b7e2d9a40
Revises: b3c8e1f2a9d4
Create Date: 2026-12-04 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1b7e2d9a40"
down_revision: str | None = "b3c8e1f2a9d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fieldwork", schema=None) as batch_op:
        batch_op.add_column(sa.Column("test_link_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_fieldwork_test_link_token"), ["test_link_token"]
        )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_test", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("is_test")
    with op.batch_alter_table("fieldwork", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_fieldwork_test_link_token"), type_="unique")
        batch_op.drop_column("test_link_token")
