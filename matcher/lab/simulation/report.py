"""The comparison on new clients, and the report: what each model's top 5 is truly worth.

For each evaluation client the eligible therapists are taken from the service's index, and the
mean TRUE expected alliance (no noise; the client effect v_c is left out since it cancels in every
comparison) of five therapists is computed: the top 5 by each model, the best possible 5 (by the
truth), and 5 at random (the pool mean, the exact expectation). A model's captured share is
(model - random) / (best - random), over the means across clients.

Each model ranks with the therapist records it would have once active (records are estimated
beyond the match features of the model in force). The comparison is made twice: on the directory
with the slots it lists (the play fills slots in an instant, where in use clients finish and
slots reopen), and on the slots left after the play, which leaves out many of the therapists the
service knows best, since the ranking sent them the most clients.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import nnls
from scipy.stats import spearmanr

from matcher.core.scoring import FEATURES, TherapistIndex, WeightSet, eligible_ids, feature_values
from matcher.core.scoring.engine import scores, top
from matcher.lab.simulation.play import PlayCounts
from matcher.lab.simulation.world import (
    RESEARCH,
    SIMULATED_NOW,
    TRUE_EFFECTS,
    SimClient,
    Truth,
    World,
    feature_truth,
    true_alliance,
)
from matcher.schemas.intake import IntakeSchema, normalise
from matcher.storage.tables import ModelVersion

TOP = 5
BOOTSTRAP = 1000  # resamples of evaluation clients for the captured shares' 95% intervals
# Rows of the comparison, worst to best in expectation: the models, an oracle with the best
# non-negative weights for the truth on these 11 features, and the truth without therapist
# effects (what a model that knew every match effect but no therapist's u_t could reach).
RANKINGS = ("random", "default", "learned", "oracle", "match_only", "best")

Progress = Callable[[str, int, int], None]
Floats = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Comparison:
    """Mean true alliance of each ranking's top 5 over the evaluated clients, and shares of lift."""

    clients: int
    skipped: int  # clients with TOP or fewer eligible therapists: no choice to compare
    mean_pool: float
    means: dict[str, float]
    shares: dict[str, float | None]
    intervals: dict[str, tuple[float, float] | None]
    # The learned share minus the default's, with a 95% interval from the same resamples (paired).
    gain: float | None
    gain_interval: tuple[float, float] | None
    oracle_weights: dict[str, float]
    oracle_r2: float | None  # share of within-client truth variance the 11 features explain


@dataclass
class _Pool:
    values: dict[str, Floats]  # per model: its feature rows (the alliance records differ)
    truth: Floats
    therapist_effect: Floats


def _pools(
    world: World,
    indexes: Mapping[str, TherapistIndex],
    clients: Sequence[SimClient],
    progress: Progress | None,
) -> tuple[list[_Pool], int]:
    """Each client's eligible therapists: feature rows per model, truth without v_c, and u_t."""
    loader, pools, skipped = IntakeSchema(), [], 0
    # Models differ only in their therapists' alliance records, never in who is eligible.
    first = next(iter(indexes.values()))
    for number, client in enumerate(clients, start=1):
        intake = normalise(loader.load(client.intake))
        ids = eligible_ids(first, intake, now=SIMULATED_NOW).tolist()
        if len(ids) <= TOP:
            skipped += 1
        else:
            people = [world.therapists[t] for t in ids]
            truth = [true_alliance(client, t, world.truth) - client.effect for t in people]
            pools.append(
                _Pool(
                    values={
                        name: feature_values(index, intake, ids, now=SIMULATED_NOW)
                        for name, index in indexes.items()
                    },
                    truth=np.asarray(truth),
                    therapist_effect=np.asarray([t.effect for t in people]),
                )
            )
        if progress is not None:
            progress("evaluation", number, len(clients))
    return pools, skipped


def _oracle(pools: Sequence[_Pool], model: str) -> tuple[Floats, float | None]:
    """Non-negative weights that best fit the truth within clients, and the R^2 they reach."""
    x = np.vstack([p.values[model] - p.values[model].mean(axis=0) for p in pools])
    y = np.concatenate([p.truth - p.truth.mean() for p in pools])
    coef, _ = nnls(x, y)
    total = float(y @ y)
    residual = y - x @ coef
    return np.asarray(coef), (1.0 - float(residual @ residual) / total) if total > 0 else None


def _top_means(
    pools: Sequence[_Pool], models: Mapping[str, WeightSet], oracle: Floats, oracle_model: str
) -> dict[str, Floats]:
    """Per client, the mean truth of each ranking's top 5 (random: the pool mean)."""
    picked: dict[str, list[float]] = {name: [] for name in RANKINGS}
    for pool in pools:
        truth = pool.truth
        orders = {
            "default": top(scores(pool.values["default"], models["default"]), TOP),
            "learned": top(scores(pool.values["learned"], models["learned"]), TOP),
            "oracle": top(pool.values[oracle_model] @ oracle, TOP),
            "match_only": np.argsort(-(truth - pool.therapist_effect), kind="stable")[:TOP],
            "best": np.argsort(-truth, kind="stable")[:TOP],
        }
        picked["random"].append(float(truth.mean()))
        for name, rows in orders.items():
            picked[name].append(float(truth[rows].mean()))
    return {name: np.asarray(values) for name, values in picked.items()}


def _share(mean: Floats, random: Floats, best: Floats) -> Floats:
    """(model - random) / (best - random), NaN where best is no better than random."""
    lift = best - random
    return np.where(lift > 0, (mean - random) / np.where(lift > 0, lift, 1.0), np.nan)


def _interval(spread: Floats) -> tuple[float, float] | None:
    """The central 95% of resampled values (NaNs dropped), or None when none is left."""
    spread = spread[~np.isnan(spread)]
    if not len(spread):
        return None
    low, high = np.quantile(spread, [0.025, 0.975]).tolist()
    return low, high


def _shares(
    per_client: Mapping[str, Floats], rng: np.random.Generator
) -> tuple[dict[str, float | None], dict[str, tuple[float, float] | None], Floats]:
    """Each ranking's share of the best lift, with a 95% interval from resampling clients.

    Also returns, per resample, the learned share minus the default's (for a paired interval).
    """
    means = {name: v.mean(keepdims=True) for name, v in per_client.items()}
    n = len(per_client["random"])
    draws = rng.integers(0, n, (BOOTSTRAP, n))
    boot = {name: v[draws].mean(axis=1) for name, v in per_client.items()}
    shares: dict[str, float | None] = {}
    intervals: dict[str, tuple[float, float] | None] = {}
    resampled: dict[str, Floats] = {}
    for name in RANKINGS[1:-1]:
        point = float(_share(means[name], means["random"], means["best"])[0])
        shares[name] = None if np.isnan(point) else point
        resampled[name] = _share(boot[name], boot["random"], boot["best"])
        intervals[name] = _interval(resampled[name])
    return shares, intervals, resampled["learned"] - resampled["default"]


def compare(
    world: World,
    indexes: Mapping[str, TherapistIndex],
    clients: Sequence[SimClient],
    models: Mapping[str, WeightSet],
    *,
    rng: np.random.Generator,
    progress: Progress | None = None,
) -> Comparison:
    """Rank every evaluation client's pool by each model and by the truth; compare the top 5.

    ``indexes`` holds, per model ("default", "learned"), the index with the alliance records that
    model would have; the oracle's weights are fitted on the learned model's features.
    """
    pools, skipped = _pools(world, indexes, clients, progress)
    if not pools:
        raise ValueError(f"No evaluation client had more than {TOP} eligible therapists.")
    oracle, r2 = _oracle(pools, "learned")
    per_client = _top_means(pools, models, oracle, "learned")
    shares, intervals, gains = _shares(per_client, rng)
    learned, default = shares["learned"], shares["default"]
    return Comparison(
        clients=len(pools),
        skipped=skipped,
        mean_pool=float(np.mean([len(p.truth) for p in pools])),
        means={name: float(v.mean()) for name, v in per_client.items()},
        shares=shares,
        intervals=intervals,
        gain=None if learned is None or default is None else learned - default,
        gain_interval=_interval(gains),
        oracle_weights=dict(zip(FEATURES, oracle.tolist(), strict=True)),
        oracle_r2=r2,
    )


def weight_table(
    default: WeightSet,
    learned: WeightSet,
    oracle: Mapping[str, float],
    world_truth: Truth = RESEARCH,
) -> dict[str, dict[str, float | None]]:
    """Per feature: the default, learned and oracle weights beside the largest true effect."""
    truth = feature_truth(world_truth)
    rows: dict[str, dict[str, float | None]] = {
        name: {
            "default": float(default.weights[name]),
            "learned": float(learned.weights[name]),
            "oracle": float(oracle[name]),
            "true": truth.get(name),
        }
        for name in FEATURES
    }
    rows["intercept"] = {
        "default": default.intercept,
        "learned": learned.intercept,
        "oracle": None,
        "true": None,
    }
    return rows


def rank_correlation(weights: Mapping[str, Mapping[str, float | None]]) -> float | None:
    """Spearman's rho of learned weight with true effect, over features with a true counterpart."""
    pairs = [
        (row["true"], row["learned"])
        for name, row in weights.items()
        if name in FEATURES and row["true"] is not None and row["learned"] is not None
    ]
    true, learned = (np.asarray(side, dtype=np.float64) for side in zip(*pairs, strict=True))
    if len(pairs) < 3 or np.ptp(true) == 0 or np.ptp(learned) == 0:
        return None
    return float(spearmanr(true, learned).statistic)


def candidate_summary(model: ModelVersion) -> dict[str, Any]:
    """What the learner's own evaluation said about the candidate."""
    evaluation = model.evaluation or {}
    metrics = ("mae", "rmse", "spearman", "spearman_within_therapist")
    heldout = evaluation.get("heldout", {})
    return {
        "version": model.version,
        "intercept": model.intercept,
        "n_ratings": evaluation.get("n_ratings"),
        "n_referrals": evaluation.get("n_referrals"),
        "n_therapists": evaluation.get("n_therapists"),
        "alpha": evaluation.get("alpha"),
        "effective_sample_size": evaluation.get("effective_sample_size"),
        "heldout": {
            side: {m: heldout.get(side, {}).get(m) for m in metrics}
            for side in ("learned", "active")
        },
        "warnings": list(evaluation.get("warnings", [])),
    }


@dataclass(frozen=True)
class SimulationReport:
    """Everything one simulation found: counts, the comparison, weights against the truth, time."""

    config: dict[str, Any]
    counts: PlayCounts
    comparison: Comparison  # on the directory's listed slots
    comparison_after_play: Comparison  # on the slots left after the play
    weights: dict[str, dict[str, float | None]]
    rank_correlation: float | None
    candidate: dict[str, Any]
    world: dict[str, Any]
    timing: dict[str, float]
    # The candidate's off-policy estimates (its evaluation's ``off_policy``) against its true
    # value over the logged clients (``truevalue``), and whether each interval covers it.
    off_policy: dict[str, Any] | None = None
    imported: int = 0  # past referrals imported before the play

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        data = dataclasses.asdict(self)
        data["true_effects"] = {
            name: {"feature": e.feature, "d": e.d, "size": e.size, "source": e.source}
            for name, e in TRUE_EFFECTS.items()
        }
        plain: dict[str, Any] = _plain(data)
        return plain

    def to_text(self) -> str:
        """A short human-readable report."""
        parts = [*_played(self), *_compared(self), *_weighed(self), *_estimated(self)]
        return "\n".join([*parts, *_timed(self)])


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _played(r: SimulationReport) -> list[str]:
    c, cfg = r.counts, r.config
    past = (
        [f"Imported first: {r.imported:,} past referrals with their ratings"] if r.imported else []
    )
    return [
        *past,
        f"Simulation: {cfg['therapists']:,} therapists in {', '.join(cfg['jurisdictions'])}, "
        f"{cfg['referrals']:,} clients, seed {cfg['seed']}, exploration {cfg['exploration']:.2f}"
        f" ({cfg.get('exploration_policy', 'uniform')})",
        f"Played: {c.clients:,} recorded matches ({c.explored:,} explored), "
        f"{c.referrals:,} referrals, {c.refused:,} refused (409), "
        f"{c.no_eligible:,} with nobody eligible, {c.unreferred:,} never referred",
        f"Ratings: {c.ratings:,} ({c.ratings_wai_sr:,} WAI-SR, {c.ratings_srs:,} SRS); "
        f"dropouts {c.dropouts_after_1:,} after session 1, {c.dropouts_after_2:,} after 2; "
        f"{c.completed:,} rated all 3 sessions",
        f"  WAI-SR items at 4-5: {_pct(c.wai_items_4_or_5)}; mean score WAI-SR "
        f"{_num(c.mean_score_wai_sr)}, SRS {_num(c.mean_score_srs)}; dropout d "
        f"{_num(c.dropout_d_latent, 2)} latent, {_num(c.dropout_d_rated, 2)} as rated "
        "(Sharf et al. 2010: .55)",
    ]


def _compared(r: SimulationReport) -> list[str]:
    cand = r.candidate
    learned, active = cand["heldout"]["learned"], cand["heldout"]["active"]
    lines = [
        f"Learned candidate v{cand['version']}: {cand['n_ratings']:,} ratings, "
        f"{cand['n_referrals']:,} rated referrals, {cand['n_therapists']:,} therapists; "
        f"held-out RMSE {_num(learned['rmse'], 4)} (default {_num(active['rmse'], 4)}), "
        f"within-therapist rho {_num(learned['spearman_within_therapist'], 2)} "
        f"(default {_num(active['spearman_within_therapist'], 2)})",
    ]
    lines += _ranked(r.comparison, "the directory's listed slots")
    lines += _ranked(r.comparison_after_play, "the slots left after the play")
    lines.append(
        "  (oracle: the best non-negative weights on the 11 features; match effects: the truth "
        "without therapist effects u_t)"
    )
    return lines


def _ranked(k: Comparison, slots: str) -> list[str]:
    lines = [
        f"Evaluation on {slots}: {k.clients:,} new clients with more than {TOP} eligible "
        f"(mean pool {k.mean_pool:.0f}; {k.skipped} skipped). Mean true alliance of the top {TOP}:",
    ]
    labels = {
        "random": "at random",
        "default": "default (v1)",
        "learned": "learned",
        "oracle": "oracle weights",
        "match_only": "match effects",
        "best": "best possible",
    }
    for name in RANKINGS:
        share = ""
        if name in k.shares:
            interval = k.intervals[name]
            spread = f" ({_pct(interval[0])}-{_pct(interval[1])})" if interval else ""
            share = f"  captures {_pct(k.shares[name])}{spread} of the best lift"
        lines.append(f"  {labels[name]:<15} {k.means[name]:.4f}{share}")
    if k.gain is not None:
        gains = k.gain_interval
        paired = f" ({_points(gains[0])} to {_points(gains[1])}, paired)" if gains else ""
        lines.append(f"  learned minus default: {_points(k.gain)}{paired} of the best lift")
    return lines


def _points(value: float) -> str:
    return f"{100 * value:+.1f} points"


def _weighed(r: SimulationReport) -> list[str]:
    columns = ("default", "learned", "oracle", "true")
    lines = [f"Weights (0..1 alliance, full match){''.join(f'{c:>9}' for c in columns)}"]
    for name, row in r.weights.items():
        cells = "".join(f"{_num(row[c]):>9}" for c in columns)
        lines.append(f"  {name:<33}{cells}")
    lines.append(
        "  (true: the largest true effect of a full match; alliance has none, therapist effects "
        f"u_t have SD {r.world['therapist_sd']:.3f}: "
        f"{100 * float(r.world.get('therapist_share', 0.05)):.0f}% of variance)"
    )
    lines.append(
        f"Rank correlation (Spearman) of learned weights with true effects: "
        f"{_num(r.rank_correlation, 2)}; the features explain "
        f"{_pct(r.comparison.oracle_r2)} of the truth within clients (oracle R^2)"
    )
    return lines


def off_policy_check(estimate: dict[str, Any] | None, true_value: float) -> dict[str, Any]:
    """Each estimator's candidate value and interval beside the true value: covered or not."""
    rows = []
    if estimate is not None:
        for e in [estimate, *estimate.get("alternatives", [])]:
            interval = e.get("candidate_interval")
            covered = None if interval is None else bool(interval[0] <= true_value <= interval[1])
            rows.append({**{k: v for k, v in e.items() if k != "alternatives"}, "covers": covered})
    return {"true_value": true_value, "estimates": rows}


def _estimated(r: SimulationReport) -> list[str]:
    if r.off_policy is None:
        return []
    lines = [
        "Off-policy value of the learned candidate (mean rated alliance 0..1 of its top k): "
        f"true {_num(r.off_policy['true_value'])}"
    ]
    for e in r.off_policy["estimates"]:
        interval = e["candidate_interval"]
        span = "-" if interval is None else f"{interval[0]:.3f}-{interval[1]:.3f}"
        lines.append(
            f"  {e['estimator']:<14} {_num(e['candidate'])} ({span}), active {_num(e['active'])}; "
            f"{e['n']} explored referrals; covers the truth: {e['covers']}"
        )
    if not r.off_policy["estimates"]:
        lines.append("  (too few explored referrals to estimate)")
    return lines


def _timed(r: SimulationReport) -> list[str]:
    t = r.timing
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in t.items() if k != "total")
    return [f"Time: {t['total']:.1f} s ({parts})"]
