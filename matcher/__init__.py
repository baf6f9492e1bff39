"""matcher: therapist matching with a transparent model that learns from early alliance."""

from matcher.app import create_app

__all__ = ["create_app"]
