"""The family of worlds: truths drawn over the published ranges, in four kinds."""

from __future__ import annotations

import pytest

from matcher.lab.simulation import SimulationConfig, family, worlds
from matcher.lab.simulation import world as truth


def test_worlds_differ_stay_in_range_and_repeat() -> None:
    worlds = [family.truth(7, k) for k in range(8)]
    assert [w.name.split("-")[0] for w in worlds[:4]] == list(family.KINDS)
    assert family.truth(7, 2) == worlds[2]
    assert len({tuple(w.effects.values()) for w in worlds}) == 8
    for w in worlds:
        assert all(0 <= w.effects[k] <= top for k, top in family.TOPS.items())
        assert 0.01 <= family.therapist_share(w) <= 0.10
    assert worlds[1].step and not worlds[0].step
    assert worlds[2].interaction > 0 and worlds[0].interaction == 0


def test_contrary_worlds_cut_what_the_default_weighs_most() -> None:
    contrary = family.truth(7, 3)
    heavy = family._contrary_features()
    assert "language" in heavy and "gender" not in heavy
    for name, d in contrary.effects.items():
        feature = truth.TRUE_EFFECTS[name].feature
        if feature in heavy:
            assert d <= family.CONTRARY_CUT * family.TOPS[name]
        else:
            assert d >= family.CONTRARY_FLOOR * family.TOPS[name] - 1e-3


def test_the_research_world_is_unchanged() -> None:
    assert truth.RESEARCH.effects["native_language"] == 0.80
    assert truth.RESEARCH.therapist_sd == truth.THERAPIST_SD
    assert truth.feature_truth()["language"] == 0.80 * truth.ALLIANCE_SD


def test_a_family_world_with_past_referrals_learns_from_them_and_checks_its_estimate() -> None:
    from matcher.lab.simulation import SimulationConfig, run

    report = run(
        SimulationConfig(
            therapists=80, referrals=120, evaluation_clients=20, seed=5, world=3, past_referrals=60
        )
    )
    assert report.world["name"] == "contrary-4"
    assert 50 <= report.imported <= 60  # a past client with nobody eligible is skipped
    assert report.candidate  # learned from live and imported ratings together
    n_referrals = report.candidate.get("n_referrals") or 0
    assert n_referrals > report.counts.referrals
    assert report.off_policy is not None
    assert 0.0 < report.off_policy["true_value"] < 1.0
    for estimate in report.off_policy["estimates"]:
        assert estimate["n"] <= report.counts.explored


def _row(number: int, learned: float) -> worlds.WorldRow:
    return worlds.WorldRow(
        number=number,
        name=f"plain-{number + 1}",
        therapist_share=0.05,
        default=0.6,
        learned=learned,
        oracle=0.75,
        rank_correlation=0.5,
        ope_true=0.8,
        ope_estimate=0.79,
        ope_interval=[0.75, 0.85],
        ope_covers=True,
        weights={},
        seconds=1.0,
    )


def test_each_world_is_reported_as_soon_as_it_is_played(monkeypatch: pytest.MonkeyPatch) -> None:
    played: list[int] = []

    def play_one(config: SimulationConfig) -> worlds.WorldRow:
        played.append(int(config.world or 0))
        return _row(int(config.world or 0), 0.55 + 0.1 * int(config.world or 0))

    seen: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(worlds, "_one", play_one)
    rows = worlds.run_family(
        SimulationConfig(), 3, processes=1, on_row=lambda r: seen.append((r.number, list(played)))
    )
    # World k is reported before world k + 1 is played.
    assert seen == [(0, [0]), (1, [0, 1]), (2, [0, 1, 2])]
    text = worlds.table(rows, 3.0)
    assert all(worlds.row_line(r) in text for r in rows)
    assert "floor learned_minimum: +0.550 against +0.60: NOT met" in text
    assert "floor learned_median: +0.650 against +0.70: NOT met" in text
