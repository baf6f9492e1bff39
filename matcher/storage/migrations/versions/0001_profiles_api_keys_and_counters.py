"""profiles, api keys and counters

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "api_key",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scopes", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_table(
        "counter",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counter, [{"name": "directory", "value": 0}, {"name": "models", "value": 0}])
    op.create_table(
        "therapist",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("accepting_new_clients", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("profile", JSON_DOCUMENT, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("therapist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_therapist_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_therapist_revision"), ["revision"], unique=False)

    op.create_table(
        "therapist_tag",
        sa.Column("therapist_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["therapist.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("therapist_id", "kind", "code"),
    )
    with op.batch_alter_table("therapist_tag", schema=None) as batch_op:
        batch_op.create_index("ix_therapist_tag_kind_code", ["kind", "code"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("therapist_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_therapist_tag_kind_code")

    op.drop_table("therapist_tag")
    with op.batch_alter_table("therapist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_therapist_revision"))
        batch_op.drop_index(batch_op.f("ix_therapist_active"))

    op.drop_table("therapist")
    op.drop_table("counter")
    op.drop_table("api_key")
