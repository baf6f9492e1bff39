"""Server time from submitting an intake to the results page, at 10,000 therapists.

Run from the repository root: ``python bench/coordinator_pages.py``. It builds a synthetic
directory in a temporary SQLite database (or ``--database-url``), signs a coordinator in, and
times, in process (no network), the intake POST (validation, match, recording, redirect) and the
results GET (rendering), for random intakes. Floor (issue 9): under 100 ms for both together.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher import vocabulary as vocab
from matcher.app import create_app
from matcher.cli import upgrade
from matcher.config import Settings
from matcher.lab.synthetic import generate_profiles
from matcher.services import directory, users
from matcher.web.coordinator.intake import DAY_PARTS, places

PASSWORD = "benchmark password 1"


def _form(rng: np.random.Generator) -> dict[str, object]:
    """A random intake as a coordinator would fill it."""
    jurisdiction = str(rng.choice(sorted(places())))
    city = places()[jurisdiction][int(rng.integers(len(places()[jurisdiction])))]
    times = [f"{d}-{p[0]}" for d in vocab.DAYS for p in DAY_PARTS if rng.random() < 0.2]
    return {
        "client_ref": f"B-{rng.integers(1_000_000)}",
        "jurisdiction": jurisdiction,
        "risk": "no",
        "concerns": list(rng.choice(sorted(vocab.CONCERNS), 2, replace=False)),
        "language_first": str(rng.choice(["en", "es", "fr", "zh", "en", "en"])),
        "formats": ["video", "in_person"] if rng.random() < 0.5 else ["video"],
        "place": f"{jurisdiction}|{city['name']}",
        "times": times,
        "max_fee": str(int(rng.integers(60, 220))),
        "therapist_genders": ["woman"] if rng.random() < 0.3 else [],
    }


def main() -> None:
    """Build, sign in, time intakes and result pages, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--therapists", type=int, default=10_000)
    parser.add_argument("--intakes", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="matcher-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app(Settings(database_url=url, secret_key="bench"), instance_path=folder)
    db = app.extensions["matcher"].db
    upgrade(db)
    profiles = generate_profiles(args.therapists, jurisdictions=sorted(places()))
    with db.transaction() as session:
        directory.import_profiles(session, profiles=directory.validate_records(profiles))
        users.create_user(session, email="bench@clinic.test", role="coordinator", password=PASSWORD)
    app.extensions["matcher"].matching.snapshot()  # the index is built once, before any request
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"email": "bench@clinic.test", "password": PASSWORD,
                                "csrf_token": token})  # fmt: skip
    page = client.get("/coordinator/intake").get_data(as_text=True)  # a token for this session
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    rng = np.random.default_rng(9)
    submit_ms, render_ms = [], []
    for _ in range(args.intakes):
        data = dict(_form(rng), csrf_token=token)
        started = time.perf_counter()
        answer = client.post("/coordinator/intake", data=data)
        middle = time.perf_counter()
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
        shown = client.get(answer.headers["Location"])
        ended = time.perf_counter()
        assert shown.status_code == 200
        submit_ms.append(1000 * (middle - started))
        render_ms.append(1000 * (ended - middle))
    total = [a + b for a, b in zip(submit_ms, render_ms, strict=True)]
    print(f"{args.therapists} therapists, {args.intakes} intakes, {db.engine.dialect.name}")
    for name, values in (("submit", submit_ms), ("results page", render_ms), ("both", total)):
        q = np.percentile(values, [50, 95, 99])
        print(f"{name:>13}: p50 {q[0]:6.1f} ms  p95 {q[1]:6.1f} ms  p99 {q[2]:6.1f} ms  "
              f"mean {statistics.fmean(values):6.1f} ms")  # fmt: skip
    print(f"floor: both under 100 ms at p50 -> {'met' if np.median(total) < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
