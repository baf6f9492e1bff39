"""History import: past referrals with their early-alliance ratings, all or nothing.

An organisation with past WAI-SR / SRS records starts learning on day one. Each imported referral
gets a recorded match of its own (the intake as sent, pseudonymous ``client_ref``) and the pair's
features computed now from its intake and the therapist's current profile. It is marked
``imported`` and has no logged propensity: learning may use it, off-policy evaluation does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from marshmallow import Schema, ValidationError
from sqlmodel import Session

from matcher.core.learning.instruments import score_items
from matcher.core.scoring import FEATURES, feature_values
from matcher.schemas.fields import UNPAIRED, field_path, flatten_errors, invalid_text
from matcher.schemas.intake import IntakeSchema, normalise
from matcher.schemas.outcomes import HistoryRecordSchema, RatingRequestSchema
from matcher.services.directory import ImportLimits, Report, Unreadable, refuse_problems
from matcher.services.errors import Invalid
from matcher.services.matching import MatchService
from matcher.services.organisations import DEFAULT_ORGANISATION
from matcher.services.recording import reduce_intake
from matcher.services.referrals import new_id
from matcher.storage import counters
from matcher.storage.tables import AllianceRating, MatchRecord, Referral

__all__ = ["import_history", "validate_history"]

# No record limit (the command line); refusals list the first 100 problems.
UNBOUNDED = ImportLimits()


def validate_history(
    records: Iterable[Any], *, limits: ImportLimits = UNBOUNDED
) -> list[dict[str, Any]]:
    """Validate every record (at most ``limits.max_records``), as the profile import does:
    refuse naming each bad record and field, the first ``limits.max_errors`` listed."""
    loader, intakes, ratings = HistoryRecordSchema(), IntakeSchema(), RatingRequestSchema()
    out: list[dict[str, Any]] = []
    invalid, unreadable = Report(limits.max_errors), Report(limits.max_errors)
    count = 0
    for index, record in enumerate(records):
        if limits.max_records is not None and index >= limits.max_records:
            raise Invalid(
                f"More than {limits.max_records} referrals in one import; nothing imported. "
                "Send them in several imports.",
                {"body": [f"At most {limits.max_records} referrals per import."]},
            )
        count += 1
        if isinstance(record, Unreadable):
            unreadable.add({f"line {record.line}": [record.message]})
            continue
        unusable = invalid_text(record, [index])
        if unusable is not None:
            invalid.add({unusable: [UNPAIRED]})
            continue
        errors: dict[str, list[str]] = {}
        try:
            row = loader.load(record)
        except ValidationError as err:
            invalid.add(flatten_errors(err.messages, [index]))
            continue
        found = _load(intakes, row["intake"], [index, "intake"], errors)
        loaded = [
            _load(ratings, rating, [index, "ratings", number], errors)
            for number, rating in enumerate(row["ratings"])
        ]
        if found is None or any(r is None for r in loaded):
            invalid.add(errors)
            continue
        row["intake"], row["ratings"] = found, loaded
        sessions = [(r["instrument"], r["session"]) for r in row["ratings"]]
        if len(set(sessions)) != len(sessions):
            errors[field_path([index, "ratings"])] = ["One rating per instrument and session."]
        if errors:
            invalid.add(errors)
        elif not (invalid.items or unreadable.items):
            out.append(row)  # kept only while the import can still succeed
    refuse_problems(unreadable, invalid, count, nothing="No referrals given.")
    return out


def _load(
    schema: Schema, value: Any, path: list[str | int], errors: dict[str, list[str]]
) -> dict[str, Any] | None:
    """One nested part loaded, or None with its errors named by full path."""
    try:
        loaded: dict[str, Any] = schema.load(value)
    except ValidationError as err:
        errors.update(flatten_errors(err.messages, path))
        return None
    return loaded


def import_history(
    session: Session,
    *,
    records: Sequence[dict[str, Any]],
    matching: MatchService,
    key_id: str,
    organisation_id: str = DEFAULT_ORGANISATION,
) -> dict[str, int]:
    """Store validated records in the caller's transaction: {"referrals": n, "ratings": m}.

    Refused (Invalid) naming each record whose therapist is not in the directory.
    """
    snap = matching.snapshot()
    unknown = {
        field_path([i, "therapist_id"]): ["No such therapist in the directory."]
        for i, r in enumerate(records)
        if r["therapist_id"] not in snap.index.rows
    }
    if unknown:
        raise Invalid(f"{len(unknown)} therapists are unknown; nothing imported.", unknown)
    revision = counters.bump(session, name=counters.ALLIANCE)
    stored_ratings = 0
    for record in records:
        intake = normalise(dict(record["intake"]))
        values = feature_values(snap.index, intake, [record["therapist_id"]])[0]
        features = dict(zip(FEATURES, values.tolist(), strict=True))
        match = MatchRecord(
            id=new_id("m"),
            created_at=record["referred_at"],
            key_id=key_id,
            client_ref=record["client_ref"],
            model_version=snap.weights.version,
            intake=reduce_intake(intake),
            limit=0,
            eligible=0,
            exploration=False,
            organisation_id=organisation_id,
        )
        session.add(match)
        session.flush()  # rows reference each other without ORM relationships: insert in order
        referral = Referral(
            id=new_id("r"),
            match_id=match.id,
            therapist_id=record["therapist_id"],
            model_version=snap.weights.version,
            created_at=record["referred_at"],
            key_id=key_id,
            features=features,
            score=float(snap.weights.intercept + values @ snap.weights.vector()),
            propensity=None,
            rank=None,
            imported=True,
            organisation_id=organisation_id,
        )
        session.add(referral)
        session.flush()
        for rating in record["ratings"]:
            scored = score_items(rating["instrument"], rating["items"])
            session.add(
                AllianceRating(
                    id=new_id("a"),
                    referral_id=referral.id,
                    instrument=rating["instrument"],
                    session=rating["session"],
                    items=[float(x) for x in rating["items"]],
                    total=scored.total,
                    subscales=scored.subscales,
                    score=scored.score,
                    flags=scored.flags,
                    created_at=record["referred_at"],
                    key_id=key_id,
                    revision=revision,
                )
            )
            stored_ratings += 1
        session.flush()
    return {"referrals": len(records), "ratings": stored_ratings}
