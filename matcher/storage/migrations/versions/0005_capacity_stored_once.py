"""Capacity stored once: in the therapist.capacity column, no longer in the profile document.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop ``capacity`` from every stored profile document; the column is the one copy."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("UPDATE therapist SET profile = profile - 'capacity'"))
    else:
        op.execute(sa.text("UPDATE therapist SET profile = json_remove(profile, '$.capacity')"))


def downgrade() -> None:
    """Copy the column back into each profile document."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            sa.text(
                "UPDATE therapist SET profile = profile || jsonb_build_object('capacity', capacity)"
            )
        )
    else:
        op.execute(
            sa.text("UPDATE therapist SET profile = json_set(profile, '$.capacity', capacity)")
        )
