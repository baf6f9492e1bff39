"""Pausing Python's cyclic garbage collector around work that allocates much and frees nothing."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the block runs.

    Encoding or validating allocates hundreds of thousands of short-lived lists, dicts and ints,
    none in cycles; each collection would rescan every kept profile dict.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
