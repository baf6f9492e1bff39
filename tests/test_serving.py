"""``matcher serve`` as the README runs it: gunicorn, the demo directory, a printed key."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from matcher.services.demo import create_demo_key
from matcher.services.keys import create_key
from matcher.services.models import ensure_default
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
        deadline = time.monotonic() + 90
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
    ensure_default(db)
    return db


def _check_writes_reach_every_worker(base: str, key: str, page: dict[str, Any]) -> None:
    """A new therapist is matched on the next requests, whichever worker answers."""
    profile = dict(page["items"][0], id="t-new", name="New Person")
    for field in ("active", "created_at", "updated_at"):
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
    earlier, _ = create_demo_key(db)  # what an earlier `matcher serve --demo` printed
    _, own = create_key(db, name="demo", scopes=("match",))  # someone's key, also named demo
    db.close()
    with _serving(instance, "--demo") as (base, log):
        key = _demo_key(log)
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
    # The README reads the key from the instance folder; only its owner may read it.
    saved = instance / "demo-key"
    assert saved.read_text().strip() == key
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
