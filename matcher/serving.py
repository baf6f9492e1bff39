"""Serving with gunicorn, configured for the machine it runs on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    """One worker per core: matching is CPU-bound numpy work, so more would only queue."""
    return max(2, os.cpu_count() or 1)


def gunicorn_options(
    host: str, port: int, workers: int, *, worker_class: str = "sync"
) -> dict[str, Any]:
    """The gunicorn settings ``matcher serve`` uses."""
    shm = Path("/dev/shm")
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Sync workers: matching is CPU-bound, and with threaded workers one process keeps every
        # keep-alive connection it accepted, leaving the other cores idle (measured: one busy
        # worker, one idle, under wrk). Sync workers close each connection, so the kernel spreads
        # requests across processes. Put a reverse proxy in front for slow clients, as gunicorn
        # advises; MATCHER_WORKER_CLASS=gthread switches to threads.
        "worker_class": worker_class,
        "threads": 4,
        # Build the app (and the matching index) once in the master; workers fork from it.
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "max_requests": 0,
        "accesslog": "-",
        "errorlog": "-",
        # Gunicorn 27 opens a control socket at one shared path; two services would collide.
        "control_socket_disable": True,
        "worker_tmp_dir": str(shm) if shm.is_dir() else None,
    }


class Server(BaseApplication):
    """Gunicorn running an already-built Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply ``options`` to gunicorn's configuration."""
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)
        self.cfg.set("post_fork", self._post_fork)

    def _post_fork(self, _server: Any, _worker: Any) -> None:
        # Connections opened in the master must not be shared with the forked workers.
        self.application.extensions["matcher"].db.dispose()

    def load(self) -> Flask:
        """The WSGI app."""
        return self.application


def serve(app: Flask, *, host: str, port: int, workers: int) -> None:
    """Run gunicorn in the foreground until it is stopped."""
    worker_class = app.extensions["matcher"].settings.worker_class
    Server(app, gunicorn_options(host, port, workers, worker_class=worker_class)).run()
