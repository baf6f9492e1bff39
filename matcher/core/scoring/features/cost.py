"""Cost: affordable to the client, through insurance, the fee or the sliding scale.

Value: 1 if the client's insurance is accepted; else, with max_fee, 1 if the fee is within it,
0.7 if the sliding-scale minimum is; else 0. No fee listed: affordable only through insurance.
Currencies are not converted: max_fee is read in the therapist's currency.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from matcher.core.scoring.columns import Code, CodeSet, Floats, Number, Rows, Table
from matcher.core.scoring.feature import Feature, Said, Shown, fit, gap, per_row, positive
from matcher.core.scoring.query import ClientQuery

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

FEE = Number("fee", "fee.amount")  # NaN when no fee is listed
SLIDING = Number("sliding", "fee.sliding_scale_min")  # NaN without a sliding scale
CURRENCY = Code("currency", "fee.currency", Table("currencies"))
INSURANCE = CodeSet("insurance", "insurance", Table("insurance"))

# Between the fee (1) and nothing (0): a sliding scale needs asking, and may not be granted.
SLIDING_SCALE_FIT = 0.7

# Amounts read as people in the client's country write them (CLDR's rule for English): the
# country's own dollar is plain "$"; any other dollar carries its prefix, so a client in the US
# sees "$120" for USD and "CA$120" for CAD, a client in Ontario "$120" for CAD and "US$120" for
# USD. The euro and the pound keep their signs; any other currency is written "120 CHF".
HOME_DOLLAR: Mapping[str, str] = MappingProxyType(
    {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD"}
)
DOLLAR_PREFIX: Mapping[str, str] = MappingProxyType(
    {"USD": "US$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$"}
)
SIGNS: Mapping[str, str] = MappingProxyType({"EUR": "€", "GBP": "£"})


def money(amount: float, currency: str | None, country: str | None) -> str:
    """An amount as a client in ``country`` reads it: '$120', 'CA$120', '€90', '120 CHF'."""
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    if currency is None:
        return number
    if currency == HOME_DOLLAR.get(country or ""):
        return f"${number}"
    sign = DOLLAR_PREFIX.get(currency) or SIGNS.get(currency)
    return f"{sign}{number}" if sign else f"{number} {currency}"


def plan(code: str) -> str:
    """An insurance plan code as a name: 'blue_cross' -> 'Blue Cross'."""
    return code.replace("_", " ").title()


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """1 if insurance accepted or fee within budget, 0.7 via sliding scale, else 0."""
    out = np.zeros(len(rows))
    if q.max_fee is not None:
        # NaN (no fee listed) compares False: an unknown fee is never taken as affordable.
        sliding = np.where(
            index.gather(index.column("sliding"), rows) <= q.max_fee, SLIDING_SCALE_FIT, 0.0
        )
        out = np.where(index.gather(index.column("fee"), rows) <= q.max_fee, 1.0, sliding)
    if q.insurance is not None:
        out = np.where(index.has("insurance", q.insurance, rows), 1.0, out)
    return out


NO_FEE = gap("No fee listed")


def _fee(shown: Shown, row: int, max_fee: float) -> Said:
    """The fee against the client's limit, in the therapist's currency."""
    index = shown.index
    fee, sliding = float(index.column("fee")[row]), float(index.column("sliding")[row])
    if math.isnan(fee):
        return NO_FEE
    # No sliding scale (NaN) reads as one no limit reaches: a cache key must equal itself.
    sliding = math.inf if math.isnan(sliding) else sliding
    return _fee_said(fee, sliding, index.code("currency", row), shown.query.country, max_fee)


@functools.lru_cache(maxsize=4096)  # fees and limits are few round numbers, said per result
def _fee_said(
    fee: float, sliding: float, currency: str | None, country: str | None, max_fee: float
) -> Said:
    """``_fee``'s sentence from the numbers it reads."""
    limit = money(max_fee, currency, country)
    if fee <= max_fee:
        return fit(f"Fee {money(fee, currency, country)} is within your {limit} limit")
    above = f"Fee {money(fee, currency, country)} is above your {limit} limit"
    if sliding <= max_fee:
        return fit(f"{above}; sliding scale from {money(sliding, currency, country)}")
    return gap(above)


def explain(shown: Shown, row: int, value: float) -> Sequence[Said]:
    """Insurance accepted, or the fee against the limit; an insurance not taken is a gap."""
    q = shown.query
    if q.insurance is not None and shown.lists("insurance", row, q.insurance):
        return (fit(f"Accepts {plan(q.insurance)}"),)
    said = [_fee(shown, row, q.max_fee)] if q.max_fee is not None else []
    if q.insurance is not None:
        said.append(gap(f"Does not accept {plan(q.insurance)}"))
    return said


FEATURE = Feature(
    name="cost",
    meaning="Affordable to the client: insurance accepted, fee or sliding scale in budget.",
    compute=compute,
    explain=per_row(explain),
    given=lambda q: q.max_fee is not None or q.insurance is not None,
    intake_fields=("max_fee", "insurance"),
    must_have=positive(compute),
    columns=(FEE, SLIDING, CURRENCY, INSURANCE),
    costly=True,
)
