"""A recorded match (``record: true``) taken apart, in process, on SQLite and PostgreSQL.

Run from the repository root: ``python bench/recorded_path.py [--therapists 100000]
[--postgres URL] [--keep]``. It loads the wide-pool directory of bench/http_single.py (five
jurisdictions) into a SQLite file of its own and, given ``--postgres``, into that database (it
is emptied; ``--keep`` reuses a directory an earlier run loaded, so that two checkouts can take
turns on the same data), then times over the same wide intakes, one after another:

- ``match_for_record``: the match service's work before the write (engine, exploration draw,
  the kept candidates' features, the exposure audit);
- ``record_match`` in a write transaction, whole, and its parts: the pool's checkout (with
  its liveness ping on PostgreSQL), ``record_match`` (the same work plus the match row and its
  candidates written: the difference is the write before the commit), and the commit;
- the whole request through Flask's WSGI app (no socket): what ``POST /api/v1/match`` with
  ``record: true`` costs in the app, beside the same request with ``record: false``.

Each figure is the median over every request of ``--runs`` passes. Issue 14's floor (recorded
match p50 <= 10 ms at 100,000, over HTTP) is measured by bench/http_single.py; this bench says
where that time goes.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_single import load
from bench.request_path import median_ms
from matcher.app import create_app
from matcher.config import Settings
from matcher.services import recording


def loaded(url: str, therapists: int, keep: bool, work: Path) -> tuple[str, list[dict[str, Any]]]:
    """An API key and the intakes, loading the directory unless ``keep`` finds one."""
    loaded_as = f"{url} {therapists}".encode()  # the same database and directory size
    saved = work / f"{hashlib.sha256(loaded_as).hexdigest()[:16]}.json"
    if keep and saved.exists():
        key, intakes = json.loads(saved.read_text())
        return str(key), list(intakes)
    key, intakes = load(url, therapists)
    saved.write_text(json.dumps([key, intakes]))
    return key, intakes


def measure(label: str, url: str, args: argparse.Namespace, work: Path) -> None:
    """Time the recorded path's parts on the database at ``url``."""
    key, intakes = loaded(url, args.therapists, args.keep, work)
    intakes = intakes[: args.intakes]
    os.environ["MATCHER_DATABASE_URL"] = url
    os.environ["MATCHER_RATE_LIMIT"] = "100000000 per minute"
    os.environ["MATCHER_LOG_LEVEL"] = "WARNING"
    app = create_app(Settings.from_env())
    services = app.extensions["matcher"]
    matching = services.matching
    matching.snapshot()
    gc.collect()
    gc.freeze()
    rng = np.random.default_rng(3)

    def prepared(intake: dict[str, Any]) -> None:
        matching.match_for_record(intake, limit=10, exploration=0.1, rng=rng)

    parts: dict[str, list[float]] = {"checkout": [], "record_match": [], "commit": []}

    def written(intake: dict[str, Any]) -> None:
        with services.db.session() as session:
            started = time.perf_counter()
            transaction = session.begin()
            session.connection()  # the pool's checkout (and its liveness ping on PostgreSQL)
            checked_out = time.perf_counter()
            recording.record_match(
                session, matching=matching, intake=intake, limit=10, client_ref=None,
                key_id="bench", exploration=0.1, rng=rng,
            )  # fmt: skip
            recorded = time.perf_counter()
            transaction.commit()
            committed = time.perf_counter()
        parts["checkout"].append(checked_out - started)
        parts["record_match"].append(recorded - checked_out)
        parts["commit"].append(committed - recorded)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    bodies = {
        record: [json.dumps({"intake": i, "limit": 10, "record": record}) for i in intakes]
        for record in (False, True)
    }

    def requested(body: str) -> None:
        response = client.post("/api/v1/match", data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    for body in bodies[True][:50]:
        requested(body)
    figures = {
        "match_for_record": median_ms(prepared, intakes, args.runs),
        "record_match + commit": median_ms(written, intakes, args.runs),
        "request, record: false": median_ms(requested, bodies[False], args.runs),
        "request, record: true": median_ms(requested, bodies[True], args.runs),
    }
    for name, seconds in parts.items():
        figures[f"  of which {name}"] = 1000 * statistics.median(seconds)
    figures["  record_match - match_for_record"] = (
        figures["  of which record_match"] - figures["match_for_record"]
    )
    print(f"{label}: {args.therapists:,} therapists, {len(intakes)} wide intakes x {args.runs}")
    for name, ms in figures.items():
        print(f"  {name:34} {ms:7.3f} ms")
    gc.unfreeze()
    services.db.close()


def main() -> int:
    """Load (or reuse) the directories and time the recorded path on each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--intakes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL of the bench's own (emptied)")
    parser.add_argument("--keep", action="store_true", help="reuse an earlier run's directory")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "matcher-recorded-path"
    work.mkdir(exist_ok=True)
    if not args.skip_sqlite:
        measure("SQLite", f"sqlite:///{work / 'recorded.sqlite3'}", args, work)
    if args.postgres:
        measure("PostgreSQL", args.postgres, args, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
