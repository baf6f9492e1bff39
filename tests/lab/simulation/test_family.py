"""The family of worlds: truths drawn over the published ranges, in four kinds."""

from __future__ import annotations

from matcher.lab.simulation import family
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
