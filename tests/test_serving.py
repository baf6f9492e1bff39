"""``matcher serve`` as the README runs it: gunicorn, the demo directory, a printed key."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.workers.sync import SyncWorker

from matcher.bundled import data_dir
from matcher.config import Settings
from matcher.services.demo import create_demo_key
from matcher.services.keys import create_key
from matcher.services.models import ensure_default
from matcher.serving import BoundedThreadWorker, gunicorn_options
from matcher.storage.database import Database
from matcher.storage.schema import upgrade
from tests.web.api.test_match import CONTRACT_REQUEST

DEMO_KEY_LINE = re.compile(r"Demo API key \(all scopes\): (\S+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(
    url: str, key: str | None = None, body: Any = None, *, timeout: float = 10, **headers: str
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **headers}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@contextmanager
def _serving(instance: Path, *args: str, **env: str) -> Iterator[tuple[str, Path]]:
    """Run ``matcher serve ARGS`` until it is ready; yield its base URL and its log."""
    port = _free_port()
    environment = dict(os.environ, MATCHER_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    environment.pop("MATCHER_DATABASE_URL", None)
    environment.update(env)
    log_path = instance.parent / f"serve-{port}.log"
    command = [sys.executable, "-m", "matcher", "serve", "--port", str(port), "--workers", "2"]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*command, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a bound on start-up, generous for a busy machine
        while True:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            if "Booting worker" in log_path.read_text():
                try:
                    if _call(f"{base}/readyz")[0] == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.3)
        yield base, log_path
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _demo_key(log: Path) -> str:
    found = DEMO_KEY_LINE.search(log.read_text())
    assert found, log.read_text()
    return found.group(1)


def _migrated(instance: Path) -> Database:
    """The database ``matcher serve`` will use in ``instance``, migrated."""
    instance.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{instance / 'matcher.sqlite3'}")
    upgrade(db)
    with db.transaction() as session:
        ensure_default(session)
    return db


def _check_access_lines_keep_client_references_out(base: str, key: str, log: Path) -> None:
    """No log line of the served app holds a client reference (request line or referrer)."""
    marker = "MARKER-REF-31337"
    erase = urllib.request.Request(
        f"{base}/api/v1/clients/{marker}",
        method="DELETE",
        headers={"Authorization": f"Bearer {key}", "Referer": f"{base}/x?client_ref={marker}"},
    )
    with urllib.request.urlopen(erase, timeout=10) as response:
        assert response.status == 204
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(f"{base}/coordinator/clients?client_ref={marker}", timeout=10)
    # Gunicorn's own access log is off (its lines hold raw paths); the app logs each request by
    # its route, as one JSON line.
    deadline = time.monotonic() + 10
    while not any(
        '"route": "/api/v1/clients/' in line and '"status": 204' in line
        for line in log.read_text().splitlines()
    ):
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    assert marker not in log.read_text()


def _check_writes_reach_every_worker(base: str, key: str, page: dict[str, Any]) -> None:
    """A new therapist is matched on the next requests, whichever worker answers."""
    profile = dict(page["items"][0], id="t-new", name="New Person")
    for field in ("active", "created_at", "updated_at", "accepting_confirmed_at"):
        profile.pop(field)
    req = urllib.request.Request(
        f"{base}/api/v1/therapists/t-new",
        data=json.dumps(profile).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        assert response.status == 201
    intake = {"jurisdiction": profile["licenses"][0]["jurisdiction"], "exclude_therapists": []}
    seen = set()
    for _ in range(8):  # several requests land on both workers
        status, body = _call(f"{base}/api/v1/match", key, {"intake": intake, "limit": 50})
        assert status == 200, body
        seen.add(body["eligible"])
    assert len(seen) == 1, seen


@pytest.mark.slow
def test_serve_demo(tmp_path: Path) -> None:
    # One server for every check: starting one with the demo directory takes seconds.
    instance = tmp_path / "instance"
    db = _migrated(instance)
    with db.transaction() as session:
        earlier, _ = create_demo_key(session)  # what an earlier `matcher serve --demo` printed
        _, own = create_key(session, name="demo", scopes=("match",))  # someone's, also "demo"
    db.close()
    with _serving(instance, "--demo") as (base, log):
        key = _demo_key(log)
        # The class gunicorn runs is the one the README names.
        assert "Using worker: matcher.serving.BoundedThreadWorker" in log.read_text()
        status, page = _call(f"{base}/api/v1/therapists?page_size=100", key)
        assert status == 200 and page["total"] >= 2000 and len(page["items"]) == 100
        assert _call(f"{base}/api/v1/therapists")[0] == 401
        status, matched = _call(f"{base}/api/v1/match", key, CONTRACT_REQUEST)
        assert status == 200 and matched["results"], matched
        # Only the newest demo key is valid; other keys are left alone.
        assert "1 earlier demo key(s) revoked" in log.read_text()
        assert _call(f"{base}/api/v1/therapists", earlier)[0] == 401
        assert _call(f"{base}/api/v1/match", own, CONTRACT_REQUEST)[0] == 200
        _check_writes_reach_every_worker(base, key, page)
        _check_access_lines_keep_client_references_out(base, key, log)
    # The README reads the key from the instance folder; only its owner may read it.
    saved = instance / "demo-key"
    assert saved.read_text().strip() == key
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    # The demo coordinator and admin, printed once and saved for the owner only.
    logins = instance / "demo-logins"
    text = logins.read_text()
    assert "coordinator: coordinator@demo.invalid " in text and "admin: admin@demo.invalid " in text
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert text.split()[2] in log.read_text()  # the password printed is the one saved


def _many_profiles(copies: int) -> bytes:
    """The demo directory ``copies`` times over under new ids, as one NDJSON body."""
    text = (data_dir("profiles") / "demo-directory.ndjson").read_text(encoding="utf-8")
    return "".join(text.replace('{"id":"t-', f'{{"id":"c{n}-') for n in range(copies)).encode()


@pytest.mark.slow
def test_a_request_past_the_timeout_is_cut(tmp_path: Path) -> None:
    # The default worker class (gthread) is the one whose bound is matcher's own code; sync
    # workers are bounded by gunicorn itself.
    instance = tmp_path / "instance"
    db = _migrated(instance)
    with db.transaction() as session:
        _, key = create_key(session, name="importer", scopes=("profiles",))
    db.close()
    # 96,000 profiles (about 90 MB): validating and writing them takes several times the 2 s
    # allowed below, even on a quiet machine, once the import's limits are raised to let it in.
    body = _many_profiles(40)
    limits = {"MATCHER_MAX_IMPORT_RECORDS": "200000", "MATCHER_MAX_IMPORT_BYTES": str(200 << 20)}
    with _serving(instance, MATCHER_TIMEOUT="2", **limits) as (base, log):
        started = time.monotonic()
        try:
            status, _ = _call(
                f"{base}/api/v1/therapists/import",
                key,
                body,
                timeout=60,
                **{"Content-Type": "application/x-ndjson"},
            )
        except OSError:
            status = None  # the worker was killed before it could answer
        elapsed = time.monotonic() - started
        assert status != 200 and elapsed < 12, (status, elapsed)
        assert "WORKER TIMEOUT" in log.read_text()
        # A new worker takes over, and the cut import left nothing behind.
        status, page = _call(f"{base}/api/v1/therapists", key)
        assert status == 200 and page["total"] == 0


@pytest.mark.parametrize(
    "settings",
    [Settings(), Settings(worker_class="sync", threads=1), Settings(threads=4, timeout=5)],
    ids=["default", "sync", "gthread-4"],
)
def test_gunicorn_runs_the_worker_class_and_timeout_it_is_given(settings: Settings) -> None:
    options = gunicorn_options("127.0.0.1", 8000, 2, settings)
    config = Config()
    for name, value in options.items():
        if value is not None:
            config.set(name, value)
    # Gunicorn silently runs gthread when threads > 1: what runs must be what was asked for.
    expected = {"sync": SyncWorker, "gthread": BoundedThreadWorker}[settings.worker_class]
    assert config.worker_class is expected
    assert config.threads == settings.threads
    assert config.timeout == settings.timeout


def test_settings_refuse_threads_with_sync_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="MATCHER_THREADS"):
        Settings(worker_class="sync", threads=4)
    with pytest.raises(ValueError, match="MATCHER_WORKER_CLASS"):
        Settings(worker_class="eventlet")
    monkeypatch.setenv("MATCHER_WORKER_CLASS", "sync")
    monkeypatch.setenv("MATCHER_TIMEOUT", "5")
    read = Settings.from_env()
    assert (read.worker_class, read.threads, read.timeout) == ("sync", 1, 5)
    monkeypatch.setenv("MATCHER_THREADS", "4")
    with pytest.raises(ValueError, match="MATCHER_THREADS"):
        Settings.from_env()


def slow_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app whose every request takes half a second and names the process that served it."""
    time.sleep(0.5)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@contextmanager
def _gthread_server(app: str, workers: int, threads: int) -> Iterator[int]:
    """``app`` (a WSGI app in this module) under BoundedThreadWorker; yields its port."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--worker-class={BoundedThreadWorker.__module__}.{BoundedThreadWorker.__name__}",
        "--no-control-socket",
        f"--bind=127.0.0.1:{port}",
        f"{__name__}:{app}",
    ]
    server = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # a worker up: a request is answered
            assert server.poll() is None and time.monotonic() < deadline
            try:
                _pid(port)
            except OSError:
                time.sleep(0.2)
                continue
            break
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.slow
def test_a_worker_with_every_thread_busy_leaves_new_connections_to_the_others() -> None:
    """Four connections opened at once on 2 workers of 2 threads are served by both workers.

    Gthread alone lets the first worker awake accept all four and queue two of them behind its
    busy threads while the other worker idles; BoundedThreadWorker stops accepting when all its
    threads are busy.
    """
    with _gthread_server("slow_app", workers=2, threads=2) as port:
        time.sleep(1)  # the second worker may still be booting
        for _ in range(3):  # three bursts: the first worker awake must not take a whole burst
            sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
            for sock in sockets:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            pids = {_read_pid(sock) for sock in sockets}
            assert len(pids) == 2, pids


def brief_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app whose every request takes 20 ms."""
    time.sleep(0.02)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def _ask(sock: socket.socket) -> None:
    """One keep-alive request on ``sock``, its whole answer read."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(4096)
        assert chunk, "connection closed"
        data += chunk


@pytest.mark.slow
def test_a_new_connection_is_served_while_kept_alive_clients_keep_every_thread_busy() -> None:
    """Four keep-alive clients asking without pause keep a worker's 2 threads busy; a new
    connection is still answered within a second, not only once they stop (3 s later)."""
    with _gthread_server("brief_app", workers=1, threads=2) as port:
        stop = time.monotonic() + 4
        served = [0]

        def hammer() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                while time.monotonic() < stop:
                    _ask(sock)
                    served[0] += 1

        hammers = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in hammers:
            thread.start()
            time.sleep(0.1)  # each gets in during a gap, as clients arriving one by one do
        time.sleep(0.5)
        try:
            before = served[0]
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                _ask(sock)
            waited, during = time.monotonic() - started, served[0] - before
        finally:
            for thread in hammers:
                thread.join()
        assert during > 0  # the others were being served meanwhile
        assert waited < 1.0, f"a new connection waited {waited:.2f} s behind kept-alive clients"


def _pid(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        return str(response.read().decode())


def _read_pid(sock: socket.socket) -> str:
    with sock:
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()
