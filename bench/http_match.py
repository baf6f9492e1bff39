"""HTTP benchmark: requests/s and latency of ``POST /api/v1/match`` against ``matcher serve``.

Run from the repository root: ``python bench/http_match.py`` (needs ``wrk``: ``apt-get install
wrk``). It generates a synthetic directory (10,000 therapists by default) into a temporary SQLite
database, starts ``matcher serve --workers 2``, and drives it on loopback with wrk, cycling through
1,000 random intakes. Goal: >= 400 requests/s with p99 <= 50 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.match_inprocess import random_intake
from matcher.lab.synthetic import generate_profiles
from matcher.services import directory
from matcher.services.keys import SCOPES, create_key
from matcher.services.models import ensure_default
from matcher.storage.database import Database
from matcher.storage.schema import upgrade

LUA = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/api/v1/match", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(key)s",
  }, bodies[i])
end
"""


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Wait until the server answers ``/readyz`` with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("matcher serve exited early")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("matcher serve did not become ready")


def _millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def prepare(work: Path, therapists: int, intakes: int) -> tuple[str, Path]:
    """A SQLite directory of synthetic therapists and a wrk script posting random intakes."""
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    db = Database(url)
    upgrade(db)
    with db.transaction() as session:
        ensure_default(session)
    profiles = generate_profiles(therapists, seed=11)
    started = time.perf_counter()
    with db.transaction() as session:
        directory.import_profiles(session, profiles=directory.validate_records(profiles))
    print(f"imported {len(profiles)} profiles in {time.perf_counter() - started:.1f} s")
    with db.transaction() as session:
        _, key = create_key(session, name="bench", scopes=SCOPES)
    db.dispose()

    rng = np.random.default_rng(5)
    bodies = work / "bodies.ndjson"
    bodies.write_text(
        "\n".join(
            json.dumps({"intake": random_intake(rng, profiles), "limit": 10})
            for _ in range(intakes)
        )
    )
    script = work / "match.lua"
    script.write_text(LUA % {"bodies": bodies, "key": key})
    return url, script


def start_server(
    url: str,
    script: Path,
    workers: int,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    ready_within: float = 120,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``matcher serve`` on ``url`` and warm it up with ``script``; process and base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "MATCHER_DATABASE_URL": url,
        "MATCHER_RATE_LIMIT": "100000000 per minute",
        "MATCHER_LOG_LEVEL": "WARNING",
        **(env or {}),  # the caller's settings win, the log level included
    }
    command = [sys.executable, "-m", "matcher", "serve", "--port", str(port)]
    with log.open("w") if log else open(os.devnull, "w") as output:  # noqa: PTH123
        server = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server, ready_within)
    except BaseException:
        stop_server(server)
        raise
    warm = ["wrk", "-t2", "-c8", "-d3s", "-s", str(script), base]
    subprocess.run(warm, check=True, capture_output=True)
    return server, base


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


@dataclass(frozen=True)
class Load:
    """What wrk measured at one level of open connections."""

    connections: int
    requests: int
    rps: float
    p50: float
    p99: float
    non_2xx: int
    socket_errors: int


def run_wrk(base: str, script: Path, connections: int, duration: int) -> Load:
    """Load the server with ``connections`` keep-alive connections for ``duration`` seconds."""
    wrk = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", "--latency"]
    wrk += [f"-d{duration}s", "-s", str(script), base]
    out = subprocess.run(wrk, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    pct = {q: _millis(v) for q, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return Load(
        connections=connections,
        requests=requests,
        rps=rps,
        p50=pct["50"],
        p99=pct["99"],
        non_2xx=int(errors.group(1)) if errors else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def main() -> int:
    """Build, serve, load, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=10_000)
    parser.add_argument("--intakes", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--connections", default="4,8,16", help="comma-separated open connections to try"
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    met = False
    try:
        url, script = prepare(work, args.therapists, args.intakes)
        server, base = start_server(url, script, args.workers)
        try:
            print(
                f"therapists {args.therapists}, workers {args.workers}, {args.duration} s per level"
            )
            for connections in (int(c) for c in args.connections.split(",")):
                met = _report(run_wrk(base, script, connections, args.duration)) or met
        finally:
            stop_server(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("goal (>= 400 requests/s with p99 <= 50 ms, no errors):", "met" if met else "NOT met")
    return 0 if met else 1


def _report(load: Load) -> bool:
    """Print one level and judge it against the goal."""
    ok = load.rps >= 400 and load.p99 <= 50 and not load.non_2xx
    print(
        f"connections {load.connections:3d}: requests/s {load.rps:6.0f}   p50 {load.p50:6.1f} ms"
        f"   p99 {load.p99:6.1f} ms   non-2xx {load.non_2xx}" + ("   goal met" if ok else "")
    )
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
