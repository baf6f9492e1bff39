"""One keep-alive client over HTTP at 100,000 therapists: match, recorded match and /healthz.

Run from the repository root: ``python bench/http_single.py [--therapists 100000]
[--postgres URL]`` (needs ``wrk``: ``apt-get install wrk``). For SQLite and, given ``--postgres``,
PostgreSQL (a database of the bench's own: it is emptied), it loads a synthetic directory over
five jurisdictions (wide pools, as bench/engine_scale.py's), starts ``matcher serve --workers 2``
and drives it with one wrk connection, one request after another:

- ``GET /healthz``: what any request costs (the floor compares match against it);
- ``POST /api/v1/match`` with ``record: false``, then with ``record: true`` (a recorded match
  writes its match and candidates in one transaction).

Issue 14's floors: match p50 <= 5 ms and <= 3x the ``/healthz`` p50 of the same run; recorded
match p50 <= 10 ms on SQLite and on PostgreSQL. Each figure is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine_scale import WIDE_JURISDICTIONS, wide_intake
from bench.http_match import run_wrk, start_server, stop_server
from bench.import_bench import _fresh
from matcher.lab.synthetic import generate_profiles
from matcher.services import directory
from matcher.services.keys import SCOPES, create_key
from matcher.services.models import ensure_default
from matcher.storage.database import Database

WRK = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("%(method)s", "%(path)s", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(key)s",
  }, bodies[i])
end
"""
FLOOR_MATCH_MS = 5.0
FLOOR_RATIO = 3.0
FLOOR_RECORDED_MS = 10.0


def load(url: str, therapists: int) -> tuple[str, list[dict[str, object]]]:
    """The directory loaded through the import service; an API key and intakes to send."""
    _fresh(url)
    db = Database(url)
    with db.transaction() as session:
        ensure_default(session)
    profiles = generate_profiles(therapists, seed=14, jurisdictions=WIDE_JURISDICTIONS)
    started = time.perf_counter()
    batch = directory.prepare_import(directory.validate_records(profiles))
    with db.transaction() as session:
        directory.import_profiles(session, profiles=batch)
    print(f"  imported {therapists:,} profiles in {time.perf_counter() - started:.1f} s")
    with db.transaction() as session:
        _, key = create_key(session, name="bench", scopes=SCOPES)
    db.close()
    rng = np.random.default_rng(8)
    return key, [wide_intake(rng, profiles[:20_000]) for _ in range(500)]


def script(work: Path, name: str, key: str, method: str, path: str, bodies: list[str]) -> Path:
    """A wrk script sending ``bodies`` in turn."""
    lines = work / f"{name}.ndjson"
    lines.write_text("\n".join(bodies) + "\n")
    out = work / f"{name}.lua"
    out.write_text(WRK % {"bodies": lines, "key": key, "method": method, "path": path})
    return out


def group_cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by every live process in a process group."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(label: str, url: str, args: argparse.Namespace, work: Path) -> None:
    """Serve ``url`` and print each request kind's p50 and p99 (medians over the runs)."""
    print(f"{label}:")
    key, intakes = load(url, args.therapists)
    scripts = {
        "/healthz": script(work, "health", key, "GET", "/healthz", [""]),
        "match": script(
            work,
            "match",
            key,
            "POST",
            "/api/v1/match",
            [json.dumps({"intake": i, "limit": 10}) for i in intakes],
        ),
        "match, record: true": script(
            work,
            "record",
            key,
            "POST",
            "/api/v1/match",
            [json.dumps({"intake": i, "limit": 10, "record": True}) for i in intakes],
        ),
    }
    server, base = start_server(url, scripts["match"], args.workers)
    try:
        found: dict[str, list[tuple[float, float]]] = {name: [] for name in scripts}
        cpu: dict[str, list[float]] = {name: [] for name in scripts}
        for _ in range(args.runs):
            for name, lua in scripts.items():
                before = group_cpu_seconds(server.pid)
                seen = run_wrk(base, lua, 1, args.duration)
                used = group_cpu_seconds(server.pid) - before
                if seen.non_2xx or seen.socket_errors:
                    raise SystemExit(f"{name}: {seen.non_2xx} non-2xx, {seen.socket_errors} errors")
                found[name].append((seen.p50, seen.p99))
                cpu[name].append(1000 * used / max(seen.requests, 1))
    finally:
        stop_server(server)
    p50 = {name: statistics.median(p for p, _ in runs) for name, runs in found.items()}
    for name, runs in found.items():
        p99 = statistics.median(q for _, q in runs)
        print(
            f"  {name:22} p50 {p50[name]:6.2f} ms  p99 {p99:6.2f} ms  "
            f"server CPU {statistics.median(cpu[name]):5.2f} ms a request"
        )
    ratio = p50["match"] / p50["/healthz"]
    met = p50["match"] <= FLOOR_MATCH_MS and ratio <= FLOOR_RATIO
    print(
        f"  match p50 {p50['match']:.2f} ms, {ratio:.1f}x /healthz "
        f"(floors {FLOOR_MATCH_MS:g} ms, {FLOOR_RATIO:g}x): {'met' if met else 'NOT met'}"
    )
    recorded = p50["match, record: true"]
    verdict = "met" if recorded <= FLOOR_RECORDED_MS else "NOT met"
    print(f"  recorded match p50 {recorded:.2f} ms (floor {FLOOR_RECORDED_MS:g} ms): {verdict}")


def main() -> None:
    """Load, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run and kind")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL of a database of the bench's own")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        measure("SQLite", f"sqlite:///{work / 'bench.sqlite3'}", args, work)
        if args.postgres:
            measure("PostgreSQL", args.postgres, args, work)


if __name__ == "__main__":
    main()
