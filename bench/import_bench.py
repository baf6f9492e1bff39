"""Bulk import: profiles/s (CLI and API), the write lock, other writers during it, bounds, pick-up.

Run from the repository root: ``python bench/import_bench.py [--count 100000]``. It generates a
synthetic directory (matcher/lab/synthetic), then on SQLite and, when ``--postgres URL`` is given,
on PostgreSQL (the database is emptied and migrated: give it one of its own):

- ``matcher profiles import FILE`` (a subprocess) at ``--count`` profiles, and the time its write
  transaction held the lock (the command prints it);
- the API (Flask's test client, in process) at ``--count`` profiles sent as NDJSON in chunks of
  5,000;
- on SQLite, writers (one process, one small write transaction after another, as a profile PUT
  does) while ``matcher profiles import`` writes ``--writers-count`` (60,000) profiles: their p50,
  p99, max and failures ("database is locked");
- how long the match service's next snapshot (what each worker does on its next match after the
  directory revision moves) takes to pick up an imported chunk of 5,000;
- the bounded inputs of issue 11: 1,000,000 lines of ``{}``, 50,000 lines of ``{}``, 60 MiB of
  blank lines: time and answer size.

Wall times on a shared machine are noisy: compare runs made under the same load.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from matcher.app import create_app
from matcher.config import Settings
from matcher.lab.synthetic import generate_profiles, write_ndjson
from matcher.services import directory
from matcher.services.keys import create_key
from matcher.services.matching import MatchService
from matcher.storage.database import Database
from matcher.storage.schema import upgrade

CHUNK = 5_000
GOAL_CLI_S = 5.0  # 100,000 profiles (issue 14)
GOAL_API_S = 10.0
# CPU seconds of the last CLI import (the command and its workers) and API import (this process):
# steadier than wall times on a shared machine. The database server's CPU is in neither.
CPU: dict[str, float] = {}


def _fresh(url: str) -> None:
    """An empty, migrated database at ``url``."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.close()
    db = Database(url)
    upgrade(db)
    db.close()


def _children_cpu() -> float:
    """CPU seconds of the child processes waited for so far (their own children included)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def cli_import(url: str, path: Path) -> tuple[float, float]:
    """Wall time of ``matcher profiles import`` and the time its write transaction took."""
    env = dict(os.environ, MATCHER_DATABASE_URL=url)
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "profiles", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    CPU["cli"] = _children_cpu() - cpu
    held = re.search(r"Wrote them in ([0-9.]+) s", done.stdout)
    return wall, float(held.group(1)) if held else float("nan")


def api_import(url: str, lines: list[bytes], tmp: Path) -> float:
    """Wall time of importing ``lines`` through the API in NDJSON chunks of 5,000."""
    app = create_app(Settings(database_url=url, secret_key="bench"), instance_path=str(tmp))
    db: Database = app.extensions["matcher"].db
    with db.transaction() as session:
        _, secret = create_key(session, name="bench", scopes=("profiles",))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    cpu = time.process_time()
    started = time.perf_counter()
    for start in range(0, len(lines), CHUNK):
        body = b"".join(lines[start : start + CHUNK])
        answer = client.post(
            "/api/v1/therapists/import",
            data=body,
            content_type="application/x-ndjson",
            headers=headers,
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    wall = time.perf_counter() - started
    CPU["api"] = time.process_time() - cpu
    db.close()
    return wall


def _writer(url: str, profile: dict[str, Any], stop: Any, out: Any) -> None:
    """Write one small transaction after another until told to stop; send the latencies."""
    # Forked from this process, a writer holds every generated profile: its collector would
    # rescan them all (pauses of 0.2-0.6 s, both writers at once), which no service process does.
    gc.freeze()
    db = Database(url)
    latencies: list[float] = []
    failures: list[str] = []
    n = 0
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        try:
            with db.transaction() as session:
                directory.upsert_profile(session, profile=dict(profile, id=f"w-{n % 50}"))
        except Exception as err:  # every failure is a figure here
            failures.append(type(err).__name__ + ": " + str(err)[:80])
        latencies.append(time.perf_counter() - started)
        time.sleep(0.02)
    db.close()
    out.put((latencies, failures))


def writers_during_import(url: str, path: Path, profile: dict[str, Any]) -> dict[str, Any]:
    """Other writers' latency while ``matcher profiles import`` writes ``path`` on SQLite."""
    ctx = multiprocessing.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(url, profile, stop, out)) for _ in range(2)]
    for writer in writers:
        writer.start()
    wall, held = cli_import(url, path)
    stop.set()
    latencies: list[float] = []
    failures: list[str] = []
    for _ in writers:
        got, failed = out.get()
        latencies += got
        failures += failed
    for writer in writers:
        writer.join()
    ordered = sorted(latencies)
    return {
        "import_s": wall,
        "lock_s": held,
        "writes": len(ordered),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max_ms": 1000 * ordered[-1],
        "failures": len(failures),
        "failure_kinds": sorted(set(failures))[:3],
    }


def pickup(url: str, lines: list[bytes], base: int) -> float:
    """Seconds the match service's next snapshot takes after a chunk of 5,000 is imported."""
    db = Database(url)
    with db.transaction() as session:
        profiles = directory.validate_records(json.loads(line) for line in lines[:base])
        directory.import_profiles(session, profiles=profiles)
    service = MatchService(db)
    service.snapshot()
    chunk = directory.validate_records(json.loads(line) for line in lines[base : base + CHUNK])
    with db.transaction() as session:
        directory.import_profiles(session, profiles=chunk)
    started = time.perf_counter()
    service.snapshot()
    took = time.perf_counter() - started
    db.close()
    return took


def bounded_inputs(url: str, tmp: Path) -> list[tuple[str, float, int, int]]:
    """The issue's unbounded inputs: (what, seconds, status, answer bytes)."""
    app = create_app(Settings(database_url=url, secret_key="bench"), instance_path=str(tmp))
    db: Database = app.extensions["matcher"].db
    with db.transaction() as session:
        _, secret = create_key(session, name="bounds", scopes=("profiles",))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    cases = [
        ("1,000,000 lines of {}", b"{}\n" * 1_000_000),
        ("50,000 lines of {}", b"{}\n" * 50_000),
        ("60 MiB of blank lines", b"\n" * (60 << 20)),
    ]
    found = []
    for what, body in cases:
        started = time.perf_counter()
        answer = client.post(
            "/api/v1/therapists/import",
            data=body,
            content_type="application/x-ndjson",
            headers=headers,
        )
        found.append((what, time.perf_counter() - started, answer.status_code, len(answer.data)))
    db.close()
    return found


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--writers-count", type=int, default=60_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL of a database of the bench's own")
    parser.add_argument("--skip", nargs="*", default=[], help="cli api writers pickup bounds")
    args = parser.parse_args()
    total = max(args.count, args.writers_count) + CHUNK
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        started = time.perf_counter()
        profiles = generate_profiles(total, seed=20261130)
        write_ndjson(profiles, tmp / "all.ndjson")
        lines = (tmp / "all.ndjson").read_bytes().splitlines(keepends=True)
        (tmp / "count.ndjson").write_bytes(b"".join(lines[: args.count]))
        (tmp / "writers.ndjson").write_bytes(b"".join(lines[: args.writers_count]))
        print(f"generated {total:,} profiles in {time.perf_counter() - started:.1f} s")
        urls = {"SQLite": f"sqlite:///{tmp / 'bench.sqlite3'}"}
        if args.postgres:
            urls["PostgreSQL"] = args.postgres
        for label, url in urls.items():
            if "cli" not in args.skip:
                _fresh(url)
                wall, held = cli_import(url, tmp / "count.ndjson")
                goal = "met" if wall <= GOAL_CLI_S * args.count / 100_000 else "not met"
                print(
                    f"{label} CLI {args.count:,}: {wall:.1f} s, {args.count / wall:,.0f} "
                    f"profiles/s, write transaction {held:.2f} s, CPU {CPU['cli']:.1f} s "
                    f"(goal 20,000/s: {goal})"
                )
            if "api" not in args.skip:
                _fresh(url)
                wall = api_import(url, lines[: args.count], tmp / f"api-{label}")
                goal = "met" if wall <= GOAL_API_S * args.count / 100_000 else "not met"
                print(
                    f"{label} API {args.count:,} in chunks of {CHUNK:,}: {wall:.1f} s, "
                    f"{args.count / wall:,.0f} profiles/s, CPU {CPU['api']:.1f} s "
                    f"(goal 10,000/s: {goal})"
                )
            if "pickup" not in args.skip:
                _fresh(url)
                took = pickup(url, lines, base=min(args.count, 20_000))
                print(f"{label} next snapshot after a 5,000 import: {took * 1000:.0f} ms")
        if "writers" not in args.skip:
            url = urls["SQLite"]
            _fresh(url)
            seen = writers_during_import(url, tmp / "writers.ndjson", json.loads(lines[-1]))
            print(
                f"SQLite writers during a {args.writers_count:,} CLI import "
                f"({seen['import_s']:.1f} s, write transaction {seen['lock_s']:.2f} s): "
                f"{seen['writes']} writes, p50 {seen['p50_ms']:.0f} ms, p99 "
                f"{seen['p99_ms']:.0f} ms, max {seen['max_ms']:.0f} ms, {seen['failures']} "
                f"failed {seen['failure_kinds']} (goal p99 < 1,000 ms, 0 failed)"
            )
        if "bounds" not in args.skip:
            url = urls["SQLite"]
            _fresh(url)
            for what, took, status, size in bounded_inputs(url, tmp / "bounds"):
                print(f"API {what}: {status} in {took:.1f} s, answer {size:,} bytes")


if __name__ == "__main__":
    main()
