"""Per-therapist columns: how each is read from a profile and kept as one numpy array.

A feature declares the columns it reads (``Feature.columns``); the index builds every declared
column and patches them on change, so a feature that needs new profile data declares it in its
own record and the index is not touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.core.scoring.week import MASK_WORDS, week_mask

Bits = npt.NDArray[np.uint64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.intp]
Array = npt.NDArray[Any]
Profile = Mapping[str, Any]
# A key path into the profile ("faith", "fee.amount"), or a function of the whole profile.
Read = str | Callable[[Profile], Any]

MISSING = -1  # the position stored for an absent single code


@dataclass(frozen=True)
class CodeTable:
    """One code table's codes in bit order: its seed codes first, then any others seen."""

    codes: tuple[str, ...]
    position: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        positions = {code: i for i, code in enumerate(self.codes)}
        object.__setattr__(self, "position", MappingProxyType(positions))

    def __reduce__(self) -> tuple[type[CodeTable], tuple[tuple[str, ...]]]:
        """Pickled as its codes (the lookup is rebuilt)."""
        return (CodeTable, (self.codes,))

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
class Table:
    """A named code table, and the codes (a vocabulary) given the first, stable bits."""

    name: str
    seed: tuple[str, ...] = ()


class Encoder:
    """Turns codes into positions and bitsets, growing its table for codes it has not seen."""

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
        except KeyError:  # codes this table has not seen yet: add them, in order of appearance
            for code in dict.fromkeys(code for codes in lists if codes for code in codes):
                self.number(code)
        try:
            return [reduce(or_, map(get, codes), 0) if codes else 0 for codes in lists]
        except KeyError:  # a stray None in a list
            return [
                reduce(or_, (get(c) for c in codes if c is not None), 0) if codes else 0
                for codes in lists
            ]

    def table(self) -> CodeTable:
        """The table as grown so far (dicts keep insertion order, which is bit order)."""
        return CodeTable(tuple(self.positions))


class Reader:
    """Reads one value per profile; each parent object (``fee``, ``location``) is read once."""

    def __init__(self, profiles: Sequence[Profile]) -> None:
        self.profiles = profiles
        self._parents: dict[tuple[str, ...], list[Profile]] = {(): list(profiles)}

    def values(self, read: Read) -> list[Any]:
        """The value ``read`` finds in each profile (None where absent)."""
        if callable(read):
            return [read(p) for p in self.profiles]
        *path, key = read.split(".")
        return [parent.get(key) for parent in self._parent(tuple(path))]

    def _parent(self, path: tuple[str, ...]) -> list[Profile]:
        found = self._parents.get(path)
        if found is None:
            found = [p.get(path[-1]) or {} for p in self._parent(path[:-1])]
            self._parents[path] = found
        return found


def bitsets(masks: list[int], words: int) -> Bits:
    """Python-int masks as an (n, words) uint64 array, least significant word first."""
    if words == 1:
        return np.array(masks, dtype=np.uint64).reshape(len(masks), 1)
    raw = b"".join(mask.to_bytes(8 * words, "little") for mask in masks)
    return np.frombuffer(raw, dtype="<u8").reshape(len(masks), words).astype(np.uint64)


@dataclass(frozen=True)
class Column:
    """One array with a row per therapist, read from the profiles."""

    name: str
    read: Read

    @property
    def table(self) -> Table | None:
        """The code table the column is encoded with, if any."""
        return None

    def raw(self, reader: Reader, encoders: Mapping[str, Encoder]) -> Any:
        """First pass: read the profiles (code tables may grow)."""
        return reader.values(self.read)

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """Second pass: the array, once every table has its final size."""
        raise NotImplementedError

    def widen(self, array: Array, tables: Mapping[str, CodeTable]) -> Array:
        """An older array made to fit grown tables (only bitsets over a table change)."""
        return array


@dataclass(frozen=True)
class CodeSet(Column):
    """A set of codes per therapist, as a bitset over a code table (languages, formats)."""

    codes: Table

    @property
    def table(self) -> Table:
        """The code table the bitsets are over."""
        return self.codes

    def raw(self, reader: Reader, encoders: Mapping[str, Encoder]) -> Any:
        """Bitsets as Python ints (the table may still grow)."""
        return encoders[self.codes.name].column(reader.values(self.read))

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """(n, words) uint64."""
        return bitsets(raw, tables[self.codes.name].words)

    def widen(self, array: Array, tables: Mapping[str, CodeTable]) -> Array:
        """Zero words added on the right for a table that grew past a word boundary."""
        extra = tables[self.codes.name].words - array.shape[1]
        return np.pad(array, ((0, 0), (0, extra))) if extra > 0 else array


@dataclass(frozen=True)
class Code(Column):
    """One code per therapist (gender, currency), as its position in a table; MISSING if absent."""

    codes: Table

    @property
    def table(self) -> Table:
        """The code table the positions are in."""
        return self.codes

    def raw(self, reader: Reader, encoders: Mapping[str, Encoder]) -> Any:
        """Positions (the table may still grow)."""
        return encoders[self.codes.name].numbers(reader.values(self.read))

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """int16 positions."""
        return np.array(raw, dtype=np.int16)


@dataclass(frozen=True)
class Number(Column):
    """A number per therapist, NaN where absent; ``scale`` converts units (degrees to radians)."""

    scale: float = 1.0

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """float64 (numpy reads None as NaN)."""
        values = np.array(raw, dtype=np.float64)
        return values * self.scale if self.scale != 1.0 else values


@dataclass(frozen=True)
class Flag(Column):
    """A yes/no per therapist (absent is no)."""

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """bool."""
        return np.array([bool(v) for v in raw], dtype=np.bool_)


@dataclass(frozen=True)
class Text(Column):
    """A string per therapist (ids, names)."""

    dtype: Any = object

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """Strings, as ``dtype``."""
        return np.array(raw, dtype=self.dtype)


@dataclass(frozen=True)
class Week(Column):
    """Weekly windows per therapist, as (n, MASK_WORDS) bitsets of quarter hours."""

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """(n, MASK_WORDS) uint64, in the therapist's own zone."""
        return bitsets([week_mask(windows) for windows in raw], MASK_WORDS)


@dataclass(frozen=True)
class Levels(Column):
    """Small integer ratings on fixed keys (style dimensions); an unrated key counts as 0."""

    keys: tuple[str, ...] = ()

    def array(self, raw: Any, tables: Mapping[str, CodeTable]) -> Array:
        """(n, len(keys)) int8."""
        rated = [r or {} for r in raw]
        # Key by key: a few long lists build faster than many short ones.
        grid = np.array([[r.get(k) for r in rated] for k in self.keys], dtype=np.float64)
        grid = grid.reshape(len(self.keys), len(rated)).T
        return np.where(np.isnan(grid), 0, grid).astype(np.int8)


def seed_tables(columns: Iterable[Column]) -> dict[str, CodeTable]:
    """A fresh table for every table the columns name, seeded with its codes."""
    tables: dict[str, Table] = {}
    for column in columns:
        table = column.table
        if table is None:
            continue
        if tables.setdefault(table.name, table) != table:
            raise ValueError(f"Code table {table.name!r} is declared with two different seeds.")
    return {name: CodeTable(table.seed) for name, table in tables.items()}


def encode(
    profiles: Sequence[Profile], columns: Sequence[Column], tables: Mapping[str, CodeTable]
) -> tuple[dict[str, Array], dict[str, CodeTable]]:
    """Profiles (already in row order) as column arrays, and the tables grown to cover them."""
    encoders = {name: Encoder(table) for name, table in tables.items()}
    reader = Reader(profiles)
    raw = {column.name: column.raw(reader, encoders) for column in columns}
    grown = {name: encoder.table() for name, encoder in encoders.items()}
    return {column.name: column.array(raw[column.name], grown) for column in columns}, grown
