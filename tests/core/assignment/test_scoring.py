"""The waitlist's batch scorer equals the engine: same eligible rows, same scores."""

from __future__ import annotations

import numpy as np

from matcher.core.assignment.scoring import BatchScorer
from matcher.core.scoring import TherapistIndex, evaluate, load_default
from matcher.lab.simulation.world import SIMULATED_NOW, draw_intake
from matcher.lab.synthetic import REGIONS, generate_profiles
from matcher.schemas.intake import IntakeSchema, normalise


def test_batch_scorer_equals_evaluate() -> None:
    rng = np.random.default_rng(5)
    profiles = generate_profiles(1500, seed=5)
    index = TherapistIndex.build(profiles)
    weights = load_default()
    scorer = BatchScorer.at(index, weights, SIMULATED_NOW)
    loader = IntakeSchema()
    regions = tuple(REGIONS.values())
    musts = ["language", "modality", "gender", "availability", "cost", "format", "concerns"]
    for i in range(300):
        raw, _ = draw_intake(rng, regions)
        raw["must_have"] = [m for m in musts if rng.random() < 0.3]
        if i % 7 == 0:
            raw["exclude_therapists"] = [str(t) for t in index.ids[:40:3]]
        intake = normalise(loader.load(raw))
        engine = evaluate(index, intake, weights, limit=0, now=SIMULATED_NOW)
        batch = scorer.score(intake)
        assert np.array_equal(batch.rows, engine.screening.rows)
        assert np.array_equal(batch.score, engine.score)
        if len(batch.rows):
            shown = engine.results(np.array([0]))[0].reasons
            assert scorer.reasons(batch, 0) == shown
