"""The request path of ``POST /api/v1/match`` taken apart: what each step costs beside the engine.

Run from the repository root: ``python bench/request_path.py`` (``--quick`` for a short run). It
loads a synthetic directory (10,000 therapists by default; ``--therapists 100000`` for the
issue's case) into a temporary SQLite database, builds the app as ``matcher serve`` does, and
times, in process and one request at a time over the same random intakes:

- the whole request through Flask's test client (WSGI, no socket);
- each step on its own: reading and validating the body (JSON and ``MatchRequestSchema``),
  authenticating the key (the per-process key cache), the rate limit (the whole request with the
  key's bucket counted, minus the same without that check), the revision check
  (``counters.read_all``), reading the intake for the engine (``normalise``), the engine
  (``match``), and serialising the answer;
- what is left (Flask, flask-smorest, the view) as the whole minus the steps.

The steps outside the engine are the same whatever the directory size (they see one intake and
ten results), so at 10,000 they measure the cost the issue asks to bring under the engine's
cost at 100,000 (bench/engine_scale.py). Medians of every request over ``--runs`` passes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.match_inprocess import random_intake
from matcher.app import create_app
from matcher.config import Settings
from matcher.core.scoring import match
from matcher.lab.synthetic import generate_profiles
from matcher.schemas.intake import normalise
from matcher.schemas.match import MatchRequestSchema
from matcher.services import directory
from matcher.services.keys import SCOPES, create_key
from matcher.services.matching import answer
from matcher.services.models import ensure_default
from matcher.storage import counters
from matcher.storage.database import Database
from matcher.storage.schema import upgrade


def median_ms(step: Callable[[Any], Any], items: list[Any], runs: int) -> float:
    """Median milliseconds of ``step`` over every item, ``runs`` passes."""
    times = []
    for _ in range(runs):
        for item in items:
            start = time.perf_counter()
            step(item)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> int:
    """Load a directory, build the app, time the steps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=10_000)
    parser.add_argument("--intakes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="2,400 therapists, 200 intakes, 3 runs"
    )
    args = parser.parse_args()
    if args.quick:
        args.therapists, args.intakes, args.runs = 2_400, 200, 3
    work = Path(tempfile.mkdtemp(prefix="matcher-path-"))
    try:
        url = f"sqlite:///{work / 'path.sqlite3'}"
        db = Database(url)
        upgrade(db)
        profiles = generate_profiles(args.therapists, seed=11)
        with db.transaction() as session:
            ensure_default(session)
            directory.import_profiles(session, profiles=directory.validate_records(profiles))
            _, secret = create_key(session, name="bench", scopes=SCOPES)
        db.dispose()
        rng = np.random.default_rng(5)
        bodies = [
            json.dumps({"intake": random_intake(rng, profiles), "limit": 10})
            for _ in range(args.intakes)
        ]
        del profiles
        os.environ["MATCHER_DATABASE_URL"] = url
        os.environ["MATCHER_RATE_LIMIT"] = "100000000 per minute"
        os.environ["MATCHER_LOG_LEVEL"] = "WARNING"
        app = create_app(Settings.from_env())
        services = app.extensions["matcher"]
        services.matching.snapshot()
        gc.collect()
        gc.freeze()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

        def whole(body: str) -> None:
            response = client.post("/api/v1/match", data=body, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)

        for body in bodies[:50]:
            whole(body)
        schema = MatchRequestSchema()
        requests = [schema.load(json.loads(body)) for body in bodies]
        snap = services.matching.snapshot()
        intakes = [normalise(dict(r["intake"])) for r in requests]
        outcomes = [match(snap.index, i, snap.weights, limit=10) for i in intakes]
        hooks = app.before_request_funcs[None]
        limit_check = next(h for h in hooks if h.__name__ == "_limit_per_key")
        figures: dict[str, float] = {}
        figures["whole request (test client)"] = median_ms(whole, bodies, args.runs)
        app.before_request_funcs[None] = [h for h in hooks if h is not limit_check]
        without_limit = median_ms(whole, bodies, args.runs)
        app.before_request_funcs[None] = hooks
        figures["validation (JSON + schema)"] = median_ms(
            lambda b: schema.load(json.loads(b)), bodies, args.runs
        )
        with app.app_context():
            figures["authentication (key cache)"] = median_ms(
                lambda _: services.keys.authenticate(services.db.session, secret=secret),
                bodies,
                args.runs,
            )
        figures["rate limit (with minus without)"] = max(
            0.0, figures["whole request (test client)"] - without_limit
        )
        reader = counters.RevisionReader(services.db.engine)  # as the match service reads
        figures["revision check"] = median_ms(lambda _: reader.read(), bodies, args.runs)
        figures["intake read for the engine"] = median_ms(
            lambda r: normalise(dict(r["intake"])), requests, args.runs
        )
        figures["engine (match)"] = median_ms(
            lambda i: match(snap.index, i, snap.weights, limit=10), intakes, args.runs
        )
        figures["serialisation (answer + JSON)"] = median_ms(
            lambda o: orjson.dumps(answer(o, snap.weights, None)),  # as the view writes it
            outcomes,
            args.runs,
        )
        steps = [k for k in figures if k not in ("whole request (test client)", "engine (match)")]
        outside = sum(figures[k] for k in steps)
        figures["the rest (Flask, flask-smorest, view)"] = max(
            0.0, figures["whole request (test client)"] - outside - figures["engine (match)"]
        )
        print(
            f"request path at {args.therapists:,} therapists, {len(bodies)} intakes x "
            f"{args.runs} runs (medians)"
        )
        for name, ms in figures.items():
            print(f"  {name:42} {ms:7.3f} ms")
        print(
            f"  outside the engine (steps + the rest)      "
            f"{outside + figures['the rest (Flask, flask-smorest, view)']:7.3f} ms"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
