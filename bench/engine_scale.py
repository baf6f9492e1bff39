"""Engine at scale: index build, memory and top-10 latency for narrow and wide pools.

Run from the repository root: ``python bench/engine_scale.py`` (``--quick`` for a short run,
``--help`` for sizes). For each directory size (10,000, 100,000 and 1,000,000 therapists by
default) it builds the index the service builds (``TherapistIndex.build``, fed a stream of the
synthetic generator's profiles a chunk at a time, as the service is fed database rows), then
times ``match`` (the service's engine call) over random intakes:

- **narrow**: bench/match_inprocess.py's intakes over a directory of all nine jurisdictions
  (formats, distances and must-haves narrow the pool);
- **wide**: the same intakes without formats or must-haves over five jurisdictions (US-CA,
  US-NY, US-TX, US-FL, US-IL), so nearly everyone open in the jurisdiction is eligible.

Each figure is the median over ``--runs`` passes over the intakes; latency is also given by pool
size (eligible therapists). The floors of issue 14 are printed beside the figures.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.match_inprocess import NOW, random_intake
from matcher.core.scoring import TherapistIndex, WeightSet, load_default, match
from matcher.lab.synthetic import generate_profiles

WIDE_JURISDICTIONS = ("US-CA", "US-NY", "US-TX", "US-FL", "US-IL")
CHUNK = 100_000  # profiles generated at a time (the generator's ids allow six digits per prefix)
SAMPLE = 20_000  # profiles kept to draw intakes from (clients live where therapists practise)
POOL_BUCKETS = (0, 1_000, 5_000, 10_000, 20_000, 50_000, 10**9)
# Issue 14's floors: (size, pools) -> (p50 ms, p99 ms or None).
FLOORS: dict[tuple[int, str], tuple[float, float | None]] = {
    (100_000, "wide"): (2.0, 5.0),
    (100_000, "narrow"): (1.0, None),
    (1_000_000, "wide"): (15.0, None),
}
BUILD_FLOOR_1M = 15.0


def stream(
    count: int, jurisdictions: Sequence[str] | None, seed: int, spent: list[float] | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` synthetic profiles, generated a chunk at a time (ids ascending).

    The seconds spent generating are appended to ``spent``, so a build timed over the stream
    can leave them out.
    """
    done = 0
    for part in range(-(-count // CHUNK)):
        size = min(CHUNK, count - done)
        prefix = "t-" if count <= CHUNK else f"t{part:02d}-"
        start = time.perf_counter()
        chunk = generate_profiles(
            size, seed=seed + part, jurisdictions=jurisdictions, id_prefix=prefix
        )
        if spent is not None:
            spent.append(time.perf_counter() - start)
        yield from chunk
        del chunk
        done += size


def wide_intake(rng: np.random.Generator, profiles: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A random intake with every preference but the ones that narrow the pool."""
    intake = random_intake(rng, profiles)
    for key in ("formats", "must_have", "max_distance_km"):
        intake.pop(key, None)
    return intake


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Built:
    """An index and what building it cost."""

    index: TherapistIndex
    seconds: list[float]
    peak_mb: float  # tracemalloc peak during one build
    held_mb: float  # traced memory still held after it
    sample: list[dict[str, Any]]


def build(count: int, jurisdictions: Sequence[str] | None, seed: int, builds: int) -> Built:
    """Build ``builds`` times from a stream of generated profiles, timing the build alone.

    Up to 100,000 the profiles are generated first and the build reads the list; above, the
    build reads the generator's stream (a server reads database rows so) and the time spent
    generating is left out. Then one more build of 100,000 under tracemalloc.
    """
    step = max(1, count // SAMPLE)
    sample = [
        p for i, p in enumerate(stream(min(count, CHUNK), jurisdictions, seed)) if i % step == 0
    ]
    seconds: list[float] = []
    index = TherapistIndex.build([])
    for _ in range(builds):
        del index
        gc.collect()
        spent: list[float] = []
        profiles: Any = stream(count, jurisdictions, seed, spent)
        if count <= CHUNK:
            profiles = list(profiles)
            spent.clear()
        start = time.perf_counter()
        index = TherapistIndex.build(profiles)
        seconds.append(time.perf_counter() - start - sum(spent))
        del profiles
    tracemalloc.start()
    traced = TherapistIndex.build(stream(min(count, CHUNK), jurisdictions, seed))
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    return Built(index, seconds, peak / 1e6, held / 1e6, sample[:SAMPLE])


def timed(
    index: TherapistIndex, intakes: list[dict[str, Any]], w: WeightSet
) -> tuple[list[float], list[int]]:
    """Milliseconds per top-10 match and the eligible count, per intake (one pass)."""
    ms, eligible = [], []
    for intake in intakes:
        start = time.perf_counter()
        outcome = match(index, intake, w, limit=10, now=NOW)
        ms.append((time.perf_counter() - start) * 1000)
        eligible.append(outcome.eligible)
    return ms, eligible


def by_pool(ms: list[float], eligible: list[int]) -> str:
    """p50 per pool-size bucket."""
    parts = []
    for low, high in itertools.pairwise(POOL_BUCKETS):
        inside = [t for t, e in zip(ms, eligible, strict=True) if low <= e < high]
        if inside:
            label = f"{low:,}+" if high == POOL_BUCKETS[-1] else f"{low:,}-{high:,}"
            parts.append(f"{label}: p50 {statistics.median(inside):.2f} ms (n={len(inside)})")
    return "; ".join(parts)


def verdict(value: float, floor: float | None) -> str:
    """' (floor X: met)' or nothing."""
    if floor is None:
        return ""
    return f" [floor {floor:g}: {'met' if value <= floor else 'NOT met'}]"


def latency(
    count: int, pools: str, built: Built, intakes: int, runs: int, seed: int, w: WeightSet
) -> None:
    """Print the latency figures of one directory and one kind of pool."""
    rng = np.random.default_rng(seed)
    draw = wide_intake if pools == "wide" else random_intake
    chosen = [draw(rng, built.sample) for _ in range(intakes)]
    gc.collect()
    gc.freeze()  # the server freezes what it built before forking (matcher/serving.py)
    timed(built.index, chosen[:50], w)  # warm caches (zoneinfo, numpy dispatch)
    p50s, p99s, every, eligible = [], [], [], []
    for _ in range(runs):
        ms, eligible = timed(built.index, chosen, w)
        p50s.append(float(np.percentile(ms, 50)))
        p99s.append(float(np.percentile(ms, 99)))
        every += ms
    gc.unfreeze()
    p50, p99 = statistics.median(p50s), statistics.median(p99s)
    floor50, floor99 = FLOORS.get((count, pools), (None, None))
    print(
        f"  {pools:6} pools: p50 {p50:.2f} ms{verdict(p50, floor50)}, "
        f"p99 {p99:.2f} ms{verdict(p99, floor99)} (median of {runs} runs: p50s "
        f"{', '.join(f'{v:.2f}' for v in p50s)}); eligible median "
        f"{statistics.median(eligible):,.0f}, max {max(eligible):,}"
    )
    print(f"    by pool size: {by_pool(every, eligible * runs)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run every size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated")
    parser.add_argument("--intakes", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5, help="passes over the intakes")
    parser.add_argument("--builds", type=int, default=3, help="timed builds per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quick", action="store_true", help="10,000 and 100,000 only, 300 intakes, 3 runs"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    intakes, runs, builds = args.intakes, args.runs, args.builds
    if args.quick:
        sizes, intakes, runs, builds = [s for s in sizes if s <= 100_000], 300, 3, 1
    w = load_default()
    print(f"engine at scale: {intakes} intakes x {runs} runs, top 10, model v{w.version}")
    for count in sizes:
        kinds = [("narrow", None), ("wide", WIDE_JURISDICTIONS)]
        if count > CHUNK:
            kinds = kinds[1:]  # at a million, the wide case (narrow pools are the cheap one)
        for pools, jurisdictions in kinds:
            rss_before = rss_mb()
            built = build(count, jurisdictions, args.seed, builds)
            gc.collect()
            best = min(built.seconds)
            floor = (
                f" [floor {BUILD_FLOOR_1M:g} s: {'met' if best <= BUILD_FLOOR_1M else 'NOT met'}]"
            )
            print(
                f"{count:,} therapists ({len(jurisdictions or ()) or 9} jurisdictions): build "
                f"{best:.2f} s{floor if count >= 1_000_000 else ''} (runs "
                f"{', '.join(f'{s:.2f}' for s in built.seconds)}); arrays "
                f"{built.index.nbytes() / 1e6:.0f} MB; process RSS +{rss_mb() - rss_before:.0f} MB "
                f"after the build; tracemalloc at {min(count, CHUNK):,}: peak "
                f"{built.peak_mb:.0f} MB, held {built.held_mb:.0f} MB"
            )
            latency(count, pools, built, intakes, runs, args.seed, w)
            del built
            gc.collect()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
