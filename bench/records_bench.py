"""Alliance-record refresh benchmark: what a match pays after a rating arrives.

Run from the repository root: ``python bench/records_bench.py`` (``--help`` for sizes).
A temporary SQLite database gets a synthetic directory, one recorded match and referral per rated
referral, and 100,000 ratings over sessions 1-3 (bulk-inserted: the write path is not what is
measured), each at its own alliance revision as the service stores them. Then the matching
index's alliance source is timed as a worker runs it: the first call reads every rating and
referral; each later one follows one new rating (read by revision) and re-estimates every record.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.services.outcomes import AllianceRecordSource

from matcher.core.scoring import FEATURES
from matcher.lab.synthetic import generate_profiles
from matcher.services import directory
from matcher.services import models as model_versions
from matcher.storage import schema
from matcher.storage.database import Database
from matcher.storage.tables import AllianceRating, MatchRecord, Referral
from matcher.storage.types import utcnow


def fill(db: Database, ratings: int, therapists: int, seed: int) -> int:
    """Store ``therapists`` profiles and about ``ratings`` ratings; return the rating count."""
    rng = np.random.default_rng(seed)
    schema.upgrade(db)
    with db.transaction() as session:
        model_versions.ensure_default(session)
    profiles = generate_profiles(therapists, seed=seed, jurisdictions=("US-CA",))
    with db.transaction() as session:
        directory.import_profiles(session, profiles=directory.validate_records(profiles))
    ids = [p["id"] for p in profiles]
    referrals = ratings * 10 // 27  # 2.7 sessions rated per referral, as in the simulator
    now = utcnow()
    matches, refs, rated = [], [], []
    for r in range(referrals):
        features = dict(zip(FEATURES, rng.random(len(FEATURES)).round(4).tolist(), strict=True))
        matches.append(
            {"id": f"m-{r}", "created_at": now, "key_id": "bench", "model_version": 1,
             "intake": {"jurisdiction": "US-CA"}, "limit": 10, "eligible": 100}
        )  # fmt: skip
        refs.append(
            {"id": f"r-{r}", "match_id": f"m-{r}", "therapist_id": ids[int(rng.integers(len(ids)))],
             "model_version": 1, "created_at": now, "key_id": "bench", "features": features,
             "score": 0.6, "propensity": 1.0, "rank": 1}
        )  # fmt: skip
        instrument = "srs" if rng.random() < 0.2 else "wai-sr"
        for session in range(1, 2 + int(rng.random() < 0.85) + int(rng.random() < 0.85)):
            rated.append(
                {"id": f"a-{r}-{session}", "referral_id": f"r-{r}", "instrument": instrument,
                 "session": session, "items": [], "total": 0.0, "subscales": {},
                 "score": float(rng.beta(6, 1.5)), "flags": {}, "created_at": now,
                 "key_id": "bench", "revision": len(rated) + 1}
            )  # fmt: skip
    with db.transaction() as session:
        for table, rows in ((MatchRecord, matches), (Referral, refs), (AllianceRating, rated)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start : start + 5000])
    return len(rated)


def add_rating(session: Session, *, revision: int) -> None:
    """One more rating for an existing referral, as if just stored."""
    session.execute(
        insert(AllianceRating),
        [{"id": f"a-new-{revision}", "referral_id": "r-0", "instrument": "wai-sr",
          "session": 100 + revision, "items": [], "total": 0.0, "subscales": {}, "score": 0.9,
          "flags": {}, "created_at": utcnow(), "key_id": "bench", "revision": revision}],
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Fill a temporary database and time the alliance source."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--therapists", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="matcher-records-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'records.sqlite3'}")
        try:
            count = fill(db, args.ratings, args.therapists, args.seed)
            source = AllianceRecordSource()
            with db.session() as session:
                weights = model_versions.active_weights(session)
                times = []
                for n in range(1 + args.repeat):
                    if n:
                        add_rating(session, revision=count + n)
                    start = time.perf_counter()
                    records = source(session, weights)
                    times.append(time.perf_counter() - start)
        finally:
            db.close()
    print(f"{count:,} ratings, {len(records):,} therapists with a record (SQLite)")
    print(f"first refresh (reads every rating and referral): {times[0] * 1000:.0f} ms")
    print(f"refresh after one new rating, median of {args.repeat}: "
          f"{float(np.median(times[1:])) * 1000:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
