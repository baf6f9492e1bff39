"""A waitlist as a bipartite problem: clients, therapists with open slots, scored eligible pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

UNASSIGNED = -1
# The flow solver works in integers: scores in units of 1e-9, so 2,000 clients' total is exact
# to 1e-6 and sums stay far inside int64.
SCALE = 1_000_000_000


@dataclass(frozen=True)
class Problem:
    """Eligible pairs sorted by client, then best score first, then therapist (the engine's tie).

    ``client``, ``therapist`` and ``score`` are aligned, one entry per pair that passes the
    client's hard filters; ``slots[t]`` is therapist ``t``'s open slots.
    """

    clients: int
    slots: Ints
    client: Ints
    therapist: Ints
    score: Floats

    @classmethod
    def build(cls, slots: Sequence[int] | Ints, pairs: Sequence[tuple[Ints, Floats]]) -> Problem:
        """From each client's (eligible therapist positions, scores), in waitlist order."""
        sizes = np.array([len(rows) for rows, _ in pairs], dtype=np.int64)
        client = np.repeat(np.arange(len(pairs), dtype=np.int64), sizes)
        therapist, score = [np.empty(0, np.int64)], [np.empty(0, np.float64)]
        for rows, values in pairs:
            rows = np.asarray(rows, dtype=np.int64)
            order = np.lexsort((rows, -np.asarray(values, dtype=np.float64)))
            therapist.append(rows[order])
            score.append(np.asarray(values, dtype=np.float64)[order])
        return cls(
            clients=len(pairs),
            slots=np.asarray(slots, dtype=np.int64),
            client=client,
            therapist=np.concatenate(therapist),
            score=np.concatenate(score),
        )

    @property
    def starts(self) -> Ints:
        """Where each client's pairs begin (and, one on, end) in the sorted arrays."""
        return np.searchsorted(self.client, np.arange(self.clients + 1)).astype(np.int64)

    @cached_property
    def weight(self) -> Ints:
        """Scores as integers (``SCALE`` per unit) so sums and comparisons are exact."""
        return np.rint(self.score * SCALE).astype(np.int64)

    def total(self, assigned: Ints) -> float:
        """The sum of scores of an assignment (a therapist position or UNASSIGNED per client)."""
        return float(self.scores_of(assigned).sum())

    def scores_of(self, assigned: Ints) -> Floats:
        """Each client's score under an assignment; 0 for a client left unassigned."""
        out = np.zeros(self.clients)
        for c, t in enumerate(assigned.tolist()):
            if t != UNASSIGNED:
                out[c] = self.score_of(c, t)
        return out

    def score_of(self, client: int, therapist: int) -> float:
        """The score of one eligible pair; KeyError when the pair is not eligible."""
        lo, hi = np.searchsorted(self.client, [client, client + 1])
        hit = np.flatnonzero(self.therapist[lo:hi] == therapist)
        if len(hit) == 0:
            raise KeyError((client, therapist))
        return float(self.score[lo + hit[0]])

    def feasible(self, assigned: Ints) -> bool:
        """Whether every pair is eligible and no therapist has more clients than open slots."""
        taken = assigned[assigned != UNASSIGNED]
        if np.any(np.bincount(taken, minlength=len(self.slots)) > self.slots):
            return False
        try:
            self.scores_of(assigned)
        except KeyError:
            return False
        return True
