"""What-if preview benchmark: recorded intakes replayed under a candidate and the default model.

Run from the repository root: ``python bench/preview_bench.py`` (``--help`` for sizes).
Goal: under 2 s for 500 intakes at 10,000 therapists (the admin console's default preview).
Intakes are drawn by the simulator's client model over the synthetic directory's regions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.core.scoring import FEATURES, TherapistIndex, WeightSet, load_default
from matcher.lab.simulation.world import SIMULATED_NOW, draw_intake
from matcher.lab.synthetic import REGIONS, generate_profiles
from matcher.schemas.intake import IntakeSchema
from matcher.services.preview import replay


def candidate_of(active: WeightSet, rng: np.random.Generator) -> WeightSet:
    """The active weights, each moved by up to half its size, scaled to leave the sum as it was."""
    moved = active.vector() * rng.uniform(0.5, 1.5, len(FEATURES))
    moved *= active.vector().sum() / moved.sum()
    return WeightSet(
        version=2, intercept=active.intercept, weights=dict(zip(FEATURES, moved, strict=True))
    )


def main() -> None:
    """Build the index, draw the intakes, and time the replay a few times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--therapists", type=int, default=10_000)
    parser.add_argument("--intakes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    index = TherapistIndex.build(generate_profiles(args.therapists, seed=3))
    loader = IntakeSchema()
    regions = tuple(REGIONS.values())
    intakes = [
        (f"m-{i}", SIMULATED_NOW - timedelta(hours=i), loader.load(draw_intake(rng, regions)[0]))
        for i in range(args.intakes)
    ]
    active = load_default()
    candidate = candidate_of(active, rng)
    rated = {str(t) for t in index.ids[::3].tolist()}  # a third of therapists have ratings
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = replay(index, intakes, active, candidate, rated=rated)
        times.append(time.perf_counter() - started)
    print(
        f"preview: {args.intakes} intakes x {args.therapists} therapists: "
        f"median {statistics.median(times):.3f} s, max {max(times):.3f} s "
        f"({result.lists_changed} top-5 lists changed, mean rank shift "
        f"{result.mean_rank_shift:.2f})"
    )


if __name__ == "__main__":
    main()
