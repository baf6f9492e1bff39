"""The admin console under ``/admin/``: weights, candidates, publishing, people, keys, directory."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
