"""Serving with gunicorn, configured for the machine it runs on."""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from matcher.config import Settings, share_metrics_through
from matcher.web.redaction import redact


def default_workers() -> int:
    """One worker per core: matching is CPU-bound numpy work, so more would only queue."""
    return max(2, os.cpu_count() or 1)


class BoundedThreadWorker(ThreadWorker):
    """Gunicorn's gthread worker, with each request bounded by ``timeout`` as sync workers are."""

    # Gthread's event loop keeps beating while its threads serve, so gunicorn's timeout never
    # fires for a stuck request. Here, while requests are in flight, the beat is dated at the
    # start of the oldest, which is what a sync worker's beat amounts to: once a request has run
    # ``timeout`` seconds the arbiter aborts the worker (SIGABRT, then SIGKILL a second later)
    # and starts another. The worker's other requests in flight are cut with it.

    # Gthread beats on every turn of its loop, a file-time syscall per request and more; the
    # arbiter's timeout is counted in seconds, so one beat in this many is plenty.
    BEAT_SECONDS = 0.5

    # A busy worker still takes one waiting connection in this long. Kept-alive clients can
    # hold more connections in a worker than it has threads, keeping every thread busy without
    # a pause: without this, a new connection would wait in the listen queue until they stop
    # (tests/test_serving.py measured 3 s, wrk's 2 s timeouts in bench/http_workers.py).
    ACCEPT_HOLD_SECONDS = 0.05

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._started: dict[int, float] = {}
        self._beat = 0.0
        self._in_flight = 0  # requests handed to the threads and not yet finished
        self._held_since = 0.0  # when accepting last stopped because every thread was busy

    # Accepting only while a thread is free. Every worker waits on the one listening socket,
    # and the first awake drains it: when a client opened many keep-alive connections at once
    # (wrk's 16), one worker could take them all and keep them, leaving the other idle (one
    # busiest worker at 100% in bench/http_workers.py). A worker whose threads are all busy now
    # leaves new connections to the others; once a thread frees up it accepts again.

    def set_accept_enabled(self, enabled: bool) -> None:
        """Gthread's switch, held off while every thread is busy (for ``ACCEPT_HOLD_SECONDS`` at
        most: gthread's loop asks again on every turn)."""
        free = self._in_flight < self.cfg.threads
        overdue = time.monotonic() - self._held_since >= self.ACCEPT_HOLD_SECONDS
        super().set_accept_enabled(enabled and (free or overdue))

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection's request to the threads; stop accepting if they are all busy."""
        self._in_flight += 1
        if self._in_flight >= self.cfg.threads and self._accepting:
            super().set_accept_enabled(False)
            self._held_since = time.monotonic()
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A request is done (on the main thread): one more thread is free."""
        self._in_flight -= 1
        super().finish_request(conn, fs)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """Serve one request, noting when it started."""
        thread = threading.get_ident()
        self._started[thread] = time.monotonic()
        try:
            return super().handle_request(req, conn)
        finally:
            self._started.pop(thread, None)

    def notify(self) -> None:
        """Tell the arbiter the worker is alive, as of the start of its oldest request (at most
        once every ``BEAT_SECONDS``)."""
        now = time.monotonic()
        if now - self._beat < self.BEAT_SECONDS:
            return
        self._beat = now
        started = list(self._started.values())
        if not started:
            super().notify()
            return
        # The same clock and file as gunicorn's WorkerTmp.notify, with the request's start time.
        oldest = min(started)
        os.utime(self.tmp.fileno(), (oldest, oldest))


class RedactingLogger(Logger):
    """Gunicorn's logger, whose access lines leave client references out (request line,
    path, query and referrer alike)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access-log atoms, each text one redacted."""
        found: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in found.items()}


# What each ``MATCHER_WORKER_CLASS`` runs.
WORKER_CLASSES = {"sync": "sync", "gthread": f"{__name__}.{BoundedThreadWorker.__name__}"}


def gunicorn_options(host: str, port: int, workers: int, settings: Settings) -> dict[str, Any]:
    """The gunicorn settings ``matcher serve`` uses."""
    shm = Path("/dev/shm")
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Gthread, 2 threads per worker, by bench/http_workers.py (figures in bench/README.md):
        # under wrk's keep-alive clients it served 1.5-4 times the requests of sync workers at 16
        # connections and more in 11 of 14 rounds at 4, with a p99 no worse and a quarter less
        # CPU per request (a sync worker closes every connection and waits for the client to
        # close its end). BoundedThreadWorker bounds its requests by ``timeout``, as sync's are.
        "worker_class": WORKER_CLASSES[settings.worker_class],
        "threads": settings.threads,
        # Build the app (and the matching index) once in the master; workers fork from it.
        "preload_app": True,
        "timeout": settings.timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        "max_requests": 0,
        # No gunicorn access log: its lines hold raw paths, which can hold client references.
        # The app logs one JSON line per request by route instead (matcher.web.logs).
        "accesslog": None,
        "errorlog": "-",
        "logger_class": f"{__name__}.{RedactingLogger.__name__}",
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
        self.cfg.set("child_exit", self._child_exit)

    def _post_fork(self, _server: Any, _worker: Any) -> None:
        # Connections opened in the master must not be shared with the forked workers.
        self.application.extensions["matcher"].db.dispose()

    def _child_exit(self, _server: Any, worker: Any) -> None:
        # A stopped worker's live gauges leave the sum (prometheus_client multiprocess mode).
        if self.application.config["MATCHER_SETTINGS"].metrics_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

    def load(self) -> Flask:
        """The WSGI app."""
        return self.application


def metrics_folder() -> Path:
    """A fresh folder where every worker writes its metrics; set before the app is built."""
    folder = Path(tempfile.mkdtemp(prefix="matcher-metrics-"))
    share_metrics_through(folder)
    return folder


def serve(app: Flask, *, host: str, port: int, workers: int) -> None:
    """Run gunicorn in the foreground until it is stopped."""
    settings: Settings = app.config["MATCHER_SETTINGS"]
    # What the master built (the app, the matching index) is shared with the workers page by
    # page until written. The cyclic collector writes to every object it scans, so move the
    # master's objects out of its reach: the workers keep sharing them (PSS, bench/README.md).
    gc.collect()
    gc.freeze()
    Server(app, gunicorn_options(host, port, workers, settings)).run()
