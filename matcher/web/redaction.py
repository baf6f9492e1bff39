"""Client references out of access logs: a path or query naming a client is logged without it.

A client's reference travels in a few URLs (``/api/v1/clients/{ref}``, the coordinator's
``/coordinator/clients/{ref}`` pages and the find form's ``?client_ref=``). Werkzeug's and
gunicorn's access lines would copy them; these helpers put ``-`` in their place.
"""

from __future__ import annotations

import logging
import re

_IN_PATH = re.compile(r"(/clients/)[^/?#\s\"]+")
_IN_QUERY = re.compile(r"([?&]client_ref=)[^&#\s\"]*")


def redact(text: str) -> str:
    """``text`` (a request line, path, query or URL) with every client reference as ``-``."""
    return _IN_QUERY.sub(r"\1-", _IN_PATH.sub(r"\1-", text))


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message arguments (werkzeug's request line) through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; keep it."""
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact_werkzeug_log() -> None:
    """Make the development server's access log leave client references out (once)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
