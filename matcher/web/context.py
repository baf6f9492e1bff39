"""What every view shares: the app's services, reached through one typed accessor."""

from __future__ import annotations

from flask import current_app

from matcher.services.runtime import Services

__all__ = ["Services", "services"]


def services() -> Services:
    """The current app's services."""
    found: Services = current_app.extensions["matcher"]
    return found
