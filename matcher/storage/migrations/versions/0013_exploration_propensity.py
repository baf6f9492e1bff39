"""match candidates keep their chance of being shown when the match explored

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("match_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exploration_propensity", sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_candidate", schema=None) as batch_op:
        batch_op.drop_column("exploration_propensity")
