"""Learning benchmark: therapist records, weight learner and evaluation on synthetic ratings.

Run from the repository root: ``python bench/train_bench.py`` (``--help`` for sizes).
Goal: fit + evaluate < 10 s for 100,000 rated referrals over about 3,000 therapists.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.core.learning import ALLIANCE_SPAN, AllianceRegressor, estimate_records, evaluate
from matcher.core.scoring import FEATURES, load_default
from matcher.services.training import HELD_WEIGHTS

GOAL_SECONDS = 10.0
BINARY_FEATURES = ("modality", "language", "faith", "gender")  # met or not
# Spreads on 0..1 (assumptions for a plausible simulation): one session's rating is noisy
# (dependability about .77, Crits-Christoph et al. 2011) and therapist effects are small (about
# 5% of variance, Johns et al. 2019).
RATING_SD = 0.12
THERAPIST_SD = 0.03


def synthetic_ratings(
    ratings: int, therapists: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, alliance score, therapist, propensity weight) per rated referral."""
    rng = np.random.default_rng(seed)
    therapist = rng.integers(0, therapists, ratings)
    x = rng.random((ratings, len(FEATURES)))
    for name in BINARY_FEATURES:
        x[:, FEATURES.index(name)] = x[:, FEATURES.index(name)] < 0.5
    effect = rng.normal(0, THERAPIST_SD, therapists)
    # The alliance feature as the records would give it: 0.5 plus the therapist's effect / span.
    x[:, FEATURES.index("alliance")] = np.clip(0.5 + effect / ALLIANCE_SPAN, 0, 1)[therapist]
    default = load_default()
    truth = default.vector() * rng.uniform(0.5, 1.5, len(FEATURES))
    latent = default.intercept + x @ truth + effect[therapist] + rng.normal(0, RATING_SD, ratings)
    # Ceiling effects (Meier & Feeley 2022): WAI-SR totals cannot pass 60, so scores stop at 1.
    score = np.clip(latent, 0, 1)
    propensity = rng.uniform(0.2, 1.0, ratings)
    return x, score, therapist, 1.0 / propensity


def _timed(label: str, action: Callable[[], object]) -> float:
    """Run once, print the wall and CPU time (the machine is shared) and return the wall time."""
    start, cpu = time.perf_counter(), time.process_time()
    action()
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.2f} s (CPU {time.process_time() - cpu:.2f} s)")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--therapists", type=int, default=3_000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    x, score, therapist, weight = synthetic_ratings(args.ratings, args.therapists, args.seed)
    print(f"{args.ratings:,} synthetic ratings over {len(np.unique(therapist)):,} therapists")
    ids = therapist.astype(str)
    _timed("therapist records (empirical Bayes)", lambda: estimate_records(ids, score))
    default = load_default()
    # As training runs it: the alliance weight held (matcher.services.training.HELD_WEIGHTS).
    fixed = [HELD_WEIGHTS.get(name, np.nan) for name in FEATURES]
    learner = AllianceRegressor(
        prior_coef=default.vector(),
        n_bootstrap=args.bootstrap,
        random_state=args.seed,
        fixed_coef=fixed,
    )
    fit = _timed(
        f"fit (CV over 13 alphas, {args.bootstrap} bootstrap resamples)",
        lambda: learner.fit(x, score, sample_weight=weight, groups=therapist),
    )
    report: dict[str, object] = {}
    evaluation = _timed(
        "evaluate (5 therapist-grouped folds + full fit)",
        lambda: report.update(
            evaluate(
                x,
                score,
                groups=therapist,
                sample_weight=weight,
                active_coef=default.vector(),
                active_intercept=default.intercept,
                learner_params={"n_bootstrap": args.bootstrap, "fixed_coef": fixed},
                random_state=args.seed,
            )
        ),
    )
    total = fit + evaluation
    verdict = "ok" if total < GOAL_SECONDS else "OVER GOAL"
    print(f"fit + evaluate: {total:.2f} s (goal < {GOAL_SECONDS:.0f} s): {verdict}")
    print(f"held-out: {report['heldout']}")
    print(f"warnings: {report['warnings']}")
    return 0 if total < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
