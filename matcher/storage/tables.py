"""Table models. Alembic migrations under ``migrations/`` create and change them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from matcher.storage.types import JSONDocument, UTCDateTime, utcnow


class Therapist(SQLModel, table=True):
    """A therapist profile as submitted, with the columns that lists filter on."""

    __tablename__ = "therapist"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    name: str = Field(max_length=200)
    active: bool = Field(default=True, index=True)
    accepting_new_clients: bool
    capacity: int
    profile: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    # Directory revision of the last change: workers patch their matching index with every
    # row whose revision is newer than the one they loaded.
    revision: int = Field(index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    deactivated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class TherapistTag(SQLModel, table=True):
    """One searchable code of a profile (a jurisdiction, language or modality)."""

    __tablename__ = "therapist_tag"
    __table_args__ = (Index("ix_therapist_tag_kind_code", "kind", "code"),)

    therapist_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("therapist.id", ondelete="CASCADE"), primary_key=True
        )
    )
    kind: str = Field(sa_column=Column(String(16), primary_key=True))
    code: str = Field(sa_column=Column(String(32), primary_key=True))


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 digest is stored, never the key itself."""

    __tablename__ = "api_key"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(max_length=100)
    digest: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    scopes: list[str] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Counter(SQLModel, table=True):
    """A named monotonic counter (the directory revision, the model revision)."""

    __tablename__ = "counter"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    value: int = 0
