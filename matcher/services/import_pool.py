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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from matcher.collection import gc_paused
from matcher.services import directory
from matcher.storage import therapists as stored

# Blocks handed out ahead of the one being taken, per worker: enough to keep every worker busy,
# few enough that a refused import stops reading soon after its limit.
AHEAD = 2
# Blocks handed out at the start, per worker: enough for the workers to check while the command
# opens and checks its database (a block is about 1,100 profiles, some 50 ms of a core).
STARTING = 8
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
    with Checking(chunks, workers=workers, limits=limits, progress=progress) as checking:
        return stored.Batch(rows=[row for rows in checking for row in rows])


class Checking:
    """NDJSON blocks checked by forked workers from the moment this is made; iterated, the rows
    ``validate_ndjson`` keeps, a block's at a time, in order.

    Made first, the workers check while the caller does the rest of its start (the database).
    Iterating refuses (``Refused``) once every block is checked, as ``validate_import`` would;
    rows given before then are only for a transaction that a refusal undoes.
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        *,
        workers: int,
        limits: directory.ImportLimits,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.outcomes = directory.Outcomes(limits, progress)
        self.ahead = AHEAD * workers
        self.blocks = directory.ndjson_blocks(chunks)
        self.pending: deque[Future[Checked]] = deque()
        context = multiprocessing.get_context("fork")
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_yield_to_others)
        self._hand_out(STARTING * workers)

    def __enter__(self) -> Checking:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers; the blocks not started are dropped (refused early, say)."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __iter__(self) -> Iterator[list[stored.Row]]:
        outcomes = self.outcomes
        with gc_paused():
            for block_outcomes, rows in self._in_order():
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
        self.close()
        outcomes.finish()

    def _hand_out(self, up_to: int) -> None:
        """Blocks submitted until ``up_to`` are in flight (or none is left)."""
        while len(self.pending) < up_to:
            block = next(self.blocks, None)
            if block is None:
                return
            self.pending.append(self.pool.submit(check_block, *block))

    def _in_order(self) -> Iterator[Checked]:
        """Each block's result in the order of the blocks, with a few blocks in flight.

        A worker that dies (killed for memory, say) fails the import (BrokenProcessPool) rather
        than leaving it waiting.
        """
        while self.pending:
            checked = self.pending.popleft().result()
            self._hand_out(self.ahead + 1)
            yield checked


def _yield_to_others() -> None:
    """Run a worker at a lower priority: the service's own processes keep their turn."""
    os.nice(NICE)
