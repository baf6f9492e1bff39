"""Playing the world through the service: recorded matches, referrals and ratings, as in real use.

Nothing here writes a table: the directory goes in through ``directory.import_profiles``, matches
through ``recording.record_match``, referrals through ``referrals.refer`` and ratings through
``referrals.rate``, exactly as the API does, one transaction each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from matcher.lab.simulation.world import SIMULATED_NOW, Course, World, course
from matcher.schemas.intake import IntakeSchema
from matcher.services import directory, recording, referrals
from matcher.services import models as model_versions
from matcher.services.alliance import AllianceRecordSource
from matcher.services.errors import Conflict
from matcher.services.matching import MatchService
from matcher.storage import schema
from matcher.storage.database import Database
from matcher.storage.tables import ModelVersion, Referral, Therapist

KEY_ID = "simulator"  # stands in for the API key id on every recorded match, referral, rating
SHOWN = 10  # results shown per match, as a directory page would

Progress = Callable[[str, int, int], None]


class DatabaseNotEmpty(ValueError):
    """The simulation fills a database of its own; this one already holds data."""


def open_service(db: Database, profiles: Sequence[dict[str, Any]]) -> MatchService:
    """Migrate, store version 1, import the directory, and start a match service on it."""
    schema.upgrade(db)
    with db.session() as session:
        therapists = session.execute(select(func.count()).select_from(Therapist)).scalar_one()
        models = session.execute(select(func.count()).select_from(ModelVersion)).scalar_one()
        referrals = session.execute(select(func.count()).select_from(Referral)).scalar_one()
    if therapists or referrals or models > 1:
        where = db.engine.url.render_as_string(hide_password=True)
        raise DatabaseNotEmpty(
            f"{where} already holds {therapists} therapists, {referrals} referrals and "
            f"{models} model versions; the simulation needs an empty database."
        )
    with db.transaction() as session:
        model_versions.ensure_default(session)
        directory.import_profiles(session, profiles=directory.validate_records(profiles))
    return MatchService(db, weights=model_versions.active_weights, alliance=AllianceRecordSource())


def try_order(rng: np.random.Generator, shown: int) -> list[int]:
    """Positions in the order a client tries them: one drawn with P ~ 1/rank, then by rank.

    Assumption (position bias, no figure in research.md): people mostly take a top result.
    """
    p = 1.0 / np.arange(1, shown + 1)
    first = int(rng.choice(shown, p=p / p.sum()))
    return [first, *(i for i in range(shown) if i != first)]


@dataclass(frozen=True)
class PlayCounts:
    """What happened while playing: matches, referrals, ratings, dropouts and how ratings look."""

    clients: int
    explored: int
    no_eligible: int
    referrals: int
    refused: int
    unreferred: int
    ratings: int
    ratings_wai_sr: int
    ratings_srs: int
    dropouts_after_1: int
    dropouts_after_2: int
    completed: int
    wai_items_4_or_5: float  # share of WAI-SR items rated 4 or 5 (the ceiling)
    mean_score_wai_sr: float | None
    mean_score_srs: float | None
    dropout_d_latent: float | None  # completers minus dropouts, session-1 latent alliance
    dropout_d_rated: float | None  # the same on session-1 ratings


@dataclass
class _Tally:
    explored: int = 0
    no_eligible: int = 0
    referrals: int = 0
    refused: int = 0
    unreferred: int = 0
    dropped: list[int] = field(default_factory=lambda: [0, 0])
    completed: int = 0
    scores: dict[str, list[float]] = field(default_factory=lambda: {"wai-sr": [], "srs": []})
    wai_items: list[float] = field(default_factory=list)
    first_latent: list[float] = field(default_factory=list)
    first_rated: list[float] = field(default_factory=list)
    left: list[bool] = field(default_factory=list)


def _cohen_d(values: Sequence[float], left: Sequence[bool]) -> float | None:
    """Stayers' mean minus leavers' mean over the pooled SD."""
    x, out = np.asarray(values), np.asarray(left, dtype=bool)
    stay, gone = x[~out], x[out]
    if len(stay) < 2 or len(gone) < 2:
        return None
    pooled = ((len(stay) - 1) * stay.var(ddof=1) + (len(gone) - 1) * gone.var(ddof=1)) / (
        len(x) - 2
    )
    return float((stay.mean() - gone.mean()) / math.sqrt(pooled)) if pooled > 0 else None


def play(
    service: MatchService,
    world: World,
    *,
    referrals: int,
    exploration: float,
    clients: np.random.Generator,
    exploration_policy: str = "uniform",
    choices: np.random.Generator,
    policy: np.random.Generator,
    progress: Progress | None = None,
) -> PlayCounts:
    """One new client per referral: match, record, refer, then rate sessions until dropout."""
    db, loader, tally = service.db, IntakeSchema(), _Tally()
    for number in range(1, referrals + 1):
        client = world.client(clients)
        intake: dict[str, Any] = loader.load(client.intake)
        with db.transaction() as session:
            recorded, match_id = recording.record_match(
                session,
                matching=service,
                intake=intake,
                limit=SHOWN,
                client_ref=client.ref,
                key_id=KEY_ID,
                exploration=exploration,
                exploration_policy=exploration_policy,
                rng=policy,
                now=SIMULATED_NOW,
            )
        outcome = recorded.outcome
        tally.explored += recorded.explored
        referral = _refer(db, match_id, [r.therapist_id for r in outcome.results], choices, tally)
        if referral is not None:
            expected = world.alliance(client, referral.therapist_id)
            _rate(db, referral.id, course(choices, client, expected, world.truth), tally)
        if progress is not None:
            progress("referrals", number, referrals)
    return _counts(referrals, tally)


def _refer(
    db: Database,
    match_id: str,
    shown: list[str],
    rng: np.random.Generator,
    tally: _Tally,
) -> Referral | None:
    """Refer to the result the client picks; on a 409 (no slot) try the next one shown."""
    if not shown:
        tally.no_eligible += 1
        return None
    for position in try_order(rng, len(shown)):
        try:
            with db.transaction() as session:
                referral = referrals.refer(
                    session, match_id=match_id, therapist_id=shown[position], key_id=KEY_ID
                )
        except Conflict:  # no slot left: the client tries the next one shown
            tally.refused += 1
            continue
        tally.referrals += 1
        return referral
    tally.unreferred += 1
    return None


def _rate(db: Database, referral_id: str, went: Course, tally: _Tally) -> None:
    """Store each session's rating through the service, as a coordinator would enter it."""
    for session, instrument, items in went.ratings:
        with db.transaction() as transaction:
            rating, _created = referrals.rate(
                transaction,
                referral_id=referral_id,
                instrument=instrument,
                session_number=session,
                items=items,
                key_id=KEY_ID,
            )
        tally.scores[instrument].append(rating.score)
        if instrument == "wai-sr":
            tally.wai_items.extend(items)
        if session == 1:
            tally.first_rated.append(rating.score)
    tally.first_latent.append(went.latent[0])
    tally.left.append(went.dropped_after is not None)
    if went.dropped_after is None:
        tally.completed += 1
    else:
        tally.dropped[went.dropped_after - 1] += 1


def _counts(clients: int, tally: _Tally) -> PlayCounts:
    wai, srs = tally.scores["wai-sr"], tally.scores["srs"]
    items = np.asarray(tally.wai_items)
    return PlayCounts(
        clients=clients,
        explored=tally.explored,
        no_eligible=tally.no_eligible,
        referrals=tally.referrals,
        refused=tally.refused,
        unreferred=tally.unreferred,
        ratings=len(wai) + len(srs),
        ratings_wai_sr=len(wai),
        ratings_srs=len(srs),
        dropouts_after_1=tally.dropped[0],
        dropouts_after_2=tally.dropped[1],
        completed=tally.completed,
        wai_items_4_or_5=float((items >= 4).mean()) if len(items) else 0.0,
        mean_score_wai_sr=float(np.mean(wai)) if wai else None,
        mean_score_srs=float(np.mean(srs)) if srs else None,
        dropout_d_latent=_cohen_d(tally.first_latent, tally.left),
        dropout_d_rated=_cohen_d(tally.first_rated, tally.left),
    )
