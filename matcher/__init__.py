"""matcher: therapist matching with a transparent model that learns from early alliance."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``matcher.create_app``, imported when first asked for (the command line starts faster)."""
    if name == "create_app":
        from matcher.app import create_app

        return create_app
    raise AttributeError(f"module 'matcher' has no attribute {name!r}")
