"""Helpers for the admin console: signed-in clients (shared with the coordinator pages), history."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from matcher.lab.simulation.history import History, play_history
from tests.web.coordinator.conftest import PASSWORD, sign_in, token

__all__ = ["PASSWORD", "history", "sign_in", "token"]


@pytest.fixture
def history(demo_app: Flask) -> Callable[[int], History]:
    """Play simulated clients through the services on the demo directory (as the demo does)."""

    def played(referrals: int = 60) -> History:
        return play_history(demo_app.extensions["matcher"].matching, referrals=referrals)

    return played
