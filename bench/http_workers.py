"""Worker classes compared: ``POST /api/v1/match`` under sync and gthread gunicorn workers.

Run from the repository root: ``python bench/http_workers.py`` (needs ``wrk``: ``apt-get install
wrk``). It builds one synthetic directory (10,000 therapists by default), then for each candidate
configuration starts ``matcher serve --workers 2`` and drives it on loopback with wrk's keep-alive
connections at 4 and 16 connections. Configurations take turns over several rounds, so load from
other processes on the machine falls on both alike; the table gives the median of the rounds.
Alongside throughput and latency it reports the workers' CPU time per request (less sensitive to
other load on the machine than throughput) and how the workers shared it: the busiest worker's
share of the CPU time all workers used (50% is an even split between two workers).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_match import Load, prepare, run_wrk, start_server, stop_server

TICKS = os.sysconf("SC_CLK_TCK")
# What ``matcher serve`` is told through Settings; gunicorn runs gthread whenever threads > 1.
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "sync": {"MATCHER_WORKER_CLASS": "sync", "MATCHER_THREADS": "1"},
    "gthread-4": {"MATCHER_WORKER_CLASS": "gthread", "MATCHER_THREADS": "4"},
    "gthread-2": {"MATCHER_WORKER_CLASS": "gthread", "MATCHER_THREADS": "2"},
}


@dataclass(frozen=True)
class Measured:
    """One level of load on one configuration, with how the workers shared the CPU."""

    configuration: str
    load: Load
    busiest_share: float
    cpu_per_request: float


def _workers(pid: int) -> list[int]:
    """The gunicorn workers: children of the master process."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _cpu_ticks(pid: int) -> int:
    """User plus system CPU time of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _measure(
    name: str, url: str, script: Path, workers: int, levels: list[int], duration: int, log: Path
) -> list[Measured]:
    """Serve with one configuration and load it at each level."""
    server, base = start_server(url, script, workers, env=CONFIGURATIONS[name], log=log)
    try:
        ran = re.search(r"Using worker: (\S+)", log.read_text())
        print(f"  {name}: gunicorn runs worker class {ran.group(1) if ran else '?'}")
        results = []
        for connections in levels:
            pids = _workers(server.pid)
            before = {pid: _cpu_ticks(pid) for pid in pids}
            load = run_wrk(base, script, connections, duration)
            used = [_cpu_ticks(pid) - before[pid] for pid in pids]
            share = max(used) / sum(used) if sum(used) else 0.0
            cpu = 1000 * sum(used) / TICKS / max(load.requests, 1)
            results.append(Measured(name, load, share, cpu))
            print(
                f"  {name:10} c={connections:<3d} {load.rps:6.0f} req/s  p50 {load.p50:6.1f} ms"
                f"  p99 {load.p99:6.1f} ms  CPU {cpu:4.2f} ms/request  busiest worker {share:4.0%}"
                f"  non-2xx {load.non_2xx}  socket errors {load.socket_errors}"
            )
        return results
    finally:
        stop_server(server)


def _table(measured: list[Measured], levels: list[int]) -> str:
    """A Markdown table of the medians over rounds."""
    lines = [
        "| configuration | connections | requests/s | p50 | p99 | CPU per request "
        "| busiest worker | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in CONFIGURATIONS:
        for connections in levels:
            runs = [
                m for m in measured if m.configuration == name and m.load.connections == connections
            ]
            if not runs:  # a configuration left out of this run
                continue
            rps = [m.load.rps for m in runs]
            p99 = [m.load.p99 for m in runs]
            lines.append(
                f"| {name} | {connections} | {statistics.median(rps):.0f} "
                f"({min(rps):.0f}-{max(rps):.0f}) "
                f"| {statistics.median(m.load.p50 for m in runs):.1f} ms "
                f"| {statistics.median(p99):.1f} ms ({min(p99):.1f}-{max(p99):.1f}) "
                f"| {statistics.median(m.cpu_per_request for m in runs):.2f} ms "
                f"| {statistics.median(m.busiest_share for m in runs):.0%} "
                f"| {sum(m.load.non_2xx + m.load.socket_errors for m in runs)} |"
            )
    return "\n".join(lines)


def main() -> int:
    """Build once, then serve and load each configuration in turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=10_000)
    parser.add_argument("--intakes", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", default="4,16", help="comma-separated levels")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per level")
    parser.add_argument("--rounds", type=int, default=3, help="turns each configuration takes")
    parser.add_argument(
        "--configurations",
        default=",".join(CONFIGURATIONS),
        help=f"comma-separated, of: {', '.join(CONFIGURATIONS)}",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    levels = [int(c) for c in args.connections.split(",")]

    work = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    measured: list[Measured] = []
    try:
        url, script = prepare(work, args.therapists, args.intakes)
        print(
            f"therapists {args.therapists}, workers {args.workers}, {args.duration} s per level, "
            f"{args.rounds} rounds, {os.cpu_count()} cores"
        )
        names = [name for name in args.configurations.split(",") if name in CONFIGURATIONS]
        for round_ in range(args.rounds):
            print(f"round {round_ + 1}")
            # Alternate who goes first, so a slow spell on the machine favours no one.
            for name in names if round_ % 2 == 0 else names[::-1]:
                log = work / f"{name}-{round_}.log"
                measured += _measure(name, url, script, args.workers, levels, args.duration, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(_table(measured, levels))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
