"""imported past referrals: marked, with no logged propensity

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.alter_column("propensity", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    """Revert this revision (imported referrals keep a propensity of 1: shown for sure)."""
    op.execute("UPDATE referral SET propensity = 1.0 WHERE propensity IS NULL")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.alter_column("propensity", existing_type=sa.Float(), nullable=False)
        batch_op.drop_column("imported")
