"""The what-if preview: the same weights change nothing; other weights move lists and groups."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from matcher.core.scoring import FEATURES, TherapistIndex, WeightSet, load_default
from matcher.lab.simulation.play import KEY_ID
from matcher.lab.simulation.world import draw_intake
from matcher.lab.synthetic import REGIONS, generate_profiles
from matcher.schemas.intake import IntakeSchema
from matcher.services.evidence import SIMULATOR_KEY
from matcher.services.preview import replay

WHEN = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _world(n: int = 60) -> tuple[TherapistIndex, list[tuple[str, datetime, dict[str, object]]]]:
    index = TherapistIndex.build(generate_profiles(400, seed=5, jurisdictions=["US-CA"]))
    rng = np.random.default_rng(5)
    loader = IntakeSchema()
    intakes = [
        (f"m-{i}", WHEN, loader.load(draw_intake(rng, (REGIONS["US-CA"],))[0])) for i in range(n)
    ]
    return index, intakes


def test_the_model_in_force_against_itself_changes_no_list() -> None:
    index, intakes = _world()
    active = load_default()
    found = replay(index, intakes, active, active, rated=set())
    assert found.with_results > 0
    assert found.lists_changed == 0 and found.mean_rank_shift == 0 and found.most_changed == []
    same = found.predicted
    assert same["active"]["active"] == same["candidate"]["candidate"]
    assert all(abs(g.shift) < 1e-12 for g in found.exposure)


def test_a_candidate_that_only_values_language_reorders_and_says_so_both_ways() -> None:
    index, intakes = _world()
    active = load_default()
    weights = dict.fromkeys(FEATURES, 0.0) | {"language": 0.5}
    candidate = WeightSet(version=2, intercept=0.3, weights=weights)
    rated = {str(t) for t in index.ids[:50].tolist()}
    found = replay(index, intakes, active, candidate, rated=rated, most_changed=3)
    assert 0 < found.lists_changed <= found.with_results
    assert found.members_changed <= found.lists_changed and found.mean_rank_shift > 0
    p = found.predicted
    # Each model's own list scores best under its own weights: the honest two-way reading.
    assert p["candidate"]["candidate"] >= p["active"]["candidate"]
    assert p["active"]["active"] >= p["candidate"]["active"]
    history = [g for g in found.exposure if g.kind == "History"]
    assert {g.group for g in history} == {"New: no ratings yet", "Established: has ratings"}
    assert abs(sum(g.active_share for g in history) - 1) < 1e-9
    assert len(found.most_changed) == 3
    first = found.most_changed[0]
    assert first.entered >= found.most_changed[-1].entered
    assert all(set(t.features) == set(FEATURES) for t in first.therapists)
    assert "client_ref" not in first.gave


def test_the_simulator_key_is_the_one_counted_as_simulated() -> None:
    assert SIMULATOR_KEY == KEY_ID
