"""Instructions per match, counted by callgrind: a figure the machine's load does not move.

Run from the repository root: ``python bench/engine_instructions.py`` (needs valgrind). It runs
itself twice under ``valgrind --tool=callgrind``, over the same synthetic directory (20,000
therapists by default) and the same intakes as bench/engine_scale.py (``narrow`` or ``wide``
pools): once building the index and warming up, once doing that and ``--matches`` more matches.
The difference over ``--matches`` is the instructions one match executes. ``--root`` runs
another checkout's code (a worktree of an older commit) with this script, for a before/after.
Python's hash seed is fixed so both runs execute the same instructions up to the matches.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()


def work(root: str, matches: int, pools: str, therapists: int, drawn: int) -> None:
    """Build, draw ``drawn`` intakes, warm up, then run ``matches`` of them."""
    sys.path.insert(0, root)
    import numpy as np

    from bench.engine_scale import WIDE_JURISDICTIONS, wide_intake
    from bench.match_inprocess import NOW, random_intake
    from matcher.core.scoring import TherapistIndex, load_default, match
    from matcher.lab.synthetic import generate_profiles

    where = WIDE_JURISDICTIONS if pools == "wide" else None
    profiles = generate_profiles(therapists, seed=1, jurisdictions=where)
    index = TherapistIndex.build(profiles)
    weights, rng = load_default(), np.random.default_rng(1)
    draw = wide_intake if pools == "wide" else random_intake
    intakes = [draw(rng, profiles) for _ in range(drawn)]  # the same draws in both runs
    for intake in intakes[:50]:  # warm caches, as the timed benches do
        match(index, intake, weights, limit=10, now=NOW)
    gc.collect()
    gc.freeze()
    for intake in intakes[50 : 50 + matches]:
        match(index, intake, weights, limit=10, now=NOW)


def counted(root: str, matches: int, pools: str, therapists: int, drawn: int) -> int:
    """Instructions callgrind counts for one run of ``work``."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={folder}/out",
            sys.executable,
            str(HERE),
            "--work",
            "--root",
            root,
            "--matches",
            str(matches),
            "--pools",
            pools,
            "--therapists",
            str(therapists),
            "--drawn",
            str(drawn),
        ]
        # One thread for numpy's libraries: idle threads spinning would add instructions.
        env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
        env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    """Count both runs and print instructions per match."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(HERE.parents[1]), help="checkout to measure")
    parser.add_argument("--pools", choices=("narrow", "wide"), default="narrow")
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--therapists", type=int, default=20_000)
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drawn", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        work(args.root, args.matches, args.pools, args.therapists, args.drawn)
        return 0
    drawn = 50 + args.matches
    base = counted(args.root, 0, args.pools, args.therapists, drawn)
    more = counted(args.root, args.matches, args.pools, args.therapists, drawn)
    per_match = (more - base) / args.matches
    print(
        f"{args.pools} pools, {args.therapists:,} therapists, {args.root}: "
        f"{per_match / 1e6:.2f} M instructions a match ({args.matches} matches; "
        f"{base:,} without them, {more:,} with)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
