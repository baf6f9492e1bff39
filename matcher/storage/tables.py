"""Table models. Alembic migrations under ``migrations/`` create and change them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from matcher.storage.types import JSONDocument, UTCDateTime, utcnow

# The organisation every key, user and record belongs to unless told otherwise (migration 0008).
DEFAULT_ORGANISATION = "default"


def _organisation_column() -> Column[str]:
    """An owner column: the organisation a row belongs to (the default one when not given)."""
    return Column(
        String(32),
        ForeignKey("organisation.id"),
        nullable=False,
        index=True,
        default=DEFAULT_ORGANISATION,
        server_default=DEFAULT_ORGANISATION,
    )


class Organisation(SQLModel, table=True):
    """A service, clinic or network using matcher: its keys, people and client records."""

    __tablename__ = "organisation"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))


class Therapist(SQLModel, table=True):
    """A therapist profile as submitted, with the columns that lists filter on.

    ``capacity`` (open slots, which referrals take) is stored in its column only; ``profile``
    holds every other submitted field.
    """

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
    # When "accepting new clients" was last confirmed: a write saying so, the confirm endpoint
    # or the therapist's signed link. A decline for lack of space withdraws it (None).
    accepting_confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the therapist last answered a signed availability link: a link carries it, so a used
    # link (or any link from before an answer) no longer works.
    availability_answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # "Full until": not accepting until this date (the therapist's answer), then asked again.
    full_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The codes lists filter on, as "|kind:code|kind:code|" (storage.therapists.tag_text): one
    # column rather than a row per code, so a bulk import writes one row per profile.
    tags: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))

    def document(self) -> dict[str, Any]:
        """The profile as submitted, with the open slots left and when accepting was confirmed."""
        return dict(
            self.profile,
            capacity=self.capacity,
            accepting_confirmed_at=self.accepting_confirmed_at,
        )


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 digest is stored, never the key itself."""

    __tablename__ = "api_key"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(max_length=100)
    digest: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    scopes: list[str] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The key's own request limit ("6000 per minute"); None: MATCHER_RATE_LIMIT.
    rate_limit: str | None = Field(default=None, sa_column=Column(String(64)))
    # When a request last came with the key, noted at most once a minute per worker.
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    organisation_id: str = Field(default=DEFAULT_ORGANISATION, sa_column=_organisation_column())


class Counter(SQLModel, table=True):
    """A named monotonic counter (the directory revision, the model revision)."""

    __tablename__ = "counter"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    value: int = 0


class ModelVersion(SQLModel, table=True):
    """A weight set: the default, a manual edit or a learned candidate, with its history."""

    __tablename__ = "model_version"

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    source: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    note: str = Field(default="", sa_column=Column(String(1000), nullable=False, default=""))
    intercept: float
    weights: dict[str, float] = Field(sa_column=Column(JSONDocument, nullable=False))
    evaluation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDocument))
    activated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AuditEvent(SQLModel, table=True):
    """Who changed what, when and why: every model change and key issue."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    actor: str = Field(sa_column=Column(String(100), nullable=False))
    action: str = Field(sa_column=Column(String(40), nullable=False, index=True))
    subject: str = Field(sa_column=Column(String(100), nullable=False))
    note: str = Field(default="", sa_column=Column(String(1000), nullable=False, default=""))
    details: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))


class MatchRecord(SQLModel, table=True):
    """A match stored on request (``record: true``): the intake, pseudonymous, and its model."""

    __tablename__ = "match_record"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    key_id: str = Field(sa_column=Column(String(32), nullable=False))
    client_ref: str | None = Field(default=None, sa_column=Column(String(128), index=True))
    model_version: int = Field(
        sa_column=Column(Integer, ForeignKey("model_version.version"), nullable=False)
    )
    intake: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    limit: int
    eligible: int
    exploration: bool = False
    # Mean feature values over every eligible therapist: learning compares the chosen pair
    # with this, the client's alternatives, rather than across clients.
    feature_means: dict[str, float] | None = Field(default=None, sa_column=Column(JSONDocument))
    # The results as shown (ranked, with contributions and reasons), so a page can show them
    # again exactly; recorded matches from before migration 0006 have none.
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDocument))
    # The match a re-match replaces (after a weak early alliance), if any.
    rematch_of: str | None = Field(default=None, sa_column=Column(String(32)))
    organisation_id: str = Field(default=DEFAULT_ORGANISATION, sa_column=_organisation_column())
    # Counts per therapist group for the exposure audit: {"eligible": {group: n}, "top5":
    # {group: n}}; only counts, never who (matches before migration 0009 have none).
    exposure: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDocument))


class MatchCandidate(SQLModel, table=True):
    """A therapist considered in a recorded match: its features, score and chance of being shown."""

    __tablename__ = "match_candidate"

    match_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("match_record.id", ondelete="CASCADE"), primary_key=True
        )
    )
    therapist_id: str = Field(sa_column=Column(String(64), primary_key=True))
    rank: int | None = Field(default=None, sa_column=Column(Integer))
    score: float
    propensity: float
    features: dict[str, float] = Field(sa_column=Column(JSONDocument, nullable=False))
    # Its chance of being shown when the match explored (None: recorded before it was kept).
    exploration_propensity: float | None = Field(default=None, sa_column=Column(Float))


class Referral(SQLModel, table=True):
    """A client referred to a therapist from a recorded match; it takes one open slot."""

    __tablename__ = "referral"
    __table_args__ = (UniqueConstraint("match_id", "therapist_id", name="uq_referral_pair"),)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    match_id: str = Field(
        sa_column=Column(String(32), ForeignKey("match_record.id"), nullable=False, index=True)
    )
    therapist_id: str = Field(
        sa_column=Column(String(64), ForeignKey("therapist.id"), nullable=False, index=True)
    )
    model_version: int
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    key_id: str = Field(sa_column=Column(String(32), nullable=False))
    # The pair's features when the match was made: learning uses these, never recomputed ones.
    features: dict[str, float] = Field(sa_column=Column(JSONDocument, nullable=False))
    score: float
    # The chance the pair was shown under the logging policy; None for an imported past referral
    # (no policy logged it: learning may use it, off-policy evaluation must not).
    propensity: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    rank: int | None = Field(default=None, sa_column=Column(Integer))
    # The match's organisation, kept here so a referral is found within it without a join.
    organisation_id: str = Field(default=DEFAULT_ORGANISATION, sa_column=_organisation_column())
    # When and why the therapist declined the client ("no_space" counts against freshness).
    declined_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decline_reason: str | None = Field(default=None, sa_column=Column(String(16)))
    imported: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False, server_default=false()),
    )


class AllianceRating(SQLModel, table=True):
    """One early-alliance rating (WAI-SR or SRS, session 1-3): item scores and totals only."""

    __tablename__ = "alliance_rating"
    __table_args__ = (
        UniqueConstraint("referral_id", "instrument", "session", name="uq_rating_session"),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    referral_id: str = Field(
        sa_column=Column(String(32), ForeignKey("referral.id"), nullable=False, index=True)
    )
    instrument: str = Field(sa_column=Column(String(8), nullable=False))
    session: int
    items: list[float] = Field(sa_column=Column(JSONDocument, nullable=False))
    total: float
    subscales: dict[str, float] = Field(sa_column=Column(JSONDocument, nullable=False))
    score: float
    flags: dict[str, bool] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    key_id: str = Field(sa_column=Column(String(32), nullable=False))
    # Alliance revision when stored (ratings before migration 0004: none). Revisions commit in
    # order, so a worker reads only ratings newer than the last it has.
    revision: int | None = Field(default=None, index=True)


class User(SQLModel, table=True):
    """A person who signs in to the pages: a coordinator or an admin (never an API key)."""

    __tablename__ = "app_user"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    # argon2id: a slow password hash, so a stolen table does not give the passwords away.
    password_hash: str = Field(sa_column=Column(String(200), nullable=False))
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_login_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Raised at every sign-out: a session cookie carrying an older value no longer signs in.
    session_epoch: int = 0
    organisation_id: str = Field(default=DEFAULT_ORGANISATION, sa_column=_organisation_column())


class UrgentCase(SQLModel, table=True):
    """A client who may be at risk now: waits in the urgent queue until a person takes it."""

    __tablename__ = "urgent_case"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    match_id: str | None = Field(
        default=None, sa_column=Column(String(32), ForeignKey("match_record.id"), index=True)
    )
    client_ref: str | None = Field(default=None, sa_column=Column(String(128), index=True))
    jurisdiction: str = Field(sa_column=Column(String(16), nullable=False))
    risk: str = Field(sa_column=Column(String(16), nullable=False))  # "yes" or "not_sure"
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    taken_by: str | None = Field(default=None, sa_column=Column(String(100)))
    taken_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))
    action: str = Field(default="", sa_column=Column(String(1000), nullable=False, default=""))
    organisation_id: str = Field(default=DEFAULT_ORGANISATION, sa_column=_organisation_column())


class AlertResolution(SQLModel, table=True):
    """How a rupture alert on a referral was resolved (repaired, client left, other)."""

    __tablename__ = "alert_resolution"

    referral_id: str = Field(
        sa_column=Column(String(32), ForeignKey("referral.id"), primary_key=True)
    )
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    note: str = Field(default="", sa_column=Column(String(1000), nullable=False, default=""))
    resolved_by: str = Field(sa_column=Column(String(100), nullable=False))
    resolved_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
