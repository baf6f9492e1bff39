"""organisations own keys, users and client records; recorded intakes reduced

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DEFAULT = "default"
OWNED = ("api_key", "app_user", "match_record", "referral", "urgent_case")


def upgrade() -> None:
    """Apply this revision."""
    organisation = op.create_table(
        "organisation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.bulk_insert(organisation, [{"id": DEFAULT, "name": "Default", "created_at": _now()}])
    for table in OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "organisation_id",
                    sa.String(length=32),
                    nullable=False,
                    server_default=DEFAULT,
                )
            )
            batch_op.create_index(
                batch_op.f(f"ix_{table}_organisation_id"), ["organisation_id"], unique=False
            )
            batch_op.create_foreign_key(
                f"fk_{table}_organisation_id", "organisation", ["organisation_id"], ["id"]
            )
    _reduce_recorded_intakes()


def _now() -> datetime:
    return datetime.now(UTC)


def _reduce_recorded_intakes() -> None:
    """Recorded intakes keep only the answers given, with the location to 2 decimals (~1 km)."""
    match = sa.table("match_record", sa.column("id", sa.String), sa.column("intake", JSON_DOCUMENT))
    conn = op.get_bind()
    rows = conn.execute(sa.select(match.c.id, match.c.intake)).all()
    for match_id, intake in rows:
        reduced = _reduced(dict(intake or {}))
        if reduced != intake:
            conn.execute(match.update().where(match.c.id == match_id).values(intake=reduced))


def _reduced(intake: dict[str, Any]) -> dict[str, Any]:
    # A copy of matcher.services.recording.reduce_intake as of this revision (migrations must
    # not change when the code does).
    kept = {k: v for k, v in intake.items() if v not in (None, [], {}, False)}
    location = kept.get("location")
    if isinstance(location, dict) and "lat" in location and "lon" in location:
        kept["location"] = {
            "lat": round(float(location["lat"]), 2),
            "lon": round(float(location["lon"]), 2),
        }
    return kept


def downgrade() -> None:
    """Revert this revision (the reduced intakes stay reduced)."""
    for table in reversed(OWNED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_organisation_id", type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_organisation_id"))
            batch_op.drop_column("organisation_id")
    op.drop_table("organisation")
