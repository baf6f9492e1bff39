"""availability freshness (confirmed, answered, full until, declines) and exposure counts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("therapist", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accepting_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("availability_answered_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("full_until", sa.DateTime(timezone=True), nullable=True))
    # A profile last written saying "accepting" was confirmed then (the contract's rule).
    op.execute(
        "UPDATE therapist SET accepting_confirmed_at = updated_at "
        "WHERE accepting_new_clients = true"
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decline_reason", sa.String(length=16), nullable=True))
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exposure", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.drop_column("exposure")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("decline_reason")
        batch_op.drop_column("declined_at")
    with op.batch_alter_table("therapist", schema=None) as batch_op:
        batch_op.drop_column("full_until")
        batch_op.drop_column("availability_answered_at")
        batch_op.drop_column("accepting_confirmed_at")
