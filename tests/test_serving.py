"""``matcher serve --demo`` as the README runs it: gunicorn, the demo directory, a printed key."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.web.api.test_match import CONTRACT_REQUEST


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, key: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
def test_serve_demo(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ, MATCHER_INSTANCE_PATH=str(tmp_path), PYTHONUNBUFFERED="1")
    env.pop("MATCHER_DATABASE_URL", None)
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "matcher", "serve", "--demo", "--port", str(port), "--workers", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        key = None
        while time.monotonic() < deadline:
            text = (tmp_path / "serve.log").read_text()
            found = re.search(r"Demo API key \(all scopes\): (\S+)", text)
            if found and "Booting worker" in text:
                key = found.group(1)
                try:
                    if _call(f"{base}/readyz")[0] == 200:
                        break
                except OSError:
                    pass
            assert server.poll() is None, text
            time.sleep(0.5)
        assert key, (tmp_path / "serve.log").read_text()
        status, page = _call(f"{base}/api/v1/therapists?page_size=100", key)
        assert status == 200 and page["total"] >= 2000 and len(page["items"]) == 100
        assert _call(f"{base}/api/v1/therapists")[0] == 401
        status, matched = _call(f"{base}/api/v1/match", key, CONTRACT_REQUEST)
        assert status == 200 and matched["results"], matched
        # Every worker sees a write at once: a new therapist is matched on the next requests.
        status, _ = _call(f"{base}/api/v1/therapists/t-new", None)
        profile = dict(json.loads(json.dumps(page["items"][0])), id="t-new", name="New Person")
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
            seen.add(body["eligible"])
        assert len(seen) == 1, seen
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
