"""The true value of a ranking over the logged clients, to check off-policy estimates against.

The estimand of ``matcher.core.learning.offpolicy``: the expected early alliance (the contract's
0..1 score, averaged over the sessions rated before any dropout) of a client referred to one of
the ``k`` therapists a ranking shows, over the clients the service logged. Each pair's expected
rating is drawn once from the world's own course of sessions (the same code that played it).
"""

from __future__ import annotations

import numpy as np
from sqlmodel import Session

from matcher.core.learning.instruments import score_items
from matcher.core.scoring import FEATURES
from matcher.core.scoring.index import Floats
from matcher.lab.simulation.world import World, course
from matcher.storage import outcomes as stored

# A third of the logged clients (a random sample, match ids being random) pins the true value to
# about 0.003, far inside the estimates' intervals, at a third of the cost.
SAMPLE_EVERY = 3


def policy_value(session: Session, world: World, coef: Floats, rng: np.random.Generator) -> float:
    """Mean rated alliance of the top k by ``coef`` over (a sample of) logged rated matches."""
    values = []
    logged = stored.logged_matches(session, explored_only=False, every=SAMPLE_EVERY)
    for match, _referral, _score, kept in logged:
        client = world.clients.get(match.client_ref or "")
        if client is None or not kept:
            continue
        x = np.array([[float(c.features.get(n, 0.0)) for n in FEATURES] for c in kept])
        score = x @ coef
        k = max(1, sum(c.rank is not None for c in kept))
        shown = np.lexsort((np.arange(len(score)), -score))[:k]
        pairs = []
        for row in shown.tolist():
            expected = world.alliance(client, kept[row].therapist_id)
            went = course(rng, client, expected, world.truth)
            pairs.append(np.mean([score_items(i, items).score for _, i, items in went.ratings]))
        values.append(float(np.mean(pairs)))
    return float(np.mean(values)) if values else float("nan")
