"""The therapist directory as numpy arrays: built once, read by every match, changed by copy."""

from __future__ import annotations

import contextlib
import functools
import gc
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import reduce
from operator import or_
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher import vocabulary as vocab

Bits = npt.NDArray[np.uint64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.intp]

SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
WEEK_SLOTS = 7 * SLOTS_PER_DAY  # 672 quarter hours, Monday 00:00 first
MASK_WORDS = -(-WEEK_SLOTS // 64)  # 11 words; the last 32 bits stay zero
WEEK_FULL = (1 << WEEK_SLOTS) - 1
DAY_INDEX: Mapping[str, int] = MappingProxyType({day: i for i, day in enumerate(vocab.DAYS)})
STYLE_KEYS: tuple[str, ...] = tuple(vocab.STYLE_DIMENSIONS)
# Fair exposure (product.md): without ratings a therapist sits at the population prior, not at 0.
PRIOR_ALLIANCE = 0.5
# The contract: an empty or absent populations list means the therapist sees adults.
DEFAULT_POPULATIONS = ("adults",)
MISSING = -1
_NO_ROWS: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
_NO_ROWS.flags.writeable = False


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


def mask_words(mask: int) -> Bits:
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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while encoding.

    Encoding allocates hundreds of thousands of short-lived lists and ints, none in cycles; each
    collection would rescan every profile dict, which costs about a quarter of the build.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class CodeTable:
    """One vocabulary's codes in bit order: the vocabulary's own first, then any others seen."""

    codes: tuple[str, ...]
    position: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        positions = {code: i for i, code in enumerate(self.codes)}
        object.__setattr__(self, "position", MappingProxyType(positions))

    @property
    def words(self) -> int:
        """How many uint64 words a bitset over this table needs."""
        return max(1, -(-len(self.codes) // 64))

    def bit(self, code: str | None) -> tuple[int, np.uint64] | None:
        """The word and bit of one code, or None for a code no therapist uses."""
        pos = self.position.get(code) if code is not None else None
        return None if pos is None else (pos // 64, np.uint64(1 << (pos % 64)))

    def query(self, codes: Iterable[str]) -> Bits:
        """A bitset of the given codes (unknown ones match no therapist)."""
        out = np.zeros(self.words, dtype=np.uint64)
        for code in codes:
            hit = self.bit(code)
            if hit is not None:
                out[hit[0]] |= hit[1]
        return out


@dataclass(frozen=True)
class Tables:
    """Every code table an index's columns are encoded with."""

    jurisdictions: CodeTable
    modalities: CodeTable
    concerns: CodeTable
    populations: CodeTable
    languages: CodeTable
    identities: CodeTable
    formats: CodeTable
    insurance: CodeTable
    genders: CodeTable
    faiths: CodeTable
    currencies: CodeTable
    timezones: CodeTable

    @classmethod
    def default(cls) -> Tables:
        """Tables seeded from the vocabulary, so the common codes have stable bits."""
        return cls(
            jurisdictions=CodeTable(tuple(vocab.jurisdictions())),
            modalities=CodeTable(tuple(vocab.MODALITIES)),
            concerns=CodeTable(tuple(vocab.CONCERNS)),
            populations=CodeTable(tuple(vocab.POPULATIONS)),
            languages=CodeTable(tuple(vocab.languages())),
            identities=CodeTable(tuple(vocab.IDENTITIES)),
            formats=CodeTable(tuple(vocab.FORMATS)),
            insurance=CodeTable(()),
            genders=CodeTable(tuple(vocab.GENDERS)),
            faiths=CodeTable(tuple(vocab.FAITHS)),
            currencies=CodeTable(()),
            timezones=CodeTable(()),
        )


class _Encoder:
    """Turns code lists into Python-int bitsets, growing its table for codes it has not seen."""

    def __init__(self, table: CodeTable) -> None:
        self.positions = dict(table.position)
        self.bits = {code: 1 << i for code, i in self.positions.items()}

    def number(self, code: str | None) -> int:
        """The code's position (MISSING for None), adding it if new."""
        if code is None:
            return MISSING
        position = self.positions.get(code)
        if position is None:
            position = self.positions[code] = len(self.positions)
            self.bits[code] = 1 << position
        return position

    def numbers(self, codes: Sequence[str | None]) -> list[int]:
        """One position per row, for single-valued fields (MISSING for None)."""
        get = self.positions.__getitem__
        try:
            return [MISSING if code is None else get(code) for code in codes]
        except KeyError:  # codes this table has not seen yet
            return [self.number(code) for code in codes]

    def column(self, lists: Sequence[Iterable[str] | None]) -> list[int]:
        """One bitset per row; the fast path assumes every code is already known."""
        get = self.bits.__getitem__
        try:
            return [reduce(or_, map(get, codes), 0) if codes else 0 for codes in lists]
        except KeyError:  # codes this table has not seen yet (or a stray None)
            for codes in lists:
                for code in codes or ():
                    self.number(code)
            return [
                reduce(or_, (get(c) for c in codes if c in self.bits), 0) if codes else 0
                for codes in lists
            ]

    def table(self) -> CodeTable:
        """The table as grown so far (dicts keep insertion order, which is bit order)."""
        return CodeTable(tuple(self.positions))


def _bitsets(masks: list[int], words: int) -> Bits:
    if words == 1:
        return np.array(masks, dtype=np.uint64).reshape(len(masks), 1)
    raw = b"".join(mask.to_bytes(8 * words, "little") for mask in masks)
    return np.frombuffer(raw, dtype="<u8").reshape(len(masks), words).astype(np.uint64)


def _encode(profiles: Sequence[Mapping[str, Any]], tables: Tables) -> tuple[dict[str, Any], Tables]:
    """Profiles (already in row order) as column arrays, and the tables grown to cover them."""
    enc = {f.name: _Encoder(getattr(tables, f.name)) for f in fields(Tables)}
    ps = profiles
    fees = [p.get("fee") or {} for p in ps]
    places = [p.get("location") or {} for p in ps]
    styles = [p.get("style") or {} for p in ps]
    licenses = [[lic.get("jurisdiction") for lic in p.get("licenses") or ()] for p in ps]
    shared = enc["identities"].column([p.get("identities") for p in ps])
    known = enc["identities"].column([p.get("competencies") for p in ps])
    sets = {
        "licensed": enc["jurisdictions"].column(licenses),
        "modalities": enc["modalities"].column([p.get("modalities") for p in ps]),
        "concerns": enc["concerns"].column([p.get("concerns") for p in ps]),
        "populations": enc["populations"].column(
            [p.get("populations") or DEFAULT_POPULATIONS for p in ps]
        ),
        "languages": enc["languages"].column([p.get("languages") for p in ps]),
        "identities": shared,
        "competent": [a | b for a, b in zip(shared, known, strict=True)],
        "formats": enc["formats"].column([p.get("formats") for p in ps]),
        "insurance": enc["insurance"].column([p.get("insurance") for p in ps]),
    }
    scalars = {
        "ids": [str(p["id"]) for p in ps],
        "names": [str(p.get("name") or p["id"]) for p in ps],
        "gender": enc["genders"].numbers([p.get("gender") for p in ps]),
        "faith": enc["faiths"].numbers([p.get("faith") for p in ps]),
        "accepting": [bool(p.get("accepting_new_clients")) for p in ps],
        "capacity": [p.get("capacity") or 0 for p in ps],
        # Absent numbers are None, which numpy reads as NaN in a float array.
        "fee": [fee.get("amount") for fee in fees],
        "sliding": [fee.get("sliding_scale_min") for fee in fees],
        "currency": enc["currencies"].numbers([fee.get("currency") for fee in fees]),
        "lat": [place.get("lat") for place in places],
        "lon": [place.get("lon") for place in places],
        "timezone": enc["timezones"].numbers([p.get("timezone") or "UTC" for p in ps]),
    }
    grown = Tables(**{name: e.table() for name, e in enc.items()})
    width = {name: getattr(grown, table).words for name, table in _SET_COLUMNS.items()}
    cols: dict[str, Any] = {name: _bitsets(sets[name], width[name]) for name in _SET_COLUMNS}
    for name, dtype in _SCALAR_COLUMNS.items():
        cols[name] = np.array(scalars[name], dtype=dtype)
    cols["lat"], cols["lon"] = np.radians(cols["lat"]), np.radians(cols["lon"])
    raw_style = np.array(
        [[s.get(k) for s in styles] for k in STYLE_KEYS], dtype=np.float64
    ).T.reshape(len(ps), len(STYLE_KEYS))
    cols["style_given"] = ~np.isnan(raw_style)
    # A dimension the therapist did not rate counts as the neutral midpoint, 0.
    cols["style"] = np.where(cols["style_given"], raw_style, 0).astype(np.int8)
    cols["availability"] = _bitsets([week_mask(p.get("availability")) for p in ps], MASK_WORDS)
    cols["alliance"] = np.full(len(ps), PRIOR_ALLIANCE)
    return cols, grown


# Bitset columns and the table each is encoded with.
_SET_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "licensed": "jurisdictions",
        "modalities": "modalities",
        "concerns": "concerns",
        "populations": "populations",
        "languages": "languages",
        "identities": "identities",
        "competent": "identities",
        "formats": "formats",
        "insurance": "insurance",
    }
)
_SCALAR_COLUMNS: Mapping[str, Any] = MappingProxyType(
    {
        "ids": np.str_,
        "names": object,
        "gender": np.int8,
        "faith": np.int8,
        "accepting": np.bool_,
        "capacity": np.float64,
        "fee": np.float64,
        "sliding": np.float64,
        "currency": np.int16,
        "lat": np.float64,
        "lon": np.float64,
        "timezone": np.int16,
    }
)


def _alliance_array(
    rows: Mapping[str, int], count: int, alliance: Mapping[str, float] | None
) -> Floats:
    values = np.full(count, PRIOR_ALLIANCE)
    for therapist_id, value in (alliance or {}).items():
        row = rows.get(therapist_id)
        if row is not None:
            values[row] = value
    if not (np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()):
        raise ValueError("Alliance records must be finite numbers in [0, 1].")
    return values


def _pad(array: Bits, words: int) -> Bits:
    extra = words - array.shape[1]
    return np.pad(array, ((0, 0), (0, extra))) if extra > 0 else array


@dataclass(frozen=True, eq=False)
class TherapistIndex:
    """Every therapist as one row of read-only arrays, rows ordered by therapist id."""

    tables: Tables
    rows: Mapping[str, int]
    postings: Mapping[str, Rows]  # jurisdiction -> rows licensed there, ascending
    ids: npt.NDArray[np.str_]
    names: npt.NDArray[np.object_]
    licensed: Bits
    modalities: Bits
    concerns: Bits
    populations: Bits
    languages: Bits
    identities: Bits
    competent: Bits  # competencies and identities: a member of a community counts as competent
    formats: Bits
    insurance: Bits
    gender: npt.NDArray[np.int8]
    faith: npt.NDArray[np.int8]
    accepting: Bools
    capacity: Floats
    fee: Floats  # NaN when no fee is listed
    sliding: Floats  # NaN when there is no sliding scale
    currency: npt.NDArray[np.int16]
    lat: Floats  # radians, NaN without a location
    lon: Floats
    availability: Bits  # (n, MASK_WORDS): weekly quarter hours in the therapist's own zone
    timezone: npt.NDArray[np.int16]
    style: npt.NDArray[np.int8]  # (n, 4) in STYLE_KEYS order, 0 where not given
    style_given: Bools
    alliance: Floats

    def __post_init__(self) -> None:
        for name in _ROW_ARRAYS:
            getattr(self, name).flags.writeable = False

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls, profiles: Iterable[Mapping[str, Any]], *, alliance: Mapping[str, float] | None = None
    ) -> TherapistIndex:
        """Encode profiles once (a repeated id: the last one wins)."""
        latest = {str(p["id"]): p for p in profiles}
        with _gc_paused():
            cols, tables = _encode([latest[k] for k in sorted(latest)], Tables.default())
        index = cls._assemble(tables, cols)
        return index.with_alliance(alliance) if alliance else index

    @classmethod
    def _assemble(cls, tables: Tables, cols: dict[str, Any]) -> TherapistIndex:
        rows = MappingProxyType({k: i for i, k in enumerate(cols["ids"].tolist())})
        for name in (*_SET_COLUMNS, "availability"):
            # Column-major: a match reads one word of many rows, which is then contiguous.
            cols[name] = np.asfortranarray(cols[name])
        # Jurisdiction is the first filter and removes most of the directory, so each
        # jurisdiction keeps its row list and a match never scans the whole directory.
        postings = {}
        for code, position in tables.jurisdictions.position.items():
            word, bit = position // 64, np.uint64(1 << (position % 64))
            found = np.flatnonzero(cols["licensed"][:, word] & bit)
            if len(found):
                found.flags.writeable = False
                postings[code] = found
        return cls(tables=tables, rows=rows, postings=MappingProxyType(postings), **cols)

    def with_changes(
        self, upserts: Sequence[Mapping[str, Any]], removed_ids: Iterable[str] = ()
    ) -> TherapistIndex:
        """A new index with profiles added, replaced or removed; this one stays valid."""
        latest = {str(p["id"]): p for p in upserts}
        removed = set(removed_ids)
        for therapist_id in removed:  # removed in the same batch: removal wins
            latest.pop(therapist_id, None)
        ordered = sorted(latest)
        with _gc_paused():
            new, tables = _encode([latest[k] for k in ordered], self.tables)
        # A replaced profile keeps its alliance record: ratings belong to the therapist.
        new["alliance"] = np.array(
            [self.alliance[self.rows[k]] if k in self.rows else PRIOR_ALLIANCE for k in ordered],
            dtype=np.float64,
        )
        keep = np.ones(len(self), dtype=np.bool_)
        keep[[self.rows[k] for k in removed | set(latest) if k in self.rows]] = False
        merged: dict[str, Any] = {}
        for name in _ROW_ARRAYS:
            old = getattr(self, name)[keep]
            if name in _SET_COLUMNS:
                old = _pad(old, new[name].shape[1])
            merged[name] = np.concatenate([old, new[name]])
        order = np.argsort(merged["ids"], kind="stable")
        return self._assemble(tables, {name: merged[name][order] for name in _ROW_ARRAYS})

    def with_alliance(self, alliance: Mapping[str, float] | None) -> TherapistIndex:
        """A new index with every alliance record replaced (absent ids: the prior)."""
        return replace(self, alliance=_alliance_array(self.rows, len(self), alliance))

    def nbytes(self) -> int:
        """Bytes held by the row arrays (not counting the id lookup or the name strings)."""
        return sum(getattr(self, name).nbytes for name in _ROW_ARRAYS)

    def licensed_in(self, jurisdiction: str | None) -> Rows:
        """Rows licensed in a jurisdiction, ascending."""
        return self.postings.get(jurisdiction or "", _NO_ROWS)

    def has(self, column: str, code: str | None, rows: Rows) -> Bools:
        """Whether each of ``rows`` lists ``code`` in a bitset column."""
        bits: Bits = getattr(self, column)
        hit = getattr(self.tables, _SET_COLUMNS[column]).bit(code)
        if hit is None:
            return np.zeros(len(rows), dtype=np.bool_)
        return np.asarray((bits[:, hit[0]].take(rows) & hit[1]) != 0, np.bool_)

    def count(self, column: str, codes: Iterable[str], rows: Rows) -> npt.NDArray[np.intp]:
        """How many of ``codes`` each of ``rows`` lists in a bitset column."""
        query = getattr(self.tables, _SET_COLUMNS[column]).query(codes)
        bits: Bits = getattr(self, column)
        total = np.zeros(len(rows), dtype=np.intp)
        for word in np.flatnonzero(query).tolist():
            total += np.bitwise_count(bits[:, word].take(rows) & query[word])
        return total

    def lists(self, column: str, row: int, code: str) -> bool:
        """Whether one therapist lists ``code`` in a bitset column (one bit test)."""
        located = getattr(self.tables, _SET_COLUMNS[column]).bit(code)
        if located is None:
            return False
        word, mask = located
        return bool(getattr(self, column)[row, word] & mask)

    def codes_of(self, column: str, row: int) -> frozenset[str]:
        """The codes one therapist lists in a bitset column (for explaining one result)."""
        mask = words_mask(getattr(self, column)[row])
        codes = getattr(self.tables, _SET_COLUMNS[column]).codes
        found = []
        while mask:
            low = mask & -mask
            found.append(codes[low.bit_length() - 1])
            mask ^= low
        return frozenset(found)


_ROW_ARRAYS: tuple[str, ...] = tuple(
    f.name for f in fields(TherapistIndex) if f.name not in ("tables", "rows", "postings")
)
