"""The application factory."""

from __future__ import annotations

__all__ = ["Services", "create_app"]

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from matcher import vocabulary
from matcher.config import Settings
from matcher.core.learning.instruments import load_wording
from matcher.services import models as model_versions
from matcher.services.alliance import AllianceRecordSource
from matcher.services.freshness import Freshness
from matcher.services.matching import MatchService
from matcher.services.runtime import Services
from matcher.storage.database import Database
from matcher.web import init_web

SYNC_REMEMBERED = 1024  # far more than the app's hooks and views


class MatcherFlask(Flask):
    """Flask, remembering which hooks and views are plain functions.

    Flask asks ``inspect`` whether each before- and after-request hook and the view is a
    coroutine on every request (about 25 questions a match); the answer never changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ``ensure_sync``, once per function."""
        found = self._sync.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync) < SYNC_REMEMBERED:  # per-request callbacks are not kept for ever
                self._sync[func] = found
        return found


def create_app(settings: Settings | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the app from ``settings`` (default: the ``MATCHER_*`` environment)."""
    settings = settings or Settings.from_env()
    app = MatcherFlask(
        "matcher",
        template_folder="web/templates",
        static_folder="web/static",
        instance_path=instance_path or settings.instance_path,
    )
    app.config.update(settings.flask_config())
    if settings.proxies:
        # The client's address and scheme as the trusted proxies saw them (the last N hops).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    vocabulary.serve_countries(settings.countries)

    db = Database(settings.resolved_database_url(app.instance_path))
    matching = MatchService(
        db,
        weights=model_versions.active_weights,
        alliance=AllianceRecordSource(),
        freshness=Freshness(settings.stale_after_days, settings.stale_policy),
    )
    # Licensed item wording, only when an organisation points the service at its own file.
    wording = load_wording(settings.instrument_wording) if settings.instrument_wording else {}
    app.extensions["matcher"] = Services(
        settings=settings,
        db=db,
        matching=matching,
        readiness={"matching": matching.readiness},
        wording=wording,
    )
    init_web(app)
    return app
