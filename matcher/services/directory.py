"""The therapist directory: validated upserts, all-or-nothing imports, deactivation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import orjson
from sqlmodel import Session

from matcher.collection import gc_paused
from matcher.schemas.fields import (
    UNPAIRED,
    count_messages,
    field_path,
    flatten_errors,
    invalid_text,
)
from matcher.schemas.profile import validate_profile
from matcher.services.errors import Invalid, Malformed, NotFound
from matcher.storage import counters
from matcher.storage import therapists as stored
from matcher.storage.tables import Therapist
from matcher.storage.therapists import TherapistFilter
from matcher.storage.types import utcnow

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
# NDJSON is read this much at a time; a record's line may span chunks.
CHUNK_BYTES = 1 << 20
# From a line's first character that is not white space to the line's end: blank lines, however
# many, are skipped inside the regular-expression engine rather than one by one in Python.
_LINE = re.compile(rb"[^\s][^\n]*")
_BOM = b"\xef\xbb\xbf"

Kept = TypeVar("Kept")

__all__ = ["NDJSON_TYPES", "ImportLimits", "Report", "Therapist", "TherapistFilter", "Unreadable"]


@dataclass(frozen=True)
class Unreadable:
    """An NDJSON line that is not JSON (or not UTF-8), in place of its record."""

    line: int
    message: str


@dataclass(frozen=True)
class ImportLimits:
    """What one import may hold: records (None: any number) and problems listed in a refusal."""

    max_records: int | None = None
    max_errors: int = 100


def read_chunks(stream: IO[bytes], size: int | None = None) -> Iterator[bytes]:
    """A binary stream a chunk at a time (``CHUNK_BYTES`` unless told), until it ends."""
    while chunk := stream.read(size or CHUNK_BYTES):
        yield chunk


def ndjson_blocks(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, int]]:
    """NDJSON given in chunks of bytes, as whole lines: (block, the number of its first line)."""
    line, head, first = 1, bytearray(), True
    for chunk in chunks:
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            head += chunk  # a long line: a bytearray grows without copying what it holds
            continue
        block = bytes(head + chunk[:cut]) if head else chunk[:cut]
        head = bytearray(chunk[cut:])
        if first:  # the first block holds the whole first line, and so any byte-order mark
            block, first = block.removeprefix(_BOM), False
        yield block, line
        line += block.count(b"\n")
    yield (bytes(head).removeprefix(_BOM) if first else bytes(head)), line


def ndjson_records(chunks: Iterable[bytes]) -> Iterator[Any]:
    """Each record of NDJSON given in chunks of bytes, as it arrives (Unreadable for a bad line)."""
    for block, line in ndjson_blocks(chunks):
        yield from block_records(block, line)


def block_records(block: bytes, line: int) -> Iterator[Any]:
    """The records of whole NDJSON lines, the first of them line number ``line``."""
    last, loads = 0, orjson.loads
    for found in _LINE.finditer(block):
        raw = found.group()
        try:  # orjson reads a line several times faster, and reads it as json does ...
            record = loads(raw)
        except orjson.JSONDecodeError:  # ... except what it refuses (NaN, a lone surrogate,
            # huge numbers): json decides. Lines are counted only up to such a line, whose
            # message may need its number.
            line += block.count(b"\n", last, found.start())
            last = found.start()
            record = _record(raw, line)
        yield record


def _record(raw: bytes, line: int) -> Any:
    """A line orjson refused, read by json: its record, or why it is Unreadable."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Unreadable(line, "Not UTF-8 text.")
    except (ValueError, RecursionError) as err:
        return Unreadable(line, f"Invalid JSON: {err}")


def json_array(body: bytes | str) -> list[Any]:
    """The records of a JSON array body (read whole: its byte limit is the lower one)."""
    try:  # orjson where it can (it takes UTF-8 with no byte-order mark); json for the rest
        records = orjson.loads(body)
    except orjson.JSONDecodeError:
        records = _json_array(body)
    if not isinstance(records, list):
        raise Invalid("Body is not a JSON array.", {"body": ["Expected a JSON array of profiles."]})
    return records


def _json_array(body: bytes | str) -> Any:
    """A JSON body read by json, which names what is wrong with it."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError as err:
        raise Malformed("The body is not UTF-8.", {"body": ["Not UTF-8 text."]}) from err
    try:
        records = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise Malformed("Body is not JSON.", {"body": [f"Invalid JSON: {err}"]}) from err
    return records


def parse_records(text: str, *, ndjson: bool) -> list[Any]:
    """Read a JSON array or NDJSON (one JSON object a line; blank lines ignored)."""
    if ndjson:
        return list(ndjson_records([text.encode("utf-8", "surrogatepass")]))
    return json_array(text)


class Report:
    """Problems found so far: the first ``cap`` listed, every one counted."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.errors: dict[str, list[str]] = {}
        self.problems = 0
        self.items = 0

    @property
    def full(self) -> bool:
        return len(self.errors) >= self.cap

    def add(self, errors: dict[str, list[str]]) -> None:
        self.items += 1
        for path, messages in errors.items():
            self.problems += len(messages)
            if not self.full:
                self.errors[path] = messages

    def count(self, messages: Any) -> None:
        """Count a record's problems without naming them (the list is full)."""
        self.items += 1
        self.problems += count_messages(messages)

    def detail(self, summary: str) -> str:
        listed = sum(len(messages) for messages in self.errors.values())
        if listed == self.problems:
            return summary
        return f"{summary} The first {listed} of {self.problems} problems are listed."


@dataclass(frozen=True)
class Rejected:
    """A record the schema refused: its messages, and the record when it holds a lone surrogate."""

    messages: dict[str, Any]
    unpaired: Any = None


# What checking one record gives: the accepted profile's id, or why it was not accepted.
Outcome = str | Unreadable | Rejected


def check_record(record: Any) -> tuple[dict[str, Any] | None, Outcome]:
    """One record validated: (the profile, its id), or (None, why it was not accepted)."""
    if isinstance(record, Unreadable):
        return None, record
    profile, messages = validate_profile(record)
    if profile is None:
        # An accepted profile holds no lone surrogate (its free text is checked, every other
        # string is a code); a refused one may, anywhere, keys included: then that is all its
        # report says, so no message repeats a string that cannot be stored.
        return None, Rejected(messages, record if invalid_text(record) is not None else None)
    return profile, profile["id"]


class Outcomes:
    """An import's outcomes taken in record order: the record limit, repeated ids, the report."""

    def __init__(self, limits: ImportLimits, progress: Callable[[int], None] | None) -> None:
        self.limits, self.progress = limits, progress
        self.invalid, self.unreadable = Report(limits.max_errors), Report(limits.max_errors)
        self.first_seen: dict[str, int] = {}
        self.count = 0

    def next_index(self) -> int:
        """The next record's index; refuses a record past the limit before it is checked."""
        index, limit = self.count, self.limits.max_records
        if limit is not None and index >= limit:
            raise Invalid(
                f"More than {limit} profiles in one import; nothing imported. "
                "Send them in several imports.",
                {"body": [f"At most {limit} profiles per import."]},
            )
        return index

    def take(self, outcome: Outcome) -> bool:
        """Count the next record's outcome; True when its profile is to be kept."""
        index = self.next_index()
        self.count += 1
        if self.progress:
            self.progress(1)
        if isinstance(outcome, str):
            earlier = self.first_seen.setdefault(outcome, index)
            if earlier != index:
                self.invalid.add({field_path([index, "id"]): [f"Same id as record {earlier}."]})
                return False
            # kept only while the import can still succeed
            return not (self.invalid.items or self.unreadable.items)
        if isinstance(outcome, Unreadable):
            self.unreadable.add({f"line {outcome.line}": [outcome.message]})
        elif outcome.unpaired is not None:
            self.invalid.add({invalid_text(outcome.unpaired, [index]) or "body": [UNPAIRED]})
        elif self.invalid.full:
            self.invalid.count(outcome.messages)
        else:
            self.invalid.add(flatten_errors(outcome.messages, [index]))
        return False

    def take_accepted(self, ids: list[str]) -> bool:
        """Take a run of accepted records at once: True when every one is kept, as ``take``
        would say; False, with nothing taken, when any is not (then ``take`` each)."""
        limit, start, count = self.limits.max_records, self.count, len(ids)
        if self.invalid.items or self.unreadable.items:
            return False
        if limit is not None and start + count > limit:
            return False
        if len(set(ids)) != count or not self.first_seen.keys().isdisjoint(ids):
            return False
        self.first_seen.update(zip(ids, range(start, start + count), strict=True))
        self.count += count
        if self.progress:
            self.progress(count)
        return True

    def finish(self) -> None:
        """Refuse the import if any record was not accepted, or if there was none."""
        refuse_problems(self.unreadable, self.invalid, self.count, nothing="No profiles given.")


def _checked(
    records: Iterable[Any],
    keep: Callable[[dict[str, Any]], Kept],
    limits: ImportLimits,
    progress: Callable[[int], None] | None,
) -> list[Kept]:
    """Every record checked in order, ``keep`` of each accepted profile kept; refused as told."""
    outcomes = Outcomes(limits, progress)
    kept: list[Kept] = []
    # Validated profiles are kept, so the collector would rescan them at every collection:
    # paused (they hold no cycles), the whole import validates in about half the time.
    with gc_paused():
        for record in records:
            outcomes.next_index()
            profile, outcome = check_record(record)
            if outcomes.take(outcome) and profile is not None:
                kept.append(keep(profile))
    outcomes.finish()
    return kept


def validate_records(
    records: Iterable[Any],
    *,
    limits: ImportLimits = ImportLimits(),
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Validate every record (at most ``limits.max_records``); refuse naming the bad ones."""
    return _checked(records, _same, limits, progress)


def validate_import(
    records: Iterable[Any],
    *,
    limits: ImportLimits = ImportLimits(),
    progress: Callable[[int], None] | None = None,
) -> stored.Batch:
    """Validate every record as ``validate_records`` does, each accepted one made a row to write."""
    return stored.Batch(rows=_checked(records, stored.row, limits, progress))


def _same(profile: dict[str, Any]) -> dict[str, Any]:
    return profile


def refuse_problems(unreadable: Report, invalid: Report, count: int, *, nothing: str) -> None:
    """Refuse an import that had unreadable lines, invalid records, or no record at all."""
    if unreadable.items:
        summary = f"{unreadable.items} NDJSON lines are not JSON; nothing imported."
        raise Malformed(unreadable.detail(summary), unreadable.errors)
    if invalid.items:
        summary = f"{invalid.items} of {count} records are invalid; nothing imported."
        raise Invalid(invalid.detail(summary), invalid.errors)
    if not count:
        raise Invalid("Nothing to import.", {"body": [nothing]})


def prepare_import(profiles: Sequence[dict[str, Any]]) -> stored.Batch:
    """Validated profiles made ready to write; call it before the write transaction."""
    with gc_paused():
        return stored.prepare(profiles)


def import_profiles(
    session: Session, *, profiles: Sequence[dict[str, Any]] | stored.Batch
) -> tuple[int, int]:
    """Create or replace every profile in the caller's transaction: (created, updated)."""
    batch = profiles if isinstance(profiles, stored.Batch) else stored.prepare(profiles)
    revision = counters.bump(session, name=counters.DIRECTORY)
    return stored.upsert(session, batch=batch, revision=revision, now=utcnow())


def upsert_profile(session: Session, *, profile: dict[str, Any]) -> bool:
    """Create or replace one profile; True when it was created."""
    created, _ = import_profiles(session, profiles=[profile])
    return created == 1


def get_therapist(session: Session, *, therapist_id: str) -> Therapist:
    """One therapist, active or not; NotFound when there is none."""
    therapist = stored.get(session, therapist_id=therapist_id)
    if therapist is None:
        raise NotFound(f"No therapist {therapist_id!r}.")
    return therapist


def get_therapists(session: Session, *, ids: Sequence[str]) -> dict[str, Therapist]:
    """Therapists by id, active or not (unknown ids left out)."""
    return stored.get_many(session, ids=ids)


def list_therapists(
    session: Session, *, where: TherapistFilter, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page of therapists in id order, and how many match in all."""
    return stored.page(session, where=where, page=page, page_size=page_size)


def deactivate(session: Session, *, therapist_id: str) -> None:
    """Stop matching a therapist (history stays); NotFound when there is none."""
    therapist = get_therapist(session, therapist_id=therapist_id)
    if therapist.active:
        revision = counters.bump(session, name=counters.DIRECTORY)
        stored.deactivate(session, therapist=therapist, revision=revision, now=utcnow())


def count_active(session: Session) -> int:
    """How many therapists are matchable."""
    return stored.count_active(session)


def search_therapists(
    session: Session, *, text: str | None, jurisdiction: str | None, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page of therapists, active or not, found by part of a name or id and jurisdiction."""
    return stored.search(
        session, text=text, jurisdiction=jurisdiction, page=page, page_size=page_size
    )
