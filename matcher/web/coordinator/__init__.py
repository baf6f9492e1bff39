"""The intake coordinator's pages under ``/coordinator/``: intake, results, referral, alliance."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

# The views register themselves on ``bp`` when imported.
from matcher.web.coordinator import clients, intake, results, urgent, waitlist  # noqa: E402, F401
