"""Against a real ``matcher serve``: big bodies answered, metrics over both workers, JSON logs."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from matcher.services.keys import create_key
from tests.test_serving import _call, _migrated, _serving
from tests.web.test_observability import sample

FIVE_MB = 5 * 1000 * 1000


def _raw(base: str, head: str, body_parts: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """Send a request as a plain client would (all of it), then read the whole answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode())
        for part in body_parts:
            sock.sendall(part)  # a broken pipe here is what the client used to get
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_over_limit_bodies_are_answered_413_not_dropped(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    db = _migrated(instance)
    with db.transaction() as session:
        _, key = create_key(session, name="big", scopes=("match",))
    db.close()
    chunk = b" " * 65536
    with _serving(instance) as (base, _log):
        # Content-Length 5 MB against the 1 MiB limit: the client sends it all, then reads 413.
        head = (
            "POST /api/v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: {FIVE_MB}\r\n\r\n"
        )
        parts = [chunk] * (FIVE_MB // len(chunk)) + [b" " * (FIVE_MB % len(chunk))]
        status, headers, body = _raw(base, head, parts)
        assert status == 413 and headers["Content-Type"] == "application/problem+json"
        assert (
            json.loads(body.split(b"\r\n")[1] if "chunked" in str(headers) else body)["status"]
            == 413
        )
        # The same body sent chunked: 413 as well, not 400.
        head = (
            "POST /api/v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        framed = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 80 + [b"0\r\n\r\n"]
        status, headers, body = _raw(base, head, framed)
        assert status == 413 and headers["Content-Type"] == "application/problem+json"
        # The server still serves.
        assert _call(f"{base}/healthz")[0] == 200


def test_metrics_add_up_both_workers_and_logs_are_json(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    db = _migrated(instance)
    with db.transaction() as session:
        _, key = create_key(session, name="ops", scopes=("admin",))
    db.close()
    with _serving(instance) as (base, log):
        for n in range(40):  # a new connection each: the two workers share them
            request = urllib.request.Request(
                f"{base}/api/v1/referrals/r-client-ref-{n}",
                headers={"Authorization": f"Bearer {key}", "X-Request-ID": f"probe-{n}"},
            )
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as missing:
                assert missing.code == 404
                assert missing.headers["X-Request-ID"] == f"probe-{n}"
        scrape = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": f"Bearer {key}"}
        )
        text = urllib.request.urlopen(scrape, timeout=10).read().decode()
        route = "/api/v1/referrals/<id:referral_id>"
        assert sample(text, "matcher_http_requests_total", route=route, status="404") == 40
        assert "r-client-ref" not in text
        lines = log.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        probes = {r["request_id"] for r in records if r.get("route") == route}
        assert probes == {f"probe-{n}" for n in range(40)}
        pids = {line.split("pid: ")[1].rstrip(")") for line in lines if "Booting worker" in line}
        assert len(pids) == 2
        assert "r-client-ref" not in log.read_text()
