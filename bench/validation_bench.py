"""Profile validation: CPU per profile of marshmallow's load (before) and validate_profile (after).

Run from the repository root: ``python bench/validation_bench.py [--count 20000] [--runs 7]``.
It generates ``--count`` synthetic profiles (matcher/lab/synthetic, fixed seed), checks that
validate_profile returns for each exactly what ``TherapistProfileSchema().load`` returns, then
times, in alternating passes so both see the same load on the machine:

- before: ``load`` on every profile (what validate_profile did until the schema was compiled);
- after: ``validate_profile`` on every profile (the compiled schema; load only for what it does
  not accept);
- refused: ``validate_profile`` on the same profiles each broken in one field (capacity 2.5),
  which the compiled path hands to load for its messages.

CPU time (``time.process_time``) per pass, so other work on the machine counts less than in wall
time; the median over ``--runs`` passes, with the best beside it. Goal (issue 14, bulk import at
20,000 profiles a second with one validation path): about 30-40 µs per valid profile.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.lab.synthetic import generate_profiles
from matcher.schemas.profile import TherapistProfileSchema, validate_profile

GOAL_US = 40.0


def _load_all(schema: TherapistProfileSchema) -> Callable[[list[dict[str, Any]]], None]:
    def run(records: list[dict[str, Any]]) -> None:
        for record in records:  # all valid (checked first): load returns
            schema.load(record)

    return run


def _validate_all(records: list[dict[str, Any]]) -> None:
    for record in records:
        validate_profile(record)


def _cpu_us(run: Callable[[list[dict[str, Any]]], None], records: list[dict[str, Any]]) -> float:
    """CPU µs per record of one pass."""
    start = time.process_time()
    run(records)
    return (time.process_time() - start) / len(records) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    """Print µs per profile before and after, and whether the goal is met."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)

    records = generate_profiles(args.count)
    broken = [{**record, "capacity": 2.5} for record in records[: max(1, args.count // 10)]]
    schema = TherapistProfileSchema()
    for record in records:
        assert validate_profile(record) == (schema.load(record), {})

    passes: dict[str, tuple[Callable[[list[dict[str, Any]]], None], list[dict[str, Any]]]] = {
        "before: TherapistProfileSchema.load": (_load_all(schema), records),
        "after: validate_profile (compiled)": (_validate_all, records),
        f"refused ({len(broken):,} broken profiles)": (_validate_all, broken),
    }
    times: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(args.runs):
        for name, (run, data) in passes.items():
            times[name].append(_cpu_us(run, data))

    print(f"{args.count:,} synthetic profiles, CPU µs per profile, {args.runs} passes each")
    for name, spent in times.items():
        print(f"  {name:45s} median {statistics.median(spent):7.1f}  best {min(spent):7.1f}")
    before = statistics.median(times["before: TherapistProfileSchema.load"])
    after = statistics.median(times["after: validate_profile (compiled)"])
    print(f"speed-up {before / after:.1f}x; 100,000 profiles validate in {after / 10:.1f} s of CPU")
    met = "met" if after <= GOAL_US else "NOT met"
    print(f"goal: <= {GOAL_US:.0f} µs per valid profile: {met} ({after:.1f} µs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
