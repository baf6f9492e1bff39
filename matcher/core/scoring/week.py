"""The week as 672 quarter hours: weekly windows as bit masks, and time zones as slot shifts."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import reduce
from operator import or_
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher import vocabulary as vocab

SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
WEEK_SLOTS = 7 * SLOTS_PER_DAY  # 672 quarter hours, Monday 00:00 first
MASK_WORDS = -(-WEEK_SLOTS // 64)  # 11 words; the last 32 bits stay zero
WEEK_FULL = (1 << WEEK_SLOTS) - 1
DAY_INDEX: Mapping[str, int] = MappingProxyType({day: i for i, day in enumerate(vocab.DAYS)})


def clock_minutes(clock: str) -> int:
    """Minutes since midnight of an ``HH:MM`` time (``24:00`` is 1440)."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


@functools.lru_cache(maxsize=65536)
def _window_mask(day: str, start: str, end: str) -> int:
    """One window's quarter hours; windows repeat a lot across a directory, so cached."""
    offset = DAY_INDEX[day] * SLOTS_PER_DAY
    # A partly covered quarter hour does not count: overlap is never overstated.
    first = offset - (-clock_minutes(start) // SLOT_MINUTES)
    stop = offset + clock_minutes(end) // SLOT_MINUTES
    return ((1 << (stop - first)) - 1) << first if stop > first else 0


def week_mask(windows: Iterable[Mapping[str, Any]] | None) -> int:
    """Weekly windows as a 672-bit mask of the quarter hours they cover entirely."""
    masks = [_window_mask(w["day"], w["start"], w["end"]) for w in windows or ()]
    return reduce(or_, masks, 0)


def rotate(mask: int, slots: int) -> int:
    """Move a weekly mask ``slots`` quarter hours later, wrapping Sunday into Monday."""
    slots %= WEEK_SLOTS
    return ((mask << slots) | (mask >> (WEEK_SLOTS - slots))) & WEEK_FULL


def mask_words(mask: int) -> npt.NDArray[np.uint64]:
    """A weekly mask as MASK_WORDS uint64 words, least significant first."""
    raw = mask.to_bytes(8 * MASK_WORDS, "little")
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def words_mask(words: npt.ArrayLike) -> int:
    """The inverse of mask_words: uint64 words (least significant first) back to one int."""
    return int.from_bytes(np.asarray(words, dtype="<u8").tobytes(), "little")


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def offset_slots(timezone: str | None, now: datetime) -> int:
    """The zone's UTC offset at ``now`` in quarter hours (an unknown zone counts as UTC)."""
    zone = _zone(timezone) if timezone else None
    offset = now.astimezone(zone).utcoffset() if zone is not None else None
    return 0 if offset is None else round(offset.total_seconds() / (60 * SLOT_MINUTES))
