"""The long-lived parts one process shares: settings, database, matching index, key cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session

from matcher.config import Settings
from matcher.services.keys import KeyCache, UseLog
from matcher.services.matching import MatchService
from matcher.storage.database import Database


@dataclass
class Services:
    """The app's long-lived parts, kept in ``app.extensions["matcher"]``."""

    settings: Settings
    db: Database
    matching: MatchService
    readiness: dict[str, Callable[[], str]] = field(default_factory=dict)
    rng: np.random.Generator = field(default_factory=np.random.default_rng)
    wording: dict[str, list[str]] = field(default_factory=dict)
    keys: KeyCache = field(default_factory=KeyCache)
    uses: UseLog = field(default_factory=UseLog)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for a request that only reads."""
        with self.db.session() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """The request's one write transaction: committed when the block ends, else rolled back."""
        with self.db.transaction() as session:
            yield session
