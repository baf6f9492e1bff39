"""``matcher simulate --worlds N``: play every world of the family and check the issue's floors.

Each world is a full ``run`` (the service, learning, evaluation); worlds run in parallel
processes. Floors (issue 13): the learned candidate's median share of the best possible lift
at least 0.70 and its minimum at least 0.60, never more than 1 point below the default in any
world, and the off-policy interval covering the candidate's true value in at least 90% of worlds.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matcher.lab.simulation import SimulationConfig, run

MEDIAN_FLOOR = 0.70
MINIMUM_FLOOR = 0.60
WORST_LOSS = 0.01
COVERAGE_FLOOR = 0.90


@dataclass(frozen=True)
class WorldRow:
    """One world's figures on the directory's listed slots."""

    number: int
    name: str
    therapist_share: float
    default: float | None
    learned: float | None
    oracle: float | None
    rank_correlation: float | None
    ope_true: float | None
    ope_estimate: float | None
    ope_interval: list[float] | None
    ope_covers: bool | None
    weights: dict[str, dict[str, float | None]]
    seconds: float


def _one(config: SimulationConfig) -> WorldRow:
    report = run(config)
    shares = report.comparison.shares
    estimates = (report.off_policy or {}).get("estimates") or [{}]
    primary = estimates[0]
    return WorldRow(
        number=int(config.world or 0),
        name=str(report.world["name"]),
        therapist_share=float(report.world["therapist_share"]),
        default=shares.get("default"),
        learned=shares.get("learned"),
        oracle=shares.get("oracle"),
        rank_correlation=report.rank_correlation,
        ope_true=(report.off_policy or {}).get("true_value"),
        ope_estimate=primary.get("candidate"),
        ope_interval=primary.get("candidate_interval"),
        ope_covers=primary.get("covers"),
        weights=report.weights,
        seconds=report.timing["total"],
    )


def run_family(
    config: SimulationConfig,
    worlds: int,
    *,
    processes: int = 2,
    on_row: Callable[[WorldRow], None] | None = None,
) -> list[WorldRow]:
    """Play worlds 0..worlds-1 of the family drawn with ``config.seed``; ``on_row`` is called
    with each world's row as soon as it is played (in world order)."""
    configs = [replace(config, world=k) for k in range(worlds)]
    rows: list[WorldRow] = []
    if processes <= 1 or worlds <= 1:
        played = map(_one, configs)
        for row in played:
            rows.append(row)
            if on_row is not None:
                on_row(row)
        return rows
    with multiprocessing.get_context("fork").Pool(min(processes, worlds)) as pool:
        for row in pool.imap(_one, configs):
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def floors(rows: list[WorldRow]) -> dict[str, Any]:
    """Each floor: the figure, the floor, whether it is met."""
    learned = np.array([np.nan if r.learned is None else r.learned for r in rows])
    default = np.array([np.nan if r.default is None else r.default for r in rows])
    covered = [r.ope_covers for r in rows if r.ope_covers is not None]
    worst = float(np.nanmin(learned - default)) if len(rows) else float("nan")
    coverage = float(np.mean(covered)) if covered else float("nan")
    median, minimum = float(np.nanmedian(learned)), float(np.nanmin(learned))
    return {
        "learned_median": {"value": median, "floor": MEDIAN_FLOOR, "met": median >= MEDIAN_FLOOR},
        "learned_minimum": {
            "value": minimum,
            "floor": MINIMUM_FLOOR,
            "met": minimum >= MINIMUM_FLOOR,
        },
        "worst_learned_minus_default": {
            "value": worst,
            "floor": -WORST_LOSS,
            "met": worst >= -WORST_LOSS,
        },
        "off_policy_coverage": {
            "value": coverage,
            "floor": COVERAGE_FLOOR,
            "met": coverage >= COVERAGE_FLOOR,
            "worlds": len(covered),
        },
    }


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{100 * value:4.0f}%"


def row_line(r: WorldRow) -> str:
    """One world's line of the table."""
    gain = "    -"
    if r.learned is not None and r.default is not None:
        gain = f"{100 * (r.learned - r.default):+5.1f}"
    rho = "   -" if r.rank_correlation is None else f"{r.rank_correlation:4.2f}"
    interval = "-" if r.ope_interval is None else f"{r.ope_interval[0]:.3f}-{r.ope_interval[1]:.3f}"
    estimate = "-" if r.ope_estimate is None else f"{r.ope_estimate:.3f}"
    true = "-" if r.ope_true is None else f"{r.ope_true:.3f}"
    return (
        f"{r.name:<16} {100 * r.therapist_share:8.1f}%  {_pct(r.default):>7}  "
        f"{_pct(r.learned):>7}  {_pct(r.oracle):>7} {gain} {rho}   {true:>8}  "
        f"{estimate} ({interval}) {r.ope_covers}"
    )


HEADER = (
    "world            u_t share  default  learned   oracle  gain  rho   OPE true  "
    "DR estimate (95%)      covers"
)


def table(rows: list[WorldRow], seconds: float) -> str:
    """The per-world table, a summary, and the floors."""
    lines = [HEADER]
    lines.extend(row_line(r) for r in rows)
    for name in ("default", "learned", "oracle"):
        values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        if values:
            lines.append(
                f"{name:<8} share of the best lift: median {100 * np.median(values):.0f}%, "
                f"min {100 * min(values):.0f}%, max {100 * max(values):.0f}%"
            )
    for name, f in floors(rows).items():
        lines.append(
            f"floor {name}: {f['value']:+.3f} against {f['floor']:+.2f}: "
            + ("met" if f["met"] else "NOT met")
        )
    lines.append(f"{len(rows)} worlds in {seconds:.0f} s")
    return "\n".join(lines)


def timed_family(
    config: SimulationConfig,
    worlds: int,
    processes: int,
    on_row: Callable[[WorldRow], None] | None = None,
) -> tuple[list[WorldRow], float]:
    """``run_family`` and how long it took, in seconds."""
    started = time.perf_counter()
    rows = run_family(config, worlds, processes=processes, on_row=on_row)
    return rows, time.perf_counter() - started
