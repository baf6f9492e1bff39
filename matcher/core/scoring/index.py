"""The therapist directory as numpy arrays: built once, read by every match, changed by copy.

The index keeps its own columns (ids, names, and what the fixed filters read) and every column
the features declare (``Feature.columns``); it knows nothing feature-specific.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher import vocabulary as vocab
from matcher.collection import gc_paused
from matcher.core.scoring.columns import (
    Array,
    CodeSet,
    CodeTable,
    Column,
    Flag,
    Number,
    Profile,
    Table,
    Text,
    encode,
    seed_tables,
)

# Re-exported: the learning core and services name the array types from here.
from matcher.core.scoring.columns import Bits as Bits
from matcher.core.scoring.columns import Bools as Bools
from matcher.core.scoring.columns import Floats as Floats
from matcher.core.scoring.columns import Rows as Rows
from matcher.core.scoring.features import COLUMNS
from matcher.core.scoring.week import words_mask

# Fair exposure (product.md): without ratings a therapist sits at the population prior, not at 0.
PRIOR_ALLIANCE = 0.5
# The contract: an empty or absent populations list means the therapist sees adults.
DEFAULT_POPULATIONS = ("adults",)
_NO_ROWS: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
_NO_ROWS.flags.writeable = False


def _confirmed(profile: Profile) -> float | None:
    """When accepting was last confirmed, in POSIX seconds (None: never, read as NaN)."""
    when = profile.get("accepting_confirmed_at")
    return when.timestamp() if when is not None else None


def _jurisdictions(profile: Profile) -> list[Any]:
    return [lic.get("jurisdiction") for lic in profile.get("licenses") or ()]


# What every index holds whatever the features: who each row is, and the fixed filters' data.
# Jurisdictions get no seed: the served countries are configuration (the environment), which the
# core never reads; codes get bits as profiles bring them.
OWN_COLUMNS: tuple[Column, ...] = (
    Text("ids", lambda p: str(p["id"]), dtype=np.str_),
    Text("names", lambda p: str(p.get("name") or p["id"])),
    CodeSet("licensed", _jurisdictions, Table("jurisdictions")),
    CodeSet(
        "populations",
        lambda p: p.get("populations") or DEFAULT_POPULATIONS,
        Table("populations", tuple(vocab.POPULATIONS)),
    ),
    Flag("accepting", "accepting_new_clients"),
    Number("capacity", lambda p: p.get("capacity") or 0),
    # Availability freshness: the service compares it with its stale-after cutoff as one mask.
    Number("confirmed_at", _confirmed),
)


def _all_columns(features: Sequence[Column]) -> tuple[Column, ...]:
    own = {c.name for c in OWN_COLUMNS}
    clash = sorted(own & {c.name for c in features})
    if clash:
        raise ValueError(f"Feature columns may not reuse the index's own names: {clash}.")
    return (*OWN_COLUMNS, *features)


ALL_COLUMNS: tuple[Column, ...] = _all_columns(COLUMNS)
# Code and code-set columns -> the name of their code table (looked up for every bit test).
TABLE_OF: Mapping[str, str] = MappingProxyType(
    {c.name: c.table.name for c in ALL_COLUMNS if c.table is not None}
)


# Profiles encoded at a time when building: bounds the profile objects a build holds at once.
BUILD_CHUNK = 20_000


def _batches(profiles: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Profile]]:
    """The profiles in lists of at most ``size``."""
    batch: list[Profile] = []
    for profile in profiles:
        batch.append(profile)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch or size <= 0:
        yield batch


def _concatenate(
    parts: list[dict[str, Array]], tables: Mapping[str, CodeTable]
) -> dict[str, Array]:
    """Chunks' columns as one array each, earlier chunks widened to the final tables."""
    if not parts:
        parts = [encode([], ALL_COLUMNS, tables)[0]]
    if len(parts) == 1:
        return {c.name: c.widen(parts[0][c.name], tables) for c in ALL_COLUMNS}
    out = {}
    for c in ALL_COLUMNS:
        out[c.name] = np.concatenate([c.widen(part.pop(c.name), tables) for part in parts])
    return out


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


# Bit i of each byte value (256 x 8): a histogram of a byte times this counts each bit once.
_BYTE_BITS = (np.arange(256)[:, np.newaxis] >> np.arange(8) & 1).astype(np.intp)


@dataclass(frozen=True, eq=False)
class TherapistArrays:
    """Per-therapist read-only arrays and their code tables: everything a feature reads.

    The index is one (every therapist); so is each of its partitions (one jurisdiction's open
    therapists, contiguous), which a match reads instead of gathering rows across the index.
    """

    tables: Mapping[str, CodeTable]  # by table name
    columns: Mapping[str, Array]  # by column name
    alliance: Floats  # early-alliance records, set from ratings (PRIOR_ALLIANCE without)

    def __post_init__(self) -> None:
        for array in (*self.columns.values(), self.alliance):
            array.flags.writeable = False

    def gather(self, array: Array, rows: Rows) -> Array:
        """``array.take(rows)``, for one of this store's columns (or a view of one)."""
        return array.take(rows)

    def column(self, name: str) -> Array:
        """One per-therapist array, by column name."""
        return self.columns[name]

    def table(self, column: str) -> CodeTable:
        """The code table a code or code-set column is encoded with."""
        return self.tables[TABLE_OF[column]]

    def has(self, column: str, code: str | None, rows: Rows) -> Bools:
        """Whether each of ``rows`` lists ``code`` in a code-set column."""
        hit = self.table(column).bit(code)
        if hit is None:
            return np.zeros(len(rows), dtype=np.bool_)
        bits: Bits = self.columns[column]
        return np.asarray((self.gather(bits[:, hit[0]], rows) & int(hit[1])) != 0, np.bool_)

    def has_each(self, column: str, codes: Sequence[str], rows: Rows) -> list[Bools]:
        """``has`` for each of ``codes`` in turn, reading each bitset word of ``rows`` once."""
        table, bits = self.table(column), self.columns[column]
        words: dict[int, Bits] = {}
        out = []
        for code in codes:
            hit = table.bit(code)
            if hit is None:
                out.append(np.zeros(len(rows), dtype=np.bool_))
                continue
            word = words.get(hit[0])
            if word is None:
                word = words[hit[0]] = self.gather(bits[:, hit[0]], rows)
            out.append(np.asarray((word & int(hit[1])) != 0, np.bool_))
        return out

    def count(self, column: str, codes: Iterable[str], rows: Rows) -> npt.NDArray[np.intp]:
        """How many of ``codes`` each of ``rows`` lists in a code-set column."""
        query = self.table(column).query(codes)
        bits: Bits = self.columns[column]
        total = np.zeros(len(rows), dtype=np.intp)
        for word in np.flatnonzero(query).tolist():
            total += np.bitwise_count(self.gather(bits[:, word], rows) & int(query[word]))
        return total

    def tally(self, column: str, rows: Rows) -> list[int]:
        """How many of ``rows`` list each code of a code-set column, in the table's order.

        Counted a byte of the bitsets at a time (a histogram of its 256 values, then the bits of
        each value), so the cost grows with the bytes the codes span, not with the codes.
        """
        size = len(self.table(column).codes)
        words = np.ascontiguousarray(self.columns[column].take(rows, axis=0), dtype="<u8")
        octets = words.view(np.uint8)  # byte j of a row holds bits 8j..8j+7 (little-endian)
        counts: list[int] = []
        for byte in range(-(-size // 8)):
            histogram = np.bincount(octets[:, byte], minlength=256)
            counts += (histogram @ _BYTE_BITS).tolist()
        return counts[:size]

    def lists(self, column: str, row: int, code: str) -> bool:
        """Whether one therapist lists ``code`` in a code-set column (one bit test)."""
        position = self.tables[TABLE_OF[column]].position.get(code)
        if position is None:
            return False
        return bool(int(self.columns[column][row, position >> 6]) >> (position & 63) & 1)

    def codes_of(self, column: str, row: int) -> frozenset[str]:
        """The codes one therapist lists in a code-set column (for explaining one result)."""
        mask = words_mask(self.columns[column][row])
        codes = self.table(column).codes
        found = []
        while mask:
            low = mask & -mask
            found.append(codes[low.bit_length() - 1])
            mask ^= low
        return frozenset(found)

    def code(self, column: str, row: int) -> str | None:
        """One therapist's code in a single-code column (gender, currency), None if absent."""
        position = int(self.columns[column][row])
        return None if position < 0 else self.table(column).codes[position]


# What a partition copies: the columns a match reads for every open row of its jurisdiction
# (the age filter's populations and every feature column); ids, names and the fixed filters'
# other columns stay in the index only.
PARTITION_COLUMNS: tuple[str, ...] = ("populations", *(c.name for c in COLUMNS))


@dataclass(frozen=True, eq=False)
class Partition(TherapistArrays):
    """One jurisdiction's open therapists (licensed, accepting, capacity left) as contiguous
    copies of the index's feature columns: a match screens and scores them here, without
    gathering rows scattered across the whole index, and maps its rows back by ``rows``."""

    rows: Rows  # each partition row's row in the index, ascending (the index's ``open_in``)
    everyone: Rows  # 0..len-1, the one array for which ``gather`` reads a column whole

    def __len__(self) -> int:
        return len(self.rows)

    def gather(self, array: Array, rows: Rows) -> Array:
        """``array.take(rows)``; ``array`` itself (no copy) when ``rows`` is ``everyone``."""
        return array if rows is self.everyone else array.take(rows)

    @classmethod
    def of(
        cls,
        tables: Mapping[str, CodeTable],
        columns: Mapping[str, Array],
        alliance: Floats,
        rows: Rows,
    ) -> Partition:
        """The partition of the index ``rows`` (ascending) given its tables, columns, alliance."""
        return cls(
            tables=tables,
            columns=MappingProxyType(
                {n: _rows_of(columns[n], rows, _codes(tables, n)) for n in PARTITION_COLUMNS}
            ),
            alliance=alliance.take(rows),
            rows=rows,
            everyone=_read_only(np.arange(len(rows), dtype=np.intp)),
        )

    def nbytes(self) -> int:
        """Bytes held by the partition's arrays."""
        arrays = (*self.columns.values(), self.alliance, self.rows, self.everyone)
        return sum(a.nbytes for a in arrays)

    def with_alliance(self, alliance: Floats) -> Partition:
        """This partition with the index's new alliance records."""
        return replace(self, alliance=alliance.take(self.rows))

    def positions(self, rows: Rows) -> Rows | None:
        """Where index ``rows`` sit in this partition; None if one of them is not in it."""
        at = np.searchsorted(self.rows, rows)
        if len(at) and (at.max() >= len(self.rows) or not np.array_equal(self.rows[at], rows)):
            return None
        return at


def _read_only(array: Array) -> Array:
    array.flags.writeable = False
    return array


def _rows_of(array: Array, rows: Rows, codes: int | None) -> Array:
    """``array[rows]``; a bitset column-major again (a match reads it a word at a time) and, over
    a table of at most 32 codes, in the narrowest unsigned type that holds it (fewer bytes for
    a match to read; bits are tested with Python ints, which take the array's type)."""
    if array.ndim == 1:
        return array.take(rows)
    dtype = array.dtype
    if codes is not None and array.shape[1] == 1:
        dtype = next(t for t in _NARROW if codes <= 8 * t.itemsize)
    out = np.empty((len(rows), array.shape[1]), dtype=dtype, order="F")
    for word in range(array.shape[1]):
        out[:, word] = array[:, word].take(rows)
    return out


# Unsigned types for a one-word bitset, narrowest first.
_NARROW = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))


def _codes(tables: Mapping[str, CodeTable], column: str) -> int | None:
    """How many codes a code-set column's table holds (None: not a code-set column)."""
    table = TABLE_OF.get(column)
    return len(tables[table].codes) if table is not None and table in tables else None


def _partitions(
    tables: Mapping[str, CodeTable],
    columns: Mapping[str, Array],
    alliance: Floats,
    open_postings: Mapping[str, Rows],
) -> dict[str, Partition]:
    """Every jurisdiction's partition of its open rows (none for a jurisdiction without)."""
    return {
        code: Partition.of(tables, columns, alliance, rows)
        for code, rows in open_postings.items()
        if len(rows)
    }


@dataclass(frozen=True, eq=False)
class TherapistIndex(TherapistArrays):
    """Every therapist as one row of read-only arrays, rows ordered by therapist id."""

    rows: Mapping[str, int]
    postings: Mapping[str, Rows]  # jurisdiction -> rows licensed there, ascending
    # jurisdiction -> rows licensed there that are accepting with capacity left, ascending
    open_postings: Mapping[str, Rows]
    # jurisdiction -> its open rows' feature columns, contiguous (``Partition``)
    partitions: Mapping[str, Partition]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def ids(self) -> npt.NDArray[np.str_]:
        """Therapist ids, ascending."""
        return self.columns["ids"]

    @property
    def names(self) -> npt.NDArray[np.object_]:
        """Therapist display names."""
        return self.columns["names"]

    @classmethod
    def build(
        cls,
        profiles: Iterable[Mapping[str, Any]],
        *,
        alliance: Mapping[str, float] | None = None,
        chunk: int = BUILD_CHUNK,
    ) -> TherapistIndex:
        """Encode profiles once (a repeated id: the last one wins).

        Profiles are read ``chunk`` at a time and each chunk is encoded into arrays before the
        next is read, so a build from a stream (database rows, a generator) never holds more
        than one chunk of profile objects.
        """
        parts: list[dict[str, Array]] = []
        tables = seed_tables(ALL_COLUMNS)
        with gc_paused():
            for batch in _batches(profiles, chunk):
                encoded, tables = encode(batch, ALL_COLUMNS, tables)
                parts.append(encoded)
                del batch, encoded
        columns = _concatenate(parts, tables)
        del parts
        ids = columns["ids"]
        order = np.argsort(ids, kind="stable")
        # A repeated id: keep its last occurrence (the stable sort keeps arrival order).
        last = np.ones(len(order), dtype=np.bool_)
        if len(order) > 1:
            last[:-1] = ids[order[:-1]] != ids[order[1:]]
        order = order[last]
        if not (len(order) == len(ids) and np.array_equal(order, np.arange(len(ids)))):
            columns = {name: array[order] for name, array in columns.items()}
        index = cls._assemble(tables, columns, np.full(len(order), PRIOR_ALLIANCE))
        return index.with_alliance(alliance) if alliance else index

    @classmethod
    def _assemble(
        cls, tables: Mapping[str, CodeTable], columns: dict[str, Array], alliance: Floats
    ) -> TherapistIndex:
        rows = MappingProxyType({k: i for i, k in enumerate(columns["ids"].tolist())})
        for name, array in columns.items():
            if array.ndim == 2:
                # Column-major: a match reads one word of many rows, which is then contiguous.
                columns[name] = np.asfortranarray(array)
        # Jurisdiction is the first filter and removes most of the directory, so each
        # jurisdiction keeps its row list and a match never scans the whole directory.
        # The capacity filter comes next and depends on nothing in the intake, so each
        # jurisdiction also keeps the rows that pass it: a match starts from those.
        postings, open_postings = {}, {}
        licensed = columns["licensed"]
        is_open = columns["accepting"] & (columns["capacity"] > 0)
        for code, position in tables["jurisdictions"].position.items():
            word, bit = position // 64, np.uint64(1 << (position % 64))
            found = np.flatnonzero(licensed[:, word] & bit)
            if len(found):
                taking = found[is_open[found]]
                found.flags.writeable = taking.flags.writeable = False
                postings[code], open_postings[code] = found, taking
        tables = MappingProxyType(dict(tables))
        alliance.flags.writeable = False
        return cls(
            tables=tables,
            rows=rows,
            postings=MappingProxyType(postings),
            open_postings=MappingProxyType(open_postings),
            columns=MappingProxyType(columns),
            alliance=alliance,
            partitions=MappingProxyType(_partitions(tables, columns, alliance, open_postings)),
        )

    def parts(self) -> tuple[dict[str, CodeTable], dict[str, Array], Floats]:
        """What the index is made of (tables, columns, alliance), to rebuild it elsewhere."""
        return dict(self.tables), dict(self.columns), self.alliance

    @classmethod
    def from_parts(
        cls, tables: Mapping[str, CodeTable], columns: Mapping[str, Array], alliance: Floats
    ) -> TherapistIndex:
        """The index ``parts`` describe (the lookups are rebuilt from the columns)."""
        return cls._assemble(tables, dict(columns), alliance)

    def with_changes(
        self, upserts: Sequence[Mapping[str, Any]], removed_ids: Iterable[str] = ()
    ) -> TherapistIndex:
        """A new index with profiles added, replaced or removed; this one stays valid."""
        latest = {str(p["id"]): p for p in upserts}
        removed = set(removed_ids)
        for therapist_id in removed:  # removed in the same batch: removal wins
            latest.pop(therapist_id, None)
        ordered = sorted(latest)
        with gc_paused():
            new, tables = encode([latest[k] for k in ordered], ALL_COLUMNS, self.tables)
        # A replaced profile keeps its alliance record: ratings belong to the therapist.
        new_alliance = np.array(
            [self.alliance[self.rows[k]] if k in self.rows else PRIOR_ALLIANCE for k in ordered],
            dtype=np.float64,
        )
        keep = np.ones(len(self), dtype=np.bool_)
        keep[[self.rows[k] for k in removed | set(latest) if k in self.rows]] = False
        merged = {
            c.name: np.concatenate([c.widen(self.columns[c.name][keep], tables), new[c.name]])
            for c in ALL_COLUMNS
        }
        alliance = np.concatenate([self.alliance[keep], new_alliance])
        order = np.argsort(merged["ids"], kind="stable")
        columns = {name: array[order] for name, array in merged.items()}
        return self._assemble(tables, columns, alliance[order])

    def with_alliance(self, alliance: Mapping[str, float] | None) -> TherapistIndex:
        """A new index with every alliance record replaced (absent ids: the prior)."""
        values = _alliance_array(self.rows, len(self), alliance)
        values.flags.writeable = False
        partitions = {code: part.with_alliance(values) for code, part in self.partitions.items()}
        return replace(self, alliance=values, partitions=MappingProxyType(partitions))

    def licensed_in(self, jurisdiction: str | None) -> Rows:
        """Rows licensed in a jurisdiction, ascending."""
        return self.postings.get(jurisdiction or "", _NO_ROWS)

    def open_in(self, jurisdiction: str | None) -> Rows:
        """Rows licensed in a jurisdiction, accepting new clients with capacity left, ascending."""
        return self.open_postings.get(jurisdiction or "", _NO_ROWS)

    def partition(self, jurisdiction: str | None) -> Partition | None:
        """The jurisdiction's open therapists as a contiguous partition (None: none there)."""
        return self.partitions.get(jurisdiction or "")

    def nbytes(self) -> int:
        """Bytes held by the row arrays, partitions' included (not counting the id lookup or the
        name strings)."""
        own = sum(a.nbytes for a in self.columns.values()) + self.alliance.nbytes
        return own + sum(part.nbytes() for part in self.partitions.values())
