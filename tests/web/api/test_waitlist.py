"""``POST /api/v1/waitlist/assign``: the best total under open slots, greedy's beside it."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from matcher.schemas.waitlist import WaitlistResponseSchema
from matcher.services import waitlist
from matcher.services.errors import Conflict
from matcher.storage.database import Database
from matcher.storage.tables import MatchRecord, Referral, Therapist

Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]
URL = "/api/v1/waitlist/assign"

# A prefers the only Spanish speaker a little (CBT); B can only see her (Spanish, must have).
CLIENT_A = {"client_ref": "w-1", "intake": {"jurisdiction": "US-CA", "modalities": ["cbt"]}}
CLIENT_B = {
    "client_ref": "w-2",
    "intake": {"jurisdiction": "US-CA", "languages": ["es"], "must_have": ["language"]},
}


def _directory(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    speaker = make_profile(id="t-es", capacity=1, modalities=["cbt"], languages=["en", "es"])
    other = make_profile(id="t-en", capacity=1, modalities=["ipt"], languages=["en"])
    for profile in (speaker, other):
        assert client.put(f"/api/v1/therapists/{profile['id']}", json=profile, headers=admin)


def test_the_only_speaker_goes_to_the_client_who_needs_her(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    _directory(client, admin, make_profile)
    body_in = {"clients": [CLIENT_A, CLIENT_B], "explain": True}
    response = client.post(URL, json=body_in, headers=admin)
    assert response.status_code == 200, response.json
    body = WaitlistResponseSchema().load(response.json)
    placed = {a["client_ref"]: a for a in body["assignments"]}
    assert placed["w-1"]["therapist_id"] == "t-en"
    assert placed["w-2"]["therapist_id"] == "t-es"
    assert body["unassigned"] == []
    # Greedy gives A the speaker first and leaves B waiting.
    assert placed["w-1"]["greedy_therapist_id"] == "t-es"
    assert placed["w-2"]["greedy_therapist_id"] is None
    assert (body["placed"], body["greedy_placed"]) == (2, 1)
    assert body["total_score"] > body["greedy_total_score"]
    assert math.isclose(body["total_score"], sum(a["score"] for a in placed.values()))
    for a in placed.values():
        total = body["model"]["intercept"] + sum(a["contributions"].values())
        assert math.isclose(total, a["score"], abs_tol=1e-6)
        assert a["reasons"]
    # The A-alone match agrees: greedy's total is A's score with the speaker.
    alone = client.post(URL, json={"clients": [CLIENT_A]}, headers=admin).json
    assert alone["assignments"][0]["therapist_id"] == "t-es"
    assert math.isclose(body["greedy_total_score"], alone["total_score"])
    assert not body["committed"] and body["referrals"] == {}
    assert "reasons" not in alone["assignments"][0]  # words only when asked for
    assert "Speaks Spanish" in placed["w-2"]["reasons"]


def test_commit_takes_the_slots(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    _directory(client, admin, make_profile)
    body = client.post(URL, json={"clients": [CLIENT_A, CLIENT_B], "commit": True}, headers=admin)
    assert body.status_code == 200, body.json
    made = body.json["referrals"]
    assert set(made) == {"w-1", "w-2"} and body.json["committed"]
    referral = client.get(f"/api/v1/referrals/{made['w-2']}", headers=admin).json
    assert referral["therapist_id"] == "t-es"
    for therapist in ("t-es", "t-en"):
        assert client.get(f"/api/v1/therapists/{therapist}", headers=admin).json["capacity"] == 0
    again = client.post(URL, json={"clients": [CLIENT_A, CLIENT_B]}, headers=admin).json
    assert again["assignments"] == []
    assert {u["reason"] for u in again["unassigned"]} == {waitlist.NO_SLOT}


def test_commit_needs_outcomes(
    client: FlaskClient, make_key: Callable[..., Headers], make_profile: Profile, admin: Headers
) -> None:
    _directory(client, admin, make_profile)
    body = {"clients": [CLIENT_A], "commit": True}
    assert client.post(URL, json=body, headers=make_key("match")).status_code == 403
    assert (
        client.post(URL, json={"clients": [CLIENT_A]}, headers=make_key("profiles")).status_code
        == 403
    )
    assert (
        client.post(URL, json={"clients": [CLIENT_A]}, headers=make_key("match")).status_code == 200
    )


def test_refusals_name_the_fields(client: FlaskClient, admin: Headers) -> None:
    twice = client.post(URL, json={"clients": [CLIENT_A, CLIENT_A]}, headers=admin)
    assert twice.status_code == 422
    assert twice.mimetype == "application/problem+json"
    assert "clients[1].client_ref" in twice.json["errors"]
    empty = client.post(URL, json={"clients": []}, headers=admin)
    assert empty.status_code == 422 and "clients" in empty.json["errors"]
    bad = client.post(
        URL, json={"clients": [{"client_ref": "x", "intake": {}}], "commit": "yes"}, headers=admin
    )
    assert bad.status_code == 422
    assert {"clients[0].intake.jurisdiction", "commit"} <= set(bad.json["errors"])
    many = [{"client_ref": f"w-{i}", "intake": {"jurisdiction": "US-CA"}} for i in range(2001)]
    too_many = client.post(URL, json={"clients": many}, headers=admin)
    assert too_many.status_code == 422 and "clients" in too_many.json["errors"]


def test_2000_clients_fit_in_one_call(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    _directory(client, admin, make_profile)
    tried = [f"t-{j:06d}" for j in range(40)]  # 2,000 of these pass the 1 MiB default body
    many = [
        {
            "client_ref": f"w-{i}",
            "intake": {
                "jurisdiction": "US-CA",
                "concerns": ["depression"],
                "exclude_therapists": tried,
            },
        }
        for i in range(2000)
    ]
    body = json.dumps({"clients": many})
    assert len(body) > 1 << 20
    response = client.post(URL, data=body, content_type="application/json", headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["placed"] == 2 and len(response.json["unassigned"]) == 1998


def test_a_refused_referral_leaves_nothing_recorded(
    client: FlaskClient, admin: Headers, make_profile: Profile, db: Database, app: Any
) -> None:
    _directory(client, admin, make_profile)
    matching = app.extensions["matcher"].matching
    matching.snapshot()
    # Another writer takes the speaker's slot without the index seeing it yet.
    with db.transaction() as session:
        session.execute(update(Therapist).where(Therapist.id == "t-es").values(capacity=0))
    clients = [
        waitlist.WaitingClient(client_ref=c["client_ref"], intake=c["intake"])
        for c in (CLIENT_A, CLIENT_B)
    ]
    try:
        with db.transaction() as session:
            waitlist.commit(session, matching=matching, clients=clients, key_id="k-test")
    except Conflict:
        pass
    else:
        raise AssertionError("the referral to a full therapist was not refused")
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(MatchRecord)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Referral)).scalar_one() == 0
    assert client.get("/api/v1/therapists/t-en", headers=admin).json["capacity"] == 1
