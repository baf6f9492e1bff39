"""alliance ratings keep the alliance revision they were stored at

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("alliance_rating", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alliance_rating_revision"), ["revision"], unique=False)
    # Ratings stored before revisions: 0, older than any revision a rating gets from now on.
    op.execute("UPDATE alliance_rating SET revision = 0 WHERE revision IS NULL")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("alliance_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alliance_rating_revision"))
        batch_op.drop_column("revision")
