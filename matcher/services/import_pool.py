"""Checking an NDJSON import over several processes: blocks of lines out, rows to write back.

Each worker parses, validates and serialises whole blocks of lines with the serial path's own
``directory.check_record`` and ``therapists.row``; the parent takes the outcomes in record order
through the same ``directory.Outcomes``, so the refusal, its report and the kept rows are the
serial path's. Workers are forked: they start with everything already imported.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from matcher.collection import gc_paused
from matcher.services import directory
from matcher.storage import therapists as stored

# Blocks handed out ahead of the one being taken, per worker: enough to keep every worker busy,
# few enough that a refused import stops reading soon after its limit.
AHEAD = 2
# Workers' niceness: a bulk import yields the cores to the service's requests and other writers.
NICE = 5
# A block's outcomes (None when every record was accepted) and the rows of its accepted records.
Checked = tuple[list[directory.Outcome] | None, list[stored.Row]]


def usable_cores() -> int:
    """How many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_block(block: bytes, line: int) -> Checked:
    """Every record of whole NDJSON lines checked: outcomes in order, rows of the accepted ones."""
    outcomes: list[directory.Outcome] = []
    rows: list[stored.Row] = []
    clean = True
    with gc_paused():
        for record in directory.block_records(block, line):
            profile, outcome = directory.check_record(record)
            outcomes.append(outcome)
            if profile is not None:
                rows.append(stored.row(profile))
            else:
                clean = False
    return (None if clean else outcomes), rows  # the ids of a clean block are its rows' first


def validate_ndjson(
    chunks: Iterable[bytes],
    *,
    workers: int,
    limits: directory.ImportLimits,
    progress: Callable[[int], None] | None = None,
) -> stored.Batch:
    """``directory.validate_import`` of NDJSON chunks, checked by ``workers`` forked processes."""
    blocks = checked_blocks(chunks, workers=workers, limits=limits, progress=progress)
    return stored.Batch(rows=[row for rows in blocks for row in rows])


def checked_blocks(
    chunks: Iterable[bytes],
    *,
    workers: int,
    limits: directory.ImportLimits,
    progress: Callable[[int], None] | None = None,
) -> Generator[list[stored.Row], None, None]:
    """The rows ``validate_ndjson`` keeps, a block's at a time as the workers check them.

    Refused (``Refused``) once every block is checked, as ``directory.validate_import`` would
    be; rows given before then are only for writing in a transaction that a refusal undoes.
    """
    outcomes = directory.Outcomes(limits, progress)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_yield_to_others)
    try:
        with gc_paused():
            for block_outcomes, rows in _in_order(pool, directory.ndjson_blocks(chunks), workers):
                if block_outcomes is None:
                    ids = [row[0] for row in rows]
                    if outcomes.take_accepted(ids):
                        yield rows
                        continue
                    block_outcomes = list[directory.Outcome](ids)
                accepted, kept = iter(rows), []
                for outcome in block_outcomes:
                    row = next(accepted) if isinstance(outcome, str) else None
                    if outcomes.take(outcome) and row is not None:
                        kept.append(row)
                yield kept
    finally:  # refused early (the record limit): the blocks not started are dropped
        pool.shutdown(wait=True, cancel_futures=True)
    outcomes.finish()


def _yield_to_others() -> None:
    """Run a worker at a lower priority: the service's own processes keep their turn."""
    os.nice(NICE)


def _in_order(
    pool: ProcessPoolExecutor, blocks: Iterator[tuple[bytes, int]], workers: int
) -> Iterator[Checked]:
    """Each block's result in the order of the blocks, with a few blocks in flight.

    A worker that dies (killed for memory, say) fails the import (BrokenProcessPool) rather
    than leaving it waiting.
    """
    pending: deque[Future[Checked]] = deque()
    for block, line in blocks:
        pending.append(pool.submit(check_block, block, line))
        if len(pending) > AHEAD * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
