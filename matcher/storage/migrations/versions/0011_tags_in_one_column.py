"""therapist tags in one column: a bulk import writes one row per profile, not one per code

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tagged fields as they stood at this revision (a migration keeps its own copy).
_TAGGED = {
    "jurisdiction": "licenses",
    "language": "languages",
    "modality": "modalities",
    "concern": "concerns",
    "population": "populations",
    "format": "formats",
}
_BATCH = 2_000
_therapist = sa.table(
    "therapist",
    sa.column("id", sa.String),
    sa.column("profile", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("tags", sa.Text),
)
_tag = sa.table("therapist_tag", sa.column("therapist_id"), sa.column("kind"), sa.column("code"))


def _codes(profile: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for kind, field in _TAGGED.items():
        for value in profile.get(field) or ():
            yield kind, value["jurisdiction"] if kind == "jurisdiction" else value


def _batches() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every therapist's (id, profile), a batch at a time in id order."""
    connection, after = op.get_bind(), ""
    while True:
        rows = connection.execute(
            sa.select(_therapist.c.id, _therapist.c.profile)
            .where(_therapist.c.id > after)
            .order_by(_therapist.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        yield [(row.id, row.profile) for row in rows]
        after = rows[-1].id


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("therapist", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.Text(), nullable=False, server_default=""))
    connection = op.get_bind()
    for batch in _batches():
        connection.execute(
            _therapist.update()
            .where(_therapist.c.id == sa.bindparam("tid"))
            .values(tags=sa.bindparam("text")),
            [
                {"tid": tid, "text": "|" + "".join(f"{k}:{c}|" for k, c in _codes(profile))}
                for tid, profile in batch
            ],
        )
    with op.batch_alter_table("therapist_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_therapist_tag_kind_code")
    op.drop_table("therapist_tag")


def downgrade() -> None:
    """Revert this revision."""
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
    # Not a batch operation: on SQLite that copies the therapist table and drops the old one,
    # which deletes (or refuses) the rows that refer to it. SQLite has dropped columns in
    # place since 3.35.
    op.execute("ALTER TABLE therapist DROP COLUMN tags")
    connection = op.get_bind()
    for batch in _batches():
        rows = [
            {"therapist_id": tid, "kind": kind, "code": code}
            for tid, profile in batch
            for kind, code in dict.fromkeys(_codes(profile))
        ]
        if rows:
            connection.execute(_tag.insert(), rows)
