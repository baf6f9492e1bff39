"""Uniform against uncertainty exploration on the family of worlds, world by world.

Run from the repository root: ``python bench/exploration_pairs.py play SEED WORLDS THERAPISTS
REFERRALS CLIENTS [FIRST] > pairs.jsonl`` plays worlds FIRST..WORLDS-1 (FIRST 0 unless given)
of the family drawn with SEED, each once with ``exploration_policy="uniform"`` and once with
``"uncertainty"`` (exploration 0.1), exactly as ``matcher simulate --worlds`` plays a world
(``worlds._one``), one process, and writes one JSON line per play as it ends, so every finished
world is a pair.
``python bench/exploration_pairs.py table pairs.jsonl [...]`` prints the per-world table and
the summary (learned share of the best possible lift under each policy: median and minimum).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

POLICIES = ("uniform", "uncertainty")


def play(
    seed: int, worlds: int, therapists: int, referrals: int, clients: int, first: int = 0
) -> None:
    """Play each world under both policies, one JSON line per play."""
    from matcher.lab.simulation import SimulationConfig
    from matcher.lab.simulation.worlds import _one

    config = SimulationConfig(
        therapists=therapists, referrals=referrals, evaluation_clients=clients, seed=seed
    )
    for k in range(first, worlds):
        for policy in POLICIES:
            row = _one(dataclasses.replace(config, world=k, exploration_policy=policy))
            print(
                json.dumps({"policy": policy, "seed": seed, **dataclasses.asdict(row)}), flush=True
            )


def table(paths: list[str]) -> None:
    """The per-world comparison and its summary, over every complete pair in ``paths``."""
    plays: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}
    for path in paths:
        with Path(path).open() as lines:
            for line in lines:
                row = json.loads(line)
                plays.setdefault((row["seed"], row["number"]), {})[row["policy"]] = row
    pairs = [(key, p) for key, p in sorted(plays.items()) if set(p) == set(POLICIES)]
    print(
        "| seed | world | u_t share | default: uniform / uncertainty | learned: uniform | "
        "learned: uncertainty | difference | oracle: uniform / uncertainty | OPE covers |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    share: dict[str, list[float]] = {policy: [] for policy in POLICIES}
    default: dict[str, list[float]] = {policy: [] for policy in POLICIES}
    for (seed, _), p in pairs:
        a, b = p["uniform"], p["uncertainty"]
        for policy in POLICIES:
            share[policy].append(p[policy]["learned"])
            default[policy].append(p[policy]["default"])
        covers = " / ".join("yes" if x["ope_covers"] else "no" for x in (a, b))
        print(
            f"| {seed} | {a['name']} | {100 * a['therapist_share']:.1f}% "
            f"| {100 * a['default']:.1f}% / {100 * b['default']:.1f}% "
            f"| {100 * a['learned']:.1f}% | {100 * b['learned']:.1f}% "
            f"| {100 * (b['learned'] - a['learned']):+.1f} "
            f"| {100 * a['oracle']:.1f}% / {100 * b['oracle']:.1f}% | {covers} |"
        )
    uni, unc = np.array(share["uniform"]), np.array(share["uncertainty"])
    diff = unc - uni
    print()
    print("| | median | min | max |")
    print("|---|---|---|---|")
    for name, v in (("learned, uniform", uni), ("learned, uncertainty", unc)):
        print(
            f"| {name} | {100 * np.median(v):.1f}% | {100 * v.min():.1f}% | {100 * v.max():.1f}% |"
        )
    print(
        f"| uncertainty - uniform | {100 * np.median(diff):+.1f} | {100 * diff.min():+.1f} "
        f"| {100 * diff.max():+.1f} |"
    )
    for policy in POLICIES:
        gap = np.array(share[policy]) - np.array(default[policy])
        print(
            f"| learned - default, {policy} | {100 * np.median(gap):+.1f} | "
            f"{100 * gap.min():+.1f} | {100 * gap.max():+.1f} |"
        )
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    print(
        f"\n{len(diff)} worlds: uncertainty better in {(diff > 0).sum()}, worse in "
        f"{(diff < 0).sum()}; mean difference {100 * diff.mean():+.2f} points "
        f"(standard error {100 * se:.2f})"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["play"]:
        play(*(int(a) for a in sys.argv[2:8]))
    elif sys.argv[1:2] == ["table"]:
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)
