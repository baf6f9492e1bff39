"""Pages for people that belong to no one face: the front page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """A page saying what this service is, with links to each face."""
    return render_template("home.html")


PAGE_ERRORS = {
    400: ("Something in that request was not right", "Go back and try again."),
    403: ("You cannot see this page", "Your account does not have access. Ask an admin."),
    404: ("Page not found", "Check the address, or start again from the front page."),
    422: ("Something in that form cannot be kept", "Remove hidden or control characters from it."),
    405: ("That action is not possible here", "Go back and try again."),
    429: ("Too many tries", "Wait a minute, then try again."),
    500: ("Sorry, something went wrong", "It has been logged. Try again in a moment."),
}


def error_page(error: HTTPException) -> tuple[str, int]:
    """A page for people that explains an error in plain words, inside the site's layout."""
    status = error.code or 500
    heading, message = PAGE_ERRORS.get(status, PAGE_ERRORS[400])
    if isinstance(error, CSRFError):
        heading = "This form has expired"
        message = (
            "For your safety the form could not be sent (CSRF check). "
            "Reload the page and send it again."
        )
    data = getattr(error, "data", None) or {}
    fields = sorted(data.get("errors") or {})
    page = render_template(
        "error.html", title=heading, heading=heading, message=message, fields=fields
    )
    return page, status
