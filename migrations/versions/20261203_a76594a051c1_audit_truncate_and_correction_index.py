"""The audit log refuses TRUNCATE on PostgreSQL too; corrections are indexed by response.

The row triggers refuse UPDATE and DELETE, but TRUNCATE fires no row trigger: it needs a
statement trigger of its own. (SQLite has no TRUNCATE; its DELETE trigger covers
``DELETE FROM audit_event``.) Every save of a changed page now looks up whether its
response was re-opened, so ``response_change.response_id`` gets an index.

Revision ID: a76594a051c1
Revises: e89d945069e3
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a76594a051c1"
down_revision: str | None = "e89d945069e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_change_response_id"), ["response_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    with op.batch_alter_table("response_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_change_response_id"))
