"""Organisations through the API: organisation x scope x endpoint -> the status a caller gets.

Keys see and change only their organisation's recorded matches, referrals, ratings and clients;
another organisation's referral is 404, exactly like one that does not exist. An admin key of
the default organisation (the service's) sees all; only such keys reach the admin endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.services.keys import create_key
from matcher.services.organisations import DEFAULT_ORGANISATION, create_organisation
from matcher.storage.database import Database
from matcher.storage.tables import MatchRecord, Referral

Headers = dict[str, str]
ORGS = ("default", "other")
SCOPES = ("match", "outcomes", "admin")
WAI = [4] * 12


@dataclass
class World:
    """Two organisations, each with one client's recorded match and referral."""

    client: FlaskClient
    db: Database
    org_ids: dict[str, str]
    matches: dict[str, dict[str, Any]]
    referrals: dict[str, str]
    service_admin: Headers

    def key(self, org: str, scope: str) -> Headers:
        """Headers with a new key of ``org`` carrying ``scope``."""
        with self.db.transaction() as session:
            _, secret = create_key(
                session, name=f"{org}-{scope}", scopes=(scope,), organisation_id=self.org_ids[org]
            )
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(client: FlaskClient, db: Database, make_profile: Callable[..., Any]) -> World:
    with db.transaction() as session:
        other = create_organisation(session, name="Riverside Clinic").id
    org_ids = {"default": DEFAULT_ORGANISATION, "other": other}
    built = World(client, db, org_ids, {}, {}, {})
    built.service_admin = built.key("default", "admin")
    for n in range(6):
        profile = make_profile(id=f"t-{n:02d}", capacity=50)
        answer = client.put(
            f"/api/v1/therapists/t-{n:02d}", json=profile, headers=built.service_admin
        )
        assert answer.status_code == 201, answer.json
    for org in ORGS:
        with db.transaction() as session:
            _, secret = create_key(
                session, name="owner", scopes=("match", "outcomes"), organisation_id=org_ids[org]
            )
        owner = {"Authorization": f"Bearer {secret}"}
        shown = client.post(
            "/api/v1/match",
            json={"intake": {"jurisdiction": "US-CA"}, "record": True, "client_ref": f"c-{org}"},
            headers=owner,
        )
        assert shown.status_code == 200, shown.json
        built.matches[org] = shown.json
        made = client.post(
            "/api/v1/referrals",
            json={"match_id": shown.json["match_id"], "therapist_id": "t-00"},
            headers=owner,
        )
        assert made.status_code == 201, made.json
        built.referrals[org] = made.json["id"]
    return built


def expected(actor_org: str, scope: str, endpoint: str, target: str) -> int:
    """The status a key of ``actor_org`` with ``scope`` gets at ``endpoint`` on ``target``'s."""
    if endpoint == "models":
        return 200 if scope == "admin" and actor_org == "default" else 403
    if endpoint == "match":
        return 200 if scope in ("match", "admin") else 403
    if scope == "match":
        return 403
    sees = actor_org == target or (scope == "admin" and actor_org == "default")
    if endpoint == "refer":  # the match is named in the body: unknown there, like a typo
        return 201 if sees else 422
    if endpoint == "erase":
        return 204  # idempotent either way; what it erased is checked below
    return {"read": 200, "rate": 201}[endpoint] if sees else 404


ENDPOINTS = ("read", "rate", "refer", "erase", "models", "match")


def call(world: World, headers: Headers, endpoint: str, target: str) -> int:
    """Make one request of the matrix; its status."""
    client, referral = world.client, world.referrals[target]
    if endpoint == "read":
        return client.get(f"/api/v1/referrals/{referral}", headers=headers).status_code
    if endpoint == "rate":
        body = {"instrument": "wai-sr", "session": 1, "items": WAI}
        return client.post(
            f"/api/v1/referrals/{referral}/alliance", json=body, headers=headers
        ).status_code
    if endpoint == "refer":
        body = {"match_id": world.matches[target]["match_id"], "therapist_id": "t-01"}
        return client.post("/api/v1/referrals", json=body, headers=headers).status_code
    if endpoint == "erase":
        return client.delete(f"/api/v1/clients/c-{target}", headers=headers).status_code
    if endpoint == "models":
        return client.get("/api/v1/models", headers=headers).status_code
    body = {"intake": {"jurisdiction": "US-CA"}}
    return client.post("/api/v1/match", json=body, headers=headers).status_code


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("actor_org", ORGS)
def test_organisation_scope_endpoint_matrix(world: World, actor_org: str, scope: str) -> None:
    headers = world.key(actor_org, scope)
    wrong = []
    for target in ORGS:
        for endpoint in ENDPOINTS:
            want = expected(actor_org, scope, endpoint, target)
            got = call(world, headers, endpoint, target)
            if got != want:
                wrong.append(f"{endpoint} on {target}'s: got {got}, want {want}")
            if endpoint == "erase":
                with world.db.session() as session:
                    ref = session.execute(
                        select(MatchRecord.client_ref).where(
                            MatchRecord.id == world.matches[target]["match_id"]
                        )
                    ).scalar_one()
                erased = ref is None
                if erased != (expected(actor_org, scope, "read", target) == 200):
                    wrong.append(f"erase on {target}'s: erased={erased}")
    assert not wrong, wrong


def test_another_organisations_referral_is_404_like_a_missing_one(world: World) -> None:
    """What the security review found: any outcomes key read and rated any other's referrals."""
    stranger = world.key("other", "outcomes")
    theirs = world.referrals["default"]
    read = world.client.get(f"/api/v1/referrals/{theirs}", headers=stranger)
    missing = world.client.get("/api/v1/referrals/r-0000000000000000", headers=stranger)
    assert read.status_code == missing.status_code == 404
    assert read.mimetype == "application/problem+json"
    assert read.json["title"] == missing.json["title"]
    rate = world.client.post(
        f"/api/v1/referrals/{theirs}/alliance",
        json={"instrument": "srs", "session": 1, "items": [9, 9, 9, 9]},
        headers=stranger,
    )
    assert rate.status_code == 404
    # Nothing was stored: the owner still sees the referral without ratings.
    mine = world.client.get(f"/api/v1/referrals/{theirs}", headers=world.key("default", "outcomes"))
    assert mine.status_code == 200 and mine.json["ratings"] == []


def test_records_belong_to_the_keys_organisation(world: World) -> None:
    with world.db.session() as session:
        owners = {
            r.id: r.organisation_id for r in session.execute(select(Referral)).scalars().all()
        }
    assert owners[world.referrals["default"]] == DEFAULT_ORGANISATION
    assert owners[world.referrals["other"]] == world.org_ids["other"]


def test_the_service_admin_refers_from_any_organisations_match(world: World) -> None:
    """A referral the service's admin makes belongs to the match's organisation."""
    body = {"match_id": world.matches["other"]["match_id"], "therapist_id": "t-02"}
    made = world.client.post("/api/v1/referrals", json=body, headers=world.service_admin)
    assert made.status_code == 201
    theirs = world.client.get(
        f"/api/v1/referrals/{made.json['id']}", headers=world.key("other", "outcomes")
    )
    assert theirs.status_code == 200
