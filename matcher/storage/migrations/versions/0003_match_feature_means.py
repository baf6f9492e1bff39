"""recorded matches keep the mean features of their eligible therapists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feature_means", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.drop_column("feature_means")
