"""The intake coordinator's pages under ``/coordinator/``: intake, results, referral, alliance."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
