"""Availability: weekly time in common with the client's windows, enough at two hours.

Value: min(1, overlap / min(120, client minutes)), on 15-minute slots of the week; a slot counts
only if a window covers it entirely; both zones are read at the match instant (so DST is right).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher.core.scoring.columns import Bools, Code, Floats, Rows, Table, Week
from matcher.core.scoring.feature import Feature, Said, Shown, fit, gap
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.week import (
    MASK_WORDS,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    mask_words,
    offset_slots,
    rotate,
)

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

WINDOWS = Week("availability", "availability")  # in the therapist's own zone
# A profile without a zone is read in UTC, as an unknown zone is.
ZONE = Code("timezone", lambda p: p.get("timezone") or "UTC", Table("timezones"))

# Two hours in common is plenty to book weekly sessions: more overlap adds nothing.
TARGET_MINUTES = 120
# The must-have: about one 50-minute session with a little slack.
MIN_OVERLAP_MINUTES = 60
EN_DASH = "\u2013"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_STARTS = sum(1 << (d * SLOTS_PER_DAY) for d in range(7))


def overlap_minutes(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """Weekly minutes both free, with each side's zone read at ``now``."""
    if not q.availability or not len(rows):
        return np.zeros(len(rows))
    zone_of = index.gather(index.column("timezone"), rows)
    names = index.table("timezone").codes
    client = offset_slots(q.timezone, now)
    present = np.flatnonzero(np.bincount(zone_of, minlength=len(names))).tolist()
    windows = index.column("availability")
    common = np.zeros(len(rows), dtype=np.int64)
    if len(present) == 1:  # one zone (a jurisdiction's usual case): the client's week once
        week = mask_words(rotate(q.availability, offset_slots(names[present[0]], now) - client))
        for word, bits in enumerate(week.tolist()):
            if bits:  # words the client never uses add 0
                common += np.bitwise_count(index.gather(windows[:, word], rows) & np.uint64(bits))
        return np.asarray(SLOT_MINUTES * common, np.float64)
    # The client's week rotated into each therapist zone present, as one row per zone.
    shifted = np.zeros((len(names), MASK_WORDS), dtype=np.uint64)
    for zone in present:
        shifted[zone] = mask_words(rotate(q.availability, offset_slots(names[zone], now) - client))
    for word in np.flatnonzero(shifted.any(axis=0)).tolist():  # words the client never uses: 0
        their = index.gather(windows[:, word], rows)
        common += np.bitwise_count(their & shifted[:, word].take(zone_of))
    return np.asarray(SLOT_MINUTES * common, np.float64)


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """min(1, overlap / min(120, client's minutes)): enough common time to book sessions."""
    needed = min(TARGET_MINUTES, SLOT_MINUTES * q.availability.bit_count())
    if not needed:
        return np.zeros(len(rows))
    return np.asarray(np.minimum(1.0, overlap_minutes(index, q, rows, now) / needed), np.float64)


def must_have(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Bools:
    """At least MIN_OVERLAP_MINUTES of the client's weekly times in common."""
    return np.asarray(overlap_minutes(index, q, rows, now) >= MIN_OVERLAP_MINUTES, np.bool_)


def _clock(slot: int, *, end: bool = False) -> str:
    """A week slot as HH:MM; a window ending at midnight ends at 24:00."""
    minutes = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
    if end and minutes == 0:
        minutes = 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Each slot's start as HH:MM, and each slot as a window's end (a window ending at midnight
# ends at 24:00), read from a table: a match names the first window of every shown result.
STARTS = tuple(_clock(slot) for slot in range(SLOTS_PER_DAY))
ENDS = tuple(_clock(slot, end=True) for slot in range(SLOTS_PER_DAY))
NO_TIME = gap("No availability in the times you gave")


def _say(common: int) -> Said:
    """The first window in common (in the client's time), or how little there is."""
    if not common:
        return NO_TIME
    minutes = SLOT_MINUTES * common.bit_count()
    if minutes < MIN_OVERLAP_MINUTES:
        return gap(f"Only {minutes} minutes a week in common with your times")
    start = (common & -common).bit_length() - 1
    run = common >> start
    day, slot = divmod(start, SLOTS_PER_DAY)
    # run ^ (run + 1) keeps the run's trailing ones and one bit more.
    length = min((run ^ (run + 1)).bit_length() - 1, SLOTS_PER_DAY - slot)
    end = ENDS[(slot + length) % SLOTS_PER_DAY]
    text = f"Available {DAY_NAMES[day]} {STARTS[slot]}{EN_DASH}{end} your time"
    # Windows are counted day by day: a slot starts one if the slot before is not free
    # or belongs to the day before.
    starts = common & ~((common << 1) & ~DAY_STARTS)
    more = starts.bit_count() - 1
    if more:
        text += f" (and {more} more {'window' if more == 1 else 'windows'})"
    return fit(text)


def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
    """Each shown therapist's time in common, in the client's own time."""
    q, index = shown.query, shown.index
    client = offset_slots(q.timezone, shown.now)
    zones = index.table("timezone").codes
    windows = shown.masks("availability")
    shifts: dict[int, int] = {}  # zone position -> slots from the therapist's to the client's
    said: list[Sequence[Said]] = []
    for row, zone in zip(
        shown.rows.tolist(), index.column("timezone").take(shown.rows).tolist(), strict=True
    ):
        if zone not in shifts:
            shifts[zone] = client - offset_slots(zones[zone], shown.now)
        therapist = rotate(windows[row], shifts[zone])
        said.append((_say(q.availability & therapist),))
    return said


FEATURE = Feature(
    name="availability",
    meaning="Weekly hours in common with the client's times, up to two hours.",
    compute=compute,
    explain=explain,
    given=lambda q: q.gave_availability,
    intake_fields=("availability",),
    must_have=must_have,
    columns=(WINDOWS, ZONE),
    costly=True,
)
