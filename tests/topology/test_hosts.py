"""More than one machine: two `matcher serve` hosts behind nginx, sharing PostgreSQL and Redis.

Run by CI (``.ci/run``) with ``MATCHER_TOPOLOGY_DATABASE_URL`` (a PostgreSQL database the test
creates if missing and empties) and ``MATCHER_TOPOLOGY_REDIS_URL`` (a Redis database it empties),
with nginx installed (``apt-get install -y nginx``), one test process (``-p no:xdist``) and ``-s``
to see the figures it prints.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import text

from matcher.services.keys import KeyCache, create_key
from matcher.services.users import create_user
from matcher.storage.database import Database
from tests.topology.cluster import Cluster, running

DATABASE_URL = os.environ.get("MATCHER_TOPOLOGY_DATABASE_URL")
REDIS_URL = os.environ.get("MATCHER_TOPOLOGY_REDIS_URL")

pytestmark = [
    pytest.mark.topology,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (DATABASE_URL and REDIS_URL),
        reason="needs MATCHER_TOPOLOGY_DATABASE_URL, MATCHER_TOPOLOGY_REDIS_URL and nginx",
    ),
]

# How long a revoked key may still work: services/keys.py's KeyCache lifetime (README states it).
KEY_CACHE_TTL = KeyCache().ttl
ADMIN_EMAIL = "admin@topology.invalid"
ADMIN_PASSWORD = "a long topology passphrase"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
UNIQUE_LANGUAGE = "eu"  # Basque: no demo therapist speaks it


def _figures(title: str, **figures: Any) -> None:
    """Print figures the lead can quote (run pytest with -s to see them)."""
    print(f"\n[topology] {title}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """PostgreSQL, Redis, hosts A and B, and nginx in front of them, for the whole module."""
    assert DATABASE_URL and REDIS_URL
    with running(tmp_path_factory.mktemp("topology"), DATABASE_URL, REDIS_URL) as started:
        yield started


@pytest.fixture(scope="module")
def shared_db(cluster: Cluster) -> Iterator[Database]:
    """The database both hosts use, opened by the test itself."""
    database = Database(cluster.database_url)
    yield database
    database.close()


def _key(db: Database, *scopes: str, rate_limit: str | None = None) -> tuple[str, str]:
    """A new key's id and secret."""
    with db.transaction() as session:
        record, secret = create_key(
            session, name=f"topology-{uuid.uuid4().hex[:6]}", scopes=scopes, rate_limit=rate_limit
        )
        return record.id, secret


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _served_by(cluster: Cluster, response: requests.Response) -> str:
    """Which host answered a request made through nginx: "a" or "b" (the last one tried)."""
    line = cluster.nginx.log_line(response.headers["X-Request-Id"])
    upstream = re.search(r"upstream=(\S+(?:, \S+)*) upstream_status", line)
    assert upstream, line
    last = upstream.group(1).split(", ")[-1]
    return {cluster.a.address: "a", cluster.b.address: "b"}[last]


def _new_profile(template: dict[str, Any], therapist_id: str, **changes: Any) -> dict[str, Any]:
    """A writable profile from one read back from the API."""
    profile = {
        k: v
        for k, v in template.items()
        if k not in ("active", "created_at", "updated_at", "accepting_confirmed_at")
    }
    profile.update(id=therapist_id, name=f"Topology {therapist_id}", **changes)
    return profile


@pytest.fixture(scope="module")
def template_profile(cluster: Cluster, shared_db: Database) -> dict[str, Any]:
    """An accepting video therapist licensed in US-CA, as the API returns profiles."""
    _, secret = _key(shared_db, "profiles")
    page = requests.get(
        f"{cluster.nginx.base}/api/v1/therapists",
        params={"jurisdiction": "US-CA", "format": "video", "accepting": "true", "page_size": 1},
        headers=_auth(secret),
        timeout=10,
    )
    assert page.status_code == 200, page.text
    profile: dict[str, Any] = page.json()["items"][0]
    return profile


def test_a_write_through_one_host_is_matched_through_the_other(
    cluster: Cluster, shared_db: Database, template_profile: dict[str, Any]
) -> None:
    _, secret = _key(shared_db, "profiles", "match")
    intake = {
        "jurisdiction": "US-CA",
        "languages": [UNIQUE_LANGUAGE],
        "must_have": ["language"],
        "formats": ["video"],
    }
    match_url = f"{cluster.nginx.base}/api/v1/match"
    before = requests.post(match_url, json={"intake": intake}, headers=_auth(secret), timeout=10)
    assert before.status_code == 200 and before.json()["eligible"] == 0, before.text

    profile = _new_profile(
        template_profile,
        "t-topology-basque",
        languages=["en", UNIQUE_LANGUAGE],
        accepting_new_clients=True,
        capacity=3,
    )
    written = requests.put(
        f"{cluster.nginx.base}/api/v1/therapists/{profile['id']}",
        json=profile,
        headers=_auth(secret),
        timeout=10,
    )
    assert written.status_code == 201, written.text
    writer = _served_by(cluster, written)

    # The very next requests through nginx match it, whichever host answers them, and at least
    # one is answered by the host that did not take the write.
    answered_by = []
    for _ in range(4):
        matched = requests.post(
            match_url, json={"intake": intake}, headers=_auth(secret), timeout=10
        )
        assert matched.status_code == 200, matched.text
        body = matched.json()
        assert body["eligible"] == 1, body
        assert body["results"][0]["therapist_id"] == profile["id"]
        answered_by.append(_served_by(cluster, matched))
    assert set(answered_by) - {writer}, (writer, answered_by)
    # And straight at the other host, bypassing nginx.
    other = cluster.b if writer == "a" else cluster.a
    direct = requests.post(
        f"{other.base}/api/v1/match", json={"intake": intake}, headers=_auth(secret), timeout=10
    )
    assert direct.status_code == 200 and direct.json()["eligible"] == 1, direct.text
    _figures("write on one host, match on the other", writer=writer, next_matches=answered_by)


def test_a_key_rate_limit_holds_across_hosts(cluster: Cluster, shared_db: Database) -> None:
    _, secret = _key(shared_db, "profiles", rate_limit="20 per hour")
    answers: dict[str, list[int]] = {"a": [], "b": []}
    for n in range(40):  # alternately at each host, bypassing nginx
        host = cluster.hosts[n % 2]
        response = requests.get(
            f"{host.base}/api/v1/therapists",
            params={"page_size": 1},
            headers=_auth(secret),
            timeout=10,
        )
        answers[host.name].append(response.status_code)
    every = answers["a"] + answers["b"]
    # One allowance for the key over both hosts and their four workers, counted in Redis.
    assert every.count(200) == 20 and every.count(429) == 20, answers
    assert 429 in answers["a"] and 429 in answers["b"], answers
    # Through nginx too, the key stays refused.
    through = requests.get(
        f"{cluster.nginx.base}/api/v1/therapists", headers=_auth(secret), timeout=10
    )
    assert through.status_code == 429, through.text
    assert through.headers["Content-Type"].startswith("application/problem+json")
    _figures(
        "rate limit across hosts (20 per hour)",
        requests=len(every),
        allowed=every.count(200),
        refused=every.count(429),
    )


def _signed_in_admin(db: Database, base: str) -> requests.Session:
    """A browser-like session of an admin signed in at ``base``."""
    with db.transaction() as session:
        create_user(session, email=ADMIN_EMAIL, role="admin", password=ADMIN_PASSWORD)
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=10)
    token = CSRF.search(form.text)
    assert form.status_code == 200 and token, form.text
    signed = browser.post(
        f"{base}/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token.group(1)},
        timeout=10,
    )
    assert signed.status_code == 200 and "/admin/" in signed.url, signed.text
    return browser


def test_a_key_revoked_on_one_host_is_refused_by_both(
    cluster: Cluster, shared_db: Database
) -> None:
    key_id, secret = _key(shared_db, "profiles")
    url = "/api/v1/therapists?page_size=1"
    # An admin signed in through host A revokes it on the keys page; the session (signed with the
    # shared secret key) works on host B as well, which is what nginx's round robin needs.
    admin = _signed_in_admin(shared_db, cluster.a.base)
    assert admin.get(f"{cluster.b.base}/admin/keys", timeout=10).status_code == 200
    keys_page = admin.get(f"{cluster.a.base}/admin/keys", timeout=10)
    token = CSRF.search(keys_page.text)
    assert keys_page.status_code == 200 and token
    # Just before, both hosts (every worker) have the key in their caches.
    for _ in range(8):
        for host in cluster.hosts:
            assert requests.get(host.base + url, headers=_auth(secret), timeout=10).ok
    revoked = admin.post(
        f"{cluster.a.base}/admin/keys/{key_id}/revoke",
        data={"csrf_token": token.group(1)},
        timeout=10,
    )
    revoked_at = time.monotonic()
    assert revoked.status_code == 200 and "revoked" in revoked.text, revoked.text

    last_accepted = {"a": 0.0, "b": 0.0}
    while time.monotonic() - revoked_at < KEY_CACHE_TTL + 1:
        for host in cluster.hosts:
            status = requests.get(host.base + url, headers=_auth(secret), timeout=10).status_code
            assert status in (200, 401), status
            if status == 200:
                last_accepted[host.name] = time.monotonic() - revoked_at
        time.sleep(0.05)
    assert max(last_accepted.values()) <= KEY_CACHE_TTL, last_accepted
    # From then on every worker of both hosts, and nginx, refuses it.
    for host in (*cluster.hosts, cluster.nginx):
        for _ in range(10):
            refused = requests.get(host.base + url, headers=_auth(secret), timeout=10)
            assert refused.status_code == 401, refused.text
    _figures(
        "revocation",
        cache_ttl_s=KEY_CACHE_TTL,
        last_accepted_on_a_s=round(last_accepted["a"], 2),
        last_accepted_on_b_s=round(last_accepted["b"], 2),
    )


class FromAddress(HTTPAdapter):
    """Connect from a given loopback address (127.0.0.0/8), as a distinct client would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Bind every connection's source address."""
        super().init_poolmanager(*args, **kwargs, source_address=(self.address, 0))


def _browser_at(address: str) -> requests.Session:
    """A browser whose connections come from ``address``."""
    browser = requests.Session()
    browser.mount("http://", FromAddress(address))
    return browser


def _sign_in_attempt(browser: requests.Session, base: str, email: str) -> int:
    """One wrong sign-in through the form (with its CSRF token): 400 refused, 429 limited."""
    form = browser.get(f"{base}/login", timeout=10)
    token = CSRF.search(form.text)
    assert form.status_code == 200 and token, form.status_code
    data = {"email": email, "password": "not the password", "csrf_token": token.group(1)}
    return browser.post(f"{base}/login", data=data, timeout=10).status_code


def test_sign_in_limits_count_each_client_behind_nginx(cluster: Cluster) -> None:
    # Ten sign-in attempts per address (MATCHER_LOGIN_RATE_LIMIT, an hour here), counted in Redis by
    # both hosts: the address is the client's, which only nginx sees (MATCHER_PROXIES=1), not
    # nginx's own, or one client's attempts would lock every other client out of signing in.
    base = cluster.nginx.base
    guesser = _browser_at("127.0.0.2")
    statuses = [_sign_in_attempt(guesser, base, f"guess{n}@topology.invalid") for n in range(12)]
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429], statuses
    # A forged X-Forwarded-For does not give the same client a fresh allowance.
    guesser.headers["X-Forwarded-For"] = "198.51.100.7"
    assert _sign_in_attempt(guesser, base, "forged@topology.invalid") == 429
    # Another client, behind the same nginx, still signs in.
    other = _browser_at("127.0.0.3")
    assert _sign_in_attempt(other, base, "someone@topology.invalid") == 400
    _figures("sign-in limit behind nginx", attempts=len(statuses), refused=statuses.count(429))


@dataclass
class Load:
    """What the writers sent and what they were told."""

    secret: str
    base: str
    template: dict[str, Any]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    matches: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    ratings: list[tuple[str, int]] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    requests: int = 0
    refused: int = 0  # 409: the therapist's slots were taken (a right answer, not an error)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (when, what) seen by clients
    unexpected: list[str] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)

    def call(self, method: str, path: str, body: dict[str, Any]) -> requests.Response | None:
        """One request through nginx; None when the client saw an error (5xx or no answer)."""
        try:
            response = requests.request(
                method, self.base + path, json=body, headers=_auth(self.secret), timeout=30
            )
        except requests.RequestException as err:
            self._error(f"{method} {path}: {type(err).__name__}")
            return None
        with self.lock:
            self.requests += 1
            self.answered_at.append(time.monotonic())
        if response.status_code >= 500:
            self._error(f"{method} {path}: {response.status_code}")
            return None
        if response.status_code == 409:
            with self.lock:
                self.refused += 1
            return None
        if not response.ok:
            with self.lock:
                self.unexpected.append(f"{method} {path}: {response.status_code} {response.text}")
            return None
        return response

    def _error(self, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.errors.append((time.monotonic(), what))

    def client(self, worker: int) -> None:
        """A directory backend's writes, over and over: match, refer, rate, update a profile."""
        rng = random.Random(worker)
        n = 0
        while not self.stop.is_set():
            n += 1
            ref = f"load-{worker}-{n}"
            intake = {"jurisdiction": "US-CA", "formats": ["video"]}
            body = {"intake": intake, "limit": 5, "record": True, "client_ref": ref}
            shown = self.call("POST", "/api/v1/match", body)
            if shown is not None:
                match = shown.json()
                with self.lock:
                    self.matches.append(match["match_id"])
                therapist = rng.choice(match["results"])["therapist_id"]
                body = {"match_id": match["match_id"], "therapist_id": therapist}
                referred = self.call("POST", "/api/v1/referrals", body)
                if referred is not None:
                    referral = referred.json()["id"]
                    with self.lock:
                        self.referrals.append(referral)
                    rating = {"instrument": "srs", "session": 1, "items": [8, 7, 9, 8]}
                    path = f"/api/v1/referrals/{referral}/alliance"
                    if self.call("POST", path, rating) is not None:
                        with self.lock:
                            self.ratings.append((referral, 1))
            therapist_id = f"t-load-{worker}-{n}"
            profile = _new_profile(self.template, therapist_id, capacity=4)
            if self.call("PUT", f"/api/v1/therapists/{therapist_id}", profile) is not None:
                with self.lock:
                    self.profiles.append(therapist_id)


def _stored(db: Database, sql: str) -> set[Any]:
    with db.engine.connect() as conn:
        return {tuple(row) if len(row) > 1 else row[0] for row in conn.execute(text(sql))}


def test_killing_a_host_under_write_load_loses_no_accepted_write(
    cluster: Cluster, shared_db: Database, template_profile: dict[str, Any]
) -> None:
    _, secret = _key(shared_db, "match", "outcomes", "profiles", rate_limit="100000 per minute")
    load = Load(secret, cluster.nginx.base, template_profile)
    clients = [threading.Thread(target=load.client, args=(n,)) for n in range(6)]
    started = time.monotonic()
    for thread in clients:
        thread.start()
    time.sleep(4)
    before_kill = load.requests
    cluster.a.kill()
    killed_at = time.monotonic()
    time.sleep(8)
    load.stop.set()
    for thread in clients:
        thread.join(timeout=60)
    ended = time.monotonic()

    assert not load.unexpected, load.unexpected[:5]
    # Every write a client was answered 2xx for is in the database.
    matches = _stored(shared_db, "SELECT id FROM match_record")
    referrals = _stored(shared_db, "SELECT id FROM referral")
    ratings = _stored(shared_db, "SELECT referral_id, session FROM alliance_rating")
    profiles = _stored(shared_db, "SELECT id FROM therapist")
    lost = {
        "matches": set(load.matches) - matches,
        "referrals": set(load.referrals) - referrals,
        "ratings": set(load.ratings) - ratings,
        "profiles": set(load.profiles) - profiles,
    }
    assert not any(lost.values()), lost

    # nginx kept serving: only requests in flight on host A when it died can have failed (one
    # per client at most), and the clients kept being answered afterwards.
    errors_after = [when - killed_at for when, _ in load.errors if when >= killed_at]
    assert len(load.errors) <= len(clients), load.errors
    last_error = max(errors_after, default=0.0)
    answered_later = [t for t in load.answered_at if t > killed_at + last_error + 0.001]
    assert len(answered_later) >= 50, (len(answered_later), load.errors)

    # nginx never sent a POST to a second host after sending it to the first: every POST it
    # passed on had sent 0 bytes to the host it tried first.
    passed_on = resent = 0
    for line in cluster.nginx.access_log.read_text().splitlines():
        sent = re.search(r"upstream_sent=(\S+(?:, \S+)*)$", line)
        if not sent or ", " not in sent.group(1):
            continue
        passed_on += 1
        tried = sent.group(1).split(", ")
        if '"POST ' in line and any(int(b) > 0 for b in tried[:-1]):
            resent += 1
    assert resent == 0

    written = len(load.matches) + len(load.referrals) + len(load.ratings) + len(load.profiles)
    _figures(
        "failover (host A killed with SIGKILL under 6 writing clients)",
        seconds=round(ended - started, 1),
        requests=load.requests,
        requests_before_kill=before_kill,
        accepted_writes=written,
        lost_writes=sum(len(v) for v in lost.values()),
        refused_409=load.refused,
        errors_seen_by_clients=len(load.errors),
        error_kinds=json.dumps(sorted({what for _, what in load.errors})),
        time_to_detect_s=round(last_error, 3),
        passed_on_by_nginx=passed_on,
        posts_resent=resent,
        answered_after_last_error=len(answered_later),
    )


def test_nginx_answers_a_body_over_its_limit_with_problem_json(cluster: Cluster) -> None:
    body = b"[" + b" " * (66 << 20) + b"]"
    response = requests.post(
        f"{cluster.nginx.base}/api/v1/therapists/import",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
