"""Where the best lift comes from in each world of the family, and where the learner loses it.

Run from the repository root: ``python bench/family_diagnosis.py play 0 1 2 3`` plays worlds of
the family (seed 7, full size) into SQLite files under ``--folder`` once;
``python bench/family_diagnosis.py diagnose 0 1 2 3`` then trains on each played world (with the
learner in the code as it is) and splits the best possible lift over a random 5, on new clients and
the directory's listed slots, into what each kind of knowledge reaches:

- ``match_only``: every true match effect, no therapist effect (u_t unknown);
- ``therapist_only``: every therapist's true u_t, no match effect;
- ``bayes``: every true match effect plus each therapist's u_t as the ratings reveal it (records
  estimated from the rated referrals' residuals beyond the true match effects, shrunk as the
  service shrinks them): what any learner could reach from these ratings;
- ``bayes_true_tau2``: the same records shrunk with the world's true tau^2 instead of the
  estimated one (the posterior mean of u_t given these ratings and the true match effects);
- ``oracle``: best non-negative weights on the 11 features with the learned model's records (the
  report's oracle), ``oracle_no_records`` the same without the records, ``oracle_true_u`` with the
  records replaced by each therapist's true u_t;
- ``learned_w_bayes_u``: the learned weights' match part with the ``bayes`` records;
  ``true_match_learned_u``: the true match effects with the learned model's records;
- ``default``, ``learned``: the models.

``--therapist-effects None`` trains as before the joint model, ``--rule min`` with the CV
minimum, ``--floor`` sets the records' tau^2 floor factor. A world plays in 3-7 minutes on two
shared cores; a diagnosis takes under a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.core.learning import record
from matcher.core.learning.record import ALLIANCE_SPAN, estimate_records
from matcher.core.scoring import FEATURES, eligible_ids
from matcher.core.scoring.engine import scores, top
from matcher.lab.simulation import SimulationConfig, family
from matcher.lab.simulation import report as reporting
from matcher.lab.simulation import world as truth
from matcher.lab.simulation.play import open_service, play
from matcher.schemas.intake import IntakeSchema, normalise
from matcher.services import alliance, training
from matcher.services import models as model_versions
from matcher.services.alliance import AllianceRecordSource
from matcher.services.matching import MatchService
from matcher.storage.database import Database
from matcher.storage.tables import MatchRecord, Referral

TOP = reporting.TOP
ALLIANCE = FEATURES.index("alliance")


def _paths(folder: Path, number: int) -> tuple[Path, Path]:
    return folder / f"world-{number}.sqlite3", folder / f"world-{number}.pickle"


def _world(config: SimulationConfig, *, played: bool) -> tuple[truth.World, list[Any], Any]:
    """The world as ``simulation.run`` builds it; with ``played`` its play's clients drawn again
    (the same stream, so the same clients) and the evaluation clients after them."""
    entropy = [config.seed, config.world]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(5)]
    directory_rng, clients_rng, choices_rng, policy_rng, evaluation_rng = streams
    world = truth.World.build(
        config.therapists,
        jurisdictions=config.jurisdictions,
        seed=config.seed * 1000 + int(config.world or 0),
        rng=directory_rng,
        truth=config.world_truth(),
    )
    if not played:
        return world, [], (clients_rng, choices_rng, policy_rng)
    for _ in range(config.referrals):
        world.client(clients_rng)
    newcomers = [world.client(evaluation_rng) for _ in range(config.evaluation_clients)]
    return world, newcomers, None


def play_world(config: SimulationConfig, folder: Path) -> None:
    """Play one world as ``simulation.run`` does and keep its database."""
    database, _ = _paths(folder, int(config.world or 0))
    database.unlink(missing_ok=True)
    world, _, (clients_rng, choices_rng, policy_rng) = _world(config, played=False)
    db = Database(f"sqlite:///{database}")
    service = open_service(db, world.profiles)
    started = time.perf_counter()
    play(
        service,
        world,
        referrals=config.referrals,
        exploration=config.exploration,
        clients=clients_rng,
        choices=choices_rng,
        policy=policy_rng,
    )
    db.close()
    print(f"world {config.world} played in {time.perf_counter() - started:.0f} s", flush=True)


def _referral_truth(db: Database, world: truth.World) -> dict[str, float]:
    """Per referral id: BASE_ALLIANCE plus the pair's true match effects (no u_t, no v_c)."""
    out = {}
    with db.session() as session:
        rows = session.execute(
            select(Referral.id, Referral.therapist_id, MatchRecord.client_ref).join(
                MatchRecord, MatchRecord.id == Referral.match_id
            )
        ).all()
    for referral, therapist, ref in rows:
        client = world.clients[ref]
        effects = truth.match_effects(client, world.therapists[therapist], world.truth)
        out[referral] = truth.BASE_ALLIANCE + sum(effects.values())
    return out


def _bayes_records(
    db: Database, world: truth.World
) -> tuple[dict[str, float], float, dict[str, float]]:
    """Each rated therapist's u_t as the ratings reveal it beyond the TRUE match effects, the
    between-therapist variance estimated on the way, and the same records shrunk with the
    world's TRUE tau^2 (the within variance as estimated): the Bayes posterior mean."""
    with db.session() as session:
        rated = alliance.referral_alliance(session)
    known = _referral_truth(db, world)
    residual = rated.mean - np.array([known[r] for r in rated.referral_ids.tolist()])
    records = estimate_records(rated.therapist_ids, residual)
    estimate = (records.estimate - records.mean).tolist()
    tau2 = world.truth.therapist_sd**2
    kept = records.n * tau2 / (records.n * tau2 + records.within_var)
    posterior = (kept * (records.raw_mean - records.mean)).tolist()
    return (
        dict(zip(records.therapist_ids, estimate, strict=True)),
        records.between_var,
        dict(zip(records.therapist_ids, posterior, strict=True)),
    )


def _nnls_within(pools: list[Any], column: str, drop_records: bool = False) -> np.ndarray:
    x = np.vstack([p.values[column] - p.values[column].mean(axis=0) for p in pools])
    if drop_records:
        x[:, ALLIANCE] = 0.0
    y = np.concatenate([p.truth - p.truth.mean() for p in pools])
    coef, _ = nnls(x, y)
    return np.asarray(coef)


def diagnose(config: SimulationConfig, folder: Path) -> dict[str, Any]:
    """Train on one played world and split its best lift (see the module docstring)."""
    database, _ = _paths(folder, int(config.world or 0))
    world, newcomers, _ = _world(config, played=True)
    db = Database(f"sqlite:///{database}")
    started = time.perf_counter()
    with db.session() as session:
        learned = training.learn(session)
        default = model_versions.active_weights(session)
    seconds = time.perf_counter() - started
    learned_ws = replace(default, weights=learned.weights, intercept=learned.intercept)
    service = MatchService(
        db, weights=model_versions.active_weights, alliance=AllianceRecordSource()
    )
    with db.session() as session:
        index = service.snapshot().index.with_changes(world.profiles)
        records = {
            "default": alliance.alliance_feature_values(session, default),
            "learned": alliance.alliance_feature_values(session, learned_ws),
        }
    bayes_u, bayes_tau2, posterior_u = _bayes_records(db, world)
    true_u = {
        t: float(np.clip(0.5 + s.effect / ALLIANCE_SPAN, 0, 1)) for t, s in world.therapists.items()
    }
    indexes = {
        "default": index.with_alliance(records["default"]),
        "learned": index.with_alliance(records["learned"]),
        "true_u": index.with_alliance(true_u),
    }
    pools, _ = reporting._pools(world, indexes, newcomers, None)
    ids_of = []
    for client in newcomers:
        intake = normalise(IntakeSchema().load(client.intake))
        ids = eligible_ids(indexes["default"], intake, now=truth.SIMULATED_NOW).tolist()
        if len(ids) > TOP:
            ids_of.append((client, ids))
    oracle = _nnls_within(pools, "learned")
    oracle_nr = _nnls_within(pools, "learned", drop_records=True)
    oracle_tu = _nnls_within(pools, "true_u")
    picked: dict[str, list[float]] = {}
    for pool, (_client, ids) in zip(pools, ids_of, strict=True):
        t = pool.truth
        u = pool.therapist_effect
        posterior = np.array([bayes_u.get(i, 0.0) for i in ids])
        true_var = np.array([posterior_u.get(i, 0.0) for i in ids])
        x_l = pool.values["learned"]
        coef_l = learned_ws.vector()
        record_learned = coef_l[ALLIANCE] * (x_l[:, ALLIANCE] - 0.5)
        match_learned = x_l @ coef_l - record_learned
        orders = {
            "default": top(scores(pool.values["default"], default), TOP),
            "learned": top(scores(x_l, learned_ws), TOP),
            "oracle": top(x_l @ oracle, TOP),
            "oracle_no_records": top(
                np.where(np.arange(len(FEATURES)) == ALLIANCE, 0, x_l) @ oracle_nr, TOP
            ),
            "oracle_true_u": top(pool.values["true_u"] @ oracle_tu, TOP),
            "learned_w_bayes_u": np.argsort(-(match_learned + posterior), kind="stable")[:TOP],
            "true_match_learned_u": np.argsort(-(t - u + record_learned), kind="stable")[:TOP],
            "match_only": np.argsort(-(t - u), kind="stable")[:TOP],
            "therapist_only": np.argsort(-u, kind="stable")[:TOP],
            "bayes": np.argsort(-(t - u + posterior), kind="stable")[:TOP],
            "bayes_true_tau2": np.argsort(-(t - u + true_var), kind="stable")[:TOP],
            "best": np.argsort(-t, kind="stable")[:TOP],
        }
        picked.setdefault("random", []).append(float(t.mean()))
        for name, rows in orders.items():
            picked.setdefault(name, []).append(float(t[rows].mean()))
    means = {k: float(np.mean(v)) for k, v in picked.items()}
    lift = means["best"] - means["random"]
    shares = {
        k: (v - means["random"]) / lift for k, v in means.items() if k not in ("random", "best")
    }
    return {
        "world": world.truth.name,
        "therapist_share": family.therapist_share(world.truth),
        "shares": shares,
        "learned_weights": learned.weights,
        "oracle_weights": dict(zip(FEATURES, oracle.tolist(), strict=True)),
        "truth": truth.feature_truth(world.truth),
        "train_seconds": seconds,
        "tau2_true": world.truth.therapist_sd**2,
        "tau2_bayes_records": bayes_tau2,
        "tau2_learner": learned.evaluation["learned"].get("therapist_variance"),
        "rule": training.RULE,
        "floor": record.FLOOR_FACTOR,
        "therapist_effects": training.THERAPIST_EFFECTS,
        "alpha": learned.evaluation.get("alpha"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("play", "diagnose"))
    parser.add_argument("worlds", type=int, nargs="+")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/diag13"))
    parser.add_argument("--therapists", type=int, default=1500)
    parser.add_argument("--referrals", type=int, default=3000)
    parser.add_argument("--evaluation-clients", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rule", default=training.RULE, choices=("one_se", "min"))
    parser.add_argument(
        "--therapist-effects", default=str(training.THERAPIST_EFFECTS), help="'None' to turn off"
    )
    parser.add_argument(
        "--floor", type=float, default=record.FLOOR_FACTOR, help="records' tau^2 floor factor"
    )
    args = parser.parse_args()
    record.FLOOR_FACTOR = args.floor
    training.RULE = args.rule
    effects = args.therapist_effects
    training.THERAPIST_EFFECTS = None if effects == "None" else effects
    args.folder.mkdir(parents=True, exist_ok=True)
    for number in args.worlds:
        config = SimulationConfig(
            therapists=args.therapists,
            referrals=args.referrals,
            evaluation_clients=args.evaluation_clients,
            seed=args.seed,
            world=number,
        )
        if args.action == "play":
            play_world(config, args.folder)
        else:
            print(json.dumps(diagnose(config, args.folder)), flush=True)


if __name__ == "__main__":
    main()
