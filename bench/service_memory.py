"""Memory of the whole service: PSS of ``matcher serve``'s master and workers, built and loaded.

Run from the repository root: ``python bench/service_memory.py`` (needs ``wrk``; ``--quick`` for
10,000 therapists). It loads a synthetic directory (100,000 therapists by default) into a
temporary SQLite database, starts ``matcher serve --workers 2``, and sums the proportional set
size (PSS, from /proc/<pid>/smaps_rollup: shared pages counted once across the processes) of the
master and its workers after the index is built, then again after ``--seconds`` of match
traffic from wrk. Floor (issue 14): <= 400 MB at 100,000 therapists.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_match import prepare, run_wrk, start_server, stop_server

FLOOR_MB = {100_000: 400.0, 1_000_000: 2_000.0}


def _field(pid: int, name: str) -> int:
    """One field of /proc/<pid>/smaps_rollup, in kB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def service_pids(master: int) -> list[int]:
    """The master and its workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *(int(c) for c in children)]


def report(label: str, master: int, therapists: int) -> float:
    """Print PSS and RSS of every process and their PSS sum; return the sum in MB."""
    pids = service_pids(master)
    pss = {pid: _field(pid, "Pss") / 1024 for pid in pids}
    rss = {pid: _field(pid, "Rss") / 1024 for pid in pids}
    total = sum(pss.values())
    floor = FLOOR_MB.get(therapists)
    verdict = f" [floor {floor:.0f} MB: {'met' if total <= floor else 'NOT met'}]" if floor else ""
    each = ", ".join(
        f"{'master' if pid == master else 'worker'} PSS {pss[pid]:.0f} / RSS {rss[pid]:.0f}"
        for pid in pids
    )
    print(f"{label}: PSS summed {total:.0f} MB{verdict} ({each}, MB)")
    return total


def main() -> int:
    """Load, serve, measure, load with traffic, measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20, help="seconds of match traffic")
    parser.add_argument("--quick", action="store_true", help="10,000 therapists, 5 s of traffic")
    args = parser.parse_args()
    if args.quick:
        args.therapists, args.seconds = 10_000, 5
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="matcher-memory-"))
    try:
        url, script = prepare(work, args.therapists, 1_000)
        # A million therapists take a while to build on a shared machine.
        server, base = start_server(
            url, script, args.workers, ready_within=max(120, args.therapists / 4_000)
        )
        try:
            print(f"matcher serve --workers {args.workers}, {args.therapists:,} therapists")
            report("after the build (and 3 s of warm-up)", server.pid, args.therapists)
            load = run_wrk(base, script, 8, args.seconds)
            print(f"traffic: {load.requests:,} matches at {load.rps:.0f}/s, non-2xx {load.non_2xx}")
            report(f"after {args.seconds} s of traffic", server.pid, args.therapists)
        finally:
            stop_server(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
