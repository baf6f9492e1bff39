"""``matcher simulate``: a world with known true effects, played through the real service.

A synthetic directory and synthetic clients whose true early alliance is defined from research.md
(``world``) are played through the same code paths as real use (``play``): recorded matches with
exploration, referrals, WAI-SR / SRS ratings for sessions 1-3 with early dropout. A candidate is
learned with ``training.train`` and, on new clients, the true worth of its top 5 is compared with
the default model's, the best possible and random (``report``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import make_url

from matcher.lab.simulation import family, past, truevalue
from matcher.lab.simulation import report as reporting
from matcher.lab.simulation import world as truth
from matcher.lab.simulation.play import SHOWN, DatabaseNotEmpty, Progress, open_service, play
from matcher.lab.simulation.report import SimulationReport
from matcher.lab.synthetic import REGIONS
from matcher.services import alliance, training
from matcher.services import models as model_versions
from matcher.services.exploration import POLICIES
from matcher.storage.database import Database
from matcher.storage.tables import ModelVersion

__all__ = ["DatabaseNotEmpty", "SimulationConfig", "SimulationReport", "run"]

ACTOR = "simulator"
# Three large US states, one time zone each: a client's pool has hundreds of therapists.
DEFAULT_JURISDICTIONS = ("US-CA", "US-TX", "US-NY")


@dataclass(frozen=True)
class SimulationConfig:
    """How big a world to build and play; ``database_url`` None means a temporary SQLite file."""

    therapists: int = 1500
    referrals: int = 3000
    evaluation_clients: int = 500
    seed: int = 7
    exploration: float = 0.1
    exploration_policy: str = "uniform"  # what an exploring match shows (exploration.POLICIES)
    database_url: str | None = None
    jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS
    world: int | None = None  # a member of the family (``family.truth(seed, world)``), or research
    past_referrals: int = 0  # imported before the play (``past``), as a clinic's history

    def world_truth(self) -> truth.Truth:
        """What this world holds true."""
        if self.world is None:
            return truth.RESEARCH
        return family.truth(self.seed, self.world)

    def __post_init__(self) -> None:
        problems = []
        if self.therapists < 1:
            problems.append("therapists must be at least 1")
        if self.referrals < 0:
            problems.append("referrals must be at least 0")
        if self.evaluation_clients < 1:
            problems.append("evaluation_clients must be at least 1")
        if not 0.0 <= self.exploration <= 1.0:
            problems.append("exploration must be in 0..1")
        if self.exploration_policy not in POLICIES:
            problems.append(f"exploration_policy must be one of {', '.join(POLICIES)}")
        unknown = [code for code in self.jurisdictions if code not in REGIONS]
        if unknown or not self.jurisdictions:
            problems.append(f"jurisdictions must be among {', '.join(REGIONS)}")
        if self.past_referrals < 0:
            problems.append("past_referrals must be at least 0")
        if self.world is not None and self.world < 0:
            problems.append("world must be at least 0")
        if problems:
            raise ValueError("; ".join(problems) + ".")


@contextmanager
def _database(url: str | None) -> Iterator[Database]:
    """The given database, or a temporary SQLite file deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="matcher-simulation-") as folder:
        db = Database(url or f"sqlite:///{Path(folder) / 'simulation.sqlite3'}")
        try:
            yield db
        finally:
            db.close()


@contextmanager
def _timed(timing: dict[str, float], stage: str) -> Iterator[None]:
    """Record how long a stage took, in seconds."""
    started = time.perf_counter()
    yield
    timing[stage] = time.perf_counter() - started


def run(config: SimulationConfig, *, progress: Progress | None = None) -> SimulationReport:
    """Build the world, play it through the service, learn, and compare on new clients.

    ``progress(stage, done, total)`` is called with stages "referrals", "training" and
    "evaluation". Raises ``Invalid`` (a refusal) when too few ratings were collected, and
    ``DatabaseNotEmpty`` when ``database_url`` points at a database holding data.
    """
    timing: dict[str, float] = {}
    entropy = config.seed if config.world is None else [config.seed, config.world]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(5)]
    world_truth = config.world_truth()
    directory_rng, clients_rng, choices_rng, policy_rng, evaluation_rng = streams
    with _timed(timing, "total"), _database(config.database_url) as db:
        with _timed(timing, "setup"):
            world = truth.World.build(
                config.therapists,
                jurisdictions=config.jurisdictions,
                seed=config.seed if config.world is None else config.seed * 1000 + config.world,
                rng=directory_rng,
                truth=world_truth,
            )
            service = open_service(db, world.profiles)
            imported = (
                past.import_past(
                    service, world, config.past_referrals, np.random.default_rng([config.seed, 98])
                )
                if config.past_referrals
                else 0
            )
        with _timed(timing, "play"):
            counts = play(
                service,
                world,
                referrals=config.referrals,
                exploration=config.exploration,
                exploration_policy=config.exploration_policy,
                clients=clients_rng,
                choices=choices_rng,
                policy=policy_rng,
                progress=progress,
            )
        with _timed(timing, "training"):
            candidate = _train(db, config, progress)
        with _timed(timing, "off_policy"), db.session() as session:
            learned_coef = model_versions.as_weight_set(candidate).vector()
            true_value = truevalue.policy_value(
                session, world, learned_coef, np.random.default_rng([config.seed, 99])
            )
        evaluation = candidate.evaluation or {}
        off_policy = reporting.off_policy_check(evaluation.get("off_policy"), true_value)
        with _timed(timing, "evaluation"), db.session() as session:
            models = {
                "default": model_versions.active_weights(session),
                "learned": model_versions.as_weight_set(candidate),
            }
            # Nothing is activated: the learned model is given the records it would have once
            # active (estimated beyond its own match weights); the directory is the same.
            left = service.snapshot().index
            learned_records = alliance.alliance_feature_values(session, models["learned"])
            after_play = {"default": left, "learned": left.with_alliance(learned_records)}
            reopened = left.with_changes(world.profiles)  # every slot the directory lists
            listed = {"default": reopened, "learned": reopened.with_alliance(learned_records)}
            newcomers = [world.client(evaluation_rng) for _ in range(config.evaluation_clients)]
            comparisons = [
                reporting.compare(
                    world, indexes, newcomers, models, rng=evaluation_rng, progress=progress
                )
                for indexes in (listed, after_play)
            ]
    weights = reporting.weight_table(
        models["default"], models["learned"], comparisons[0].oracle_weights, world_truth
    )
    settings = asdict(config)
    settings["jurisdictions"] = list(config.jurisdictions)
    settings["database_url"] = _redacted(config.database_url)
    return SimulationReport(
        config=settings,
        counts=counts,
        comparison=comparisons[0],
        comparison_after_play=comparisons[1],
        weights=weights,
        rank_correlation=reporting.rank_correlation(weights),
        candidate=reporting.candidate_summary(candidate),
        world=_world_summary(world_truth),
        timing=timing,
        off_policy=off_policy,
        imported=imported,
    )


def _redacted(url: str | None) -> str | None:
    """A database URL fit for a report: no password."""
    return None if url is None else make_url(url).render_as_string(hide_password=True)


def _train(db: Database, config: SimulationConfig, progress: Progress | None) -> ModelVersion:
    steps = ["gathering ratings", "evaluating on held-out therapists", "fitting on all ratings"]

    def say(step: str) -> None:
        if progress is not None and step in steps:
            progress("training", steps.index(step), len(steps))

    with db.session() as session:
        learned = training.learn(session, progress=say)
    with db.transaction() as session:
        model = training.store(
            session,
            learned=learned,
            note=f"Simulation (seed {config.seed}): learned from simulated early-alliance ratings.",
            actor=ACTOR,
        )
    if progress is not None:
        progress("training", len(steps), len(steps))
    return model


def _world_summary(world: truth.Truth) -> dict[str, object]:
    """The world's fixed figures, for the record."""
    return {
        "name": world.name,
        "effects_d": dict(world.effects),
        "therapist_share": family.therapist_share(world),
        "wai_shift": world.wai_shift,
        "srs_centre": world.srs_centre,
        "dropout_base": list(world.dropout_base),
        "dropout_slope": world.dropout_slope,
        "step": world.step,
        "interaction_d": world.interaction,
        "alliance_sd": truth.ALLIANCE_SD,
        "base_alliance": truth.BASE_ALLIANCE,
        "therapist_sd": world.therapist_sd,
        "client_sd": truth.CLIENT_SD,
        "session_sd": truth.SESSION_SD,
        "item_sd": truth.ITEM_SD,
        "wai_thresholds": world.thresholds().tolist(),
        "srs_share": truth.SRS_SHARE,
        "capacity_range": list(truth.CAPACITY_RANGE),
        "shown": SHOWN,
    }
