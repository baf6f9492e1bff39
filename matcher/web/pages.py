"""Pages for people that belong to no one face: the front page."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """A page saying what this service is, with links to each face."""
    return render_template("home.html")
