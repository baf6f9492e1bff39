"""Identity: competent with (and, if asked, sharing) the client's communities.

Value: competence = |I & (competencies | identities)| / |I|; with wants_shared_identity,
0.5 competence + 0.5 |I & identities| / |I| (Tao et al. 2015: client-rated multicultural
competence goes with the alliance; Cabral & Smith 2011: shared identity is preferred but matters
little for outcome, so it counts only when asked for).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher import vocabulary as vocab
from matcher.core.scoring.columns import Bools, CodeSet, Floats, Profile, Rows, Table
from matcher.core.scoring.feature import Feature, Said, Shown, fit, gap
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.wording import listing

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

COMMUNITIES = Table("identities", tuple(vocab.IDENTITIES))


def _member_or_competent(p: Profile) -> list[Any]:
    """A member of a community counts as competent with it."""
    return [*(p.get("identities") or ()), *(p.get("competencies") or ())]


MEMBER = CodeSet("identities", "identities", COMMUNITIES)
COMPETENT = CodeSet("competent", _member_or_competent, COMMUNITIES)

PHRASES = MappingProxyType(
    {
        "immigrant_refugee": "immigrant and refugee clients",
        "transgender_nonbinary": "transgender and nonbinary clients",
        "deaf_hoh": "Deaf and hard-of-hearing clients",
        "disability": "clients with disabilities",
        "veteran": "veterans",
    }
)


@functools.cache  # labels are fixed; reasons ask for them for every result
def community(code: str) -> str:
    """'LGBTQ+ clients', 'veterans'."""
    return PHRASES.get(code, f"{vocab.IDENTITIES.get(code, code)} clients")


def hits(index: TherapistArrays, q: ClientQuery, rows: Rows, *, shared: bool) -> Floats:
    """How many of the client's communities each therapist belongs to (shared) or knows."""
    column = "identities" if shared else "competent"
    return index.count(column, q.identities, rows).astype(np.float64)


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """|I & competent|/|I|, averaged half and half with |I & identities|/|I| if shared is asked."""
    if not q.identities:
        return np.zeros(len(rows))
    size = len(q.identities)
    competence = hits(index, q, rows, shared=False) / size
    if not q.wants_shared_identity:
        return competence
    return 0.5 * competence + 0.5 * (hits(index, q, rows, shared=True) / size)


def must_have(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Bools:
    """Competent with one of the client's communities; a member of one if shared is asked."""
    return np.asarray(hits(index, q, rows, shared=q.wants_shared_identity) > 0, np.bool_)


def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
    """Shared communities, communities known, and the ones with no listed experience."""
    q = shown.query
    shared = shown.listed_rows("identities", q.identities)
    known = shown.listed_rows("competent", q.identities)
    return [
        sentences(q.identities, q.wants_shared_identity, member, competent)
        for member, competent in zip(shared, known, strict=True)
    ]


@functools.lru_cache(maxsize=4096)  # the words depend on which communities are shared or known
def sentences(
    identities: tuple[str, ...],
    wants_shared: bool,
    member: tuple[bool, ...],
    competent: tuple[bool, ...],
) -> tuple[Said, ...]:
    """What fits and what is missing, given membership and competence in each community."""
    shared = [c for c, yes in zip(identities, member, strict=True) if yes]
    known = [
        c
        for c, yes, is_member in zip(identities, competent, member, strict=True)
        if yes and not is_member
    ]
    unknown = [c for c in identities if c not in shared and c not in known]
    said = []
    if shared:
        labels = [vocab.IDENTITIES.get(c, c) for c in shared]
        said.append(fit(f"Shares your identity: {listing(labels)}"))
    if known:
        said.append(fit(f"Experienced with {listing([community(c) for c in known])}"))
    if wants_shared and not shared and known:
        said.append(gap("Does not share your identity"))
    if unknown:
        said.append(
            gap(f"No listed experience with {listing([community(c) for c in unknown], 'or')}")
        )
    return tuple(said)


FEATURE = Feature(
    name="identity",
    meaning="Competent with (and, if asked, shares) the client's communities.",
    compute=compute,
    explain=explain,
    given=lambda q: bool(q.identities),
    intake_fields=("identities",),
    must_have=must_have,
    columns=(MEMBER, COMPETENT),
)
