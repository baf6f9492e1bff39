"""people who sign in, the urgent queue, alert resolutions, results shown with a match

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "app_user",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "urgent_case",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("match_id", sa.String(length=32), nullable=True),
        sa.Column("client_ref", sa.String(length=128), nullable=True),
        sa.Column("jurisdiction", sa.String(length=16), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("taken_by", sa.String(length=100), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match_record.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("urgent_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_urgent_case_match_id"), ["match_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_urgent_case_client_ref"), ["client_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_urgent_case_closed_at"), ["closed_at"], unique=False)
    op.create_table(
        "alert_resolution",
        sa.Column("referral_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("resolved_by", sa.String(length=100), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("results", JSON_DOCUMENT, nullable=True))
        batch_op.add_column(sa.Column("rematch_of", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.drop_column("rematch_of")
        batch_op.drop_column("results")
    op.drop_table("alert_resolution")
    op.drop_table("urgent_case")
    op.drop_table("app_user")
