"""learning loop: models, audit, recorded matches, referrals, ratings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counter, [{"name": "alliance", "value": 0}])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)

    op.create_table(
        "model_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=False),
        sa.Column("weights", JSON_DOCUMENT, nullable=False),
        sa.Column("evaluation", JSON_DOCUMENT, nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version"),
    )
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_version_status"), ["status"], unique=False)

    op.create_table(
        "match_record",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("client_ref", sa.String(length=128), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("intake", JSON_DOCUMENT, nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("exploration", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version"],
            ["model_version.version"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_record_client_ref"), ["client_ref"], unique=False
        )

    op.create_table(
        "match_candidate",
        sa.Column("match_id", sa.String(length=32), nullable=False),
        sa.Column("therapist_id", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("features", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("match_id", "therapist_id"),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("match_id", sa.String(length=32), nullable=False),
        sa.Column("therapist_id", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("features", JSON_DOCUMENT, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["match_record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapist.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("match_id", "therapist_id", name="uq_referral_pair"),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_match_id"), ["match_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referral_therapist_id"), ["therapist_id"], unique=False
        )

    op.create_table(
        "alliance_rating",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("referral_id", sa.String(length=32), nullable=False),
        sa.Column("instrument", sa.String(length=8), nullable=False),
        sa.Column("session", sa.Integer(), nullable=False),
        sa.Column("items", JSON_DOCUMENT, nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("subscales", JSON_DOCUMENT, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("flags", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "instrument", "session", name="uq_rating_session"),
    )
    with op.batch_alter_table("alliance_rating", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alliance_rating_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    op.execute("DELETE FROM counter WHERE name = 'alliance'")
    with op.batch_alter_table("alliance_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alliance_rating_referral_id"))

    op.drop_table("alliance_rating")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_therapist_id"))
        batch_op.drop_index(batch_op.f("ix_referral_match_id"))

    op.drop_table("referral")
    op.drop_table("match_candidate")
    with op.batch_alter_table("match_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_record_client_ref"))

    op.drop_table("match_record")
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_version_status"))

    op.drop_table("model_version")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
