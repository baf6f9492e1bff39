"""A family of worlds: truths drawn from the published ranges, so learning is tested off its home.

World ``k`` of seed ``s`` is drawn from its own random stream. In every world each effect's d is
drawn from zero up to the top of its published range (``TOPS``, from research.md), the therapist
share of alliance variance from 1% to 10% (Johns et al. 2019 put most studies there), the WAI-SR
ceiling and the SRS centre shift, and dropout is rarer or commoner and more or less tied to a weak
session. Worlds come in four kinds, in turn: ``plain``; ``step`` (style and cultural competence
count only when fully met); ``interaction`` (first language and identity together add more than
each alone); ``contrary`` (the features the hand-set default weighs most carry little, the ones
it weighs least carry the top of their range): the default is badly wrong there.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

from matcher.core.scoring import load_default
from matcher.lab.simulation.world import (
    ALLIANCE_SD,
    DROPOUT_BASE,
    DROPOUT_SLOPE,
    SRS_CENTRE,
    TRUE_EFFECTS,
    Truth,
)

KINDS = ("plain", "step", "interaction", "contrary")
# The top of each effect's published range (d); research.md and world.TRUE_EFFECTS say where
# each comes from. Where research.md has no figure (availability, cost, format) the top is
# Swift et al.'s d = .28 for an accommodated preference; gender and specialty fit, about zero
# on alliance in the literature, may still carry a small effect in some world.
TOPS = MappingProxyType(
    {
        "native_language": 0.80,  # Griner & Smith 2006: about twice as effective
        "language_preference": 0.28,  # Swift et al. 2018
        "modality_first_choice": 0.28,  # Swift et al. 2018
        "modality_other_choice": 0.14,  # half of it
        "style_accommodated": 0.28,  # Swift et al. 2018
        "shared_identity_wanted": 0.63,  # Cabral & Smith 2011: preference d = .63
        "cultural_competence": 0.60,  # Tao et al. 2015: r = .29 with outcome, d ~ .6
        "faith_accommodated": 0.33,  # Captari et al. 2018: g = .13 to .33
        "gender_match": 0.10,  # Lambert 2016: about zero
        "specialty_fit": 0.28,  # Constantino et al. 2021: outcome, not alliance; up to Swift's d
        "availability_fit": 0.28,
        "affordable": 0.28,
        "format_first_choice": 0.28,
    }
)
THERAPIST_SHARE = (0.01, 0.10)
WAI_SHIFT = (-0.08, 0.04)  # below 0 more 5s: a harder ceiling
SRS_SHIFT = (-0.05, 0.05)
DROPOUT_SCALE = (0.5, 2.0)
SLOPE_SCALE = (0.5, 1.6)
INTERACTION = (0.2, 0.6)  # d added when first language and every identity are both met
# In a contrary world, effects of features the default weighs at or above its median weight are
# cut to this share of their draw; the others are drawn from the upper part of their range.
CONTRARY_CUT = 0.15
CONTRARY_FLOOR = 0.6


def _contrary_features() -> frozenset[str]:
    """Features the hand-set default weighs at or above its median (alliance aside)."""
    weights = {k: v for k, v in load_default().weights.items() if k != "alliance"}
    median = float(np.median(list(weights.values())))
    return frozenset(k for k, v in weights.items() if v >= median)


def truth(seed: int, number: int) -> Truth:
    """World ``number`` (from 0) of the family drawn with ``seed``."""
    rng = np.random.default_rng([seed, number, 13])
    kind = KINDS[number % len(KINDS)]
    heavy = _contrary_features()
    effects: dict[str, float] = {}
    for name, top in TOPS.items():
        draw = float(rng.uniform(0.0, top))
        if kind == "contrary":
            feature = TRUE_EFFECTS[name].feature
            if feature in heavy:
                draw *= CONTRARY_CUT
            else:
                draw = float(rng.uniform(CONTRARY_FLOOR * top, top))
        effects[name] = round(draw, 3)
    share = float(rng.uniform(*THERAPIST_SHARE))
    scale = float(rng.uniform(*DROPOUT_SCALE))
    return Truth(
        name=f"{kind}-{number + 1}",
        effects=MappingProxyType(effects),
        therapist_sd=math.sqrt(share) * ALLIANCE_SD,
        wai_shift=float(rng.uniform(*WAI_SHIFT)),
        srs_centre=SRS_CENTRE + float(rng.uniform(*SRS_SHIFT)),
        dropout_base=(
            min(0.5, DROPOUT_BASE[0] * scale),
            min(0.5, DROPOUT_BASE[1] * scale),
        ),
        dropout_slope=DROPOUT_SLOPE * float(rng.uniform(*SLOPE_SCALE)),
        step=kind == "step",
        interaction=float(rng.uniform(*INTERACTION)) if kind == "interaction" else 0.0,
    )


def therapist_share(world: Truth) -> float:
    """The world's therapist share of alliance variance."""
    return float((world.therapist_sd / ALLIANCE_SD) ** 2)
