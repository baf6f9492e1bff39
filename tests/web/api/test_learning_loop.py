"""The learning loop end to end through the API: record, refer, rate, train, activate, roll back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from flask.testing import FlaskClient
from sqlalchemy import func, select

from matcher.storage.database import Database
from matcher.storage.tables import MatchRecord, Therapist

Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]
LANGUAGES = ["es", "zh", "vi", "ko"]


def wai_items(level: float) -> list[int]:
    """Twelve WAI-SR item scores around ``level`` (1..5)."""
    return [int(min(5, max(1, round(level + d)))) for d in np.tile([-0.4, 0.0, 0.4], 4)]


def seed_directory(client: FlaskClient, headers: Headers, make_profile: Profile) -> None:
    """Twenty therapists; half speak one of the clients' languages."""
    for n in range(20):
        languages = ["en", LANGUAGES[n % 4]] if n % 2 else ["en"]
        profile = make_profile(id=f"t-{n:02d}", languages=languages, capacity=20)
        assert (
            client.put(f"/api/v1/therapists/t-{n:02d}", json=profile, headers=headers).status_code
            == 201
        )


def record(client: FlaskClient, headers: Headers, limit: int = 10, **intake: Any) -> dict[str, Any]:
    body = {
        "intake": {"jurisdiction": "US-CA", **intake},
        "limit": limit,
        "record": True,
        "client_ref": "c-1",
    }
    response = client.post("/api/v1/match", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def referred(client: FlaskClient, headers: Headers, therapist_id: str, **intake: Any) -> str:
    """A new client's recorded match, referred to ``therapist_id``: the referral's id."""
    shown = record(client, headers, **intake)
    referral = client.post(
        "/api/v1/referrals",
        headers=headers,
        json={"match_id": shown["match_id"], "therapist_id": therapist_id},
    )
    assert referral.status_code == 201, referral.json
    return str(referral.json["id"])


def test_loop_end_to_end(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    seed_directory(client, admin, make_profile)
    assert client.post("/api/v1/models/train", json={}, headers=admin).status_code == 422

    rng = np.random.default_rng(3)
    for n in range(60):
        language = LANGUAGES[n % 4]
        shown = record(client, admin, languages=[language], limit=20)
        assert shown["match_id"] and shown["model"]["version"] == 1
        pick = shown["results"][int(rng.integers(len(shown["results"])))]
        referral = client.post(
            "/api/v1/referrals",
            json={"match_id": shown["match_id"], "therapist_id": pick["therapist_id"]},
            headers=admin,
        )
        assert referral.status_code == 201, referral.json
        # Truth: clients treated in their own language rate the alliance much higher.
        level = 4.5 if pick["features"]["language"] > 0 else 2.5
        for session in (1, 2):
            rating = client.post(
                f"/api/v1/referrals/{referral.json['id']}/alliance",
                json={
                    "instrument": "wai-sr",
                    "session": session,
                    "items": wai_items(level + rng.normal(0, 0.3)),
                },
                headers=admin,
            )
            assert rating.status_code == 201, rating.json

    trained = client.post("/api/v1/models/train", json={"note": "first"}, headers=admin)
    assert trained.status_code == 201, trained.json
    candidate = trained.json
    assert candidate["status"] == "candidate" and candidate["source"] == "learned"
    evaluation = candidate["evaluation"]
    assert evaluation["n_referrals"] == 60 and evaluation["n_ratings"] == 120
    assert evaluation["n_therapists"] >= 5
    assert {"learned", "active"} <= set(evaluation["heldout"])
    assert set(evaluation["coef_interval"]) >= {"language", "modality"}
    assert isinstance(evaluation["warnings"], list)
    # The alliance record is already on the alliance scale: its weight is held, not fitted.
    assert evaluation["held_weights"] == {"alliance": 0.2}
    assert candidate["weights"]["alliance"] == 0.2
    assert evaluation["coef_interval"]["alliance"] == {"weight": 0.2, "low": 0.2, "high": 0.2}
    # The language effect is what the ratings carry: it must come out as the biggest weight.
    assert max(candidate["weights"], key=candidate["weights"].get) == "language"

    # Until activated, matches keep using version 1.
    assert record(client, admin, languages=["es"])["model"]["version"] == 1
    version = candidate["version"]
    activated = client.post(
        f"/api/v1/models/{version}/activate", json={"note": "go"}, headers=admin
    )
    assert activated.status_code == 200 and activated.json["status"] == "active"
    assert record(client, admin, languages=["es"])["model"]["version"] == version
    assert client.get("/api/v1/models/active", headers=admin).json["version"] == version

    # Rollback: activating version 1 again.
    assert client.post("/api/v1/models/1/activate", headers=admin).status_code == 200
    assert record(client, admin, languages=["es"])["model"]["version"] == 1
    listed = client.get("/api/v1/models", headers=admin).json["items"]
    assert [m["version"] for m in listed] == [version, 1]
    assert [m["status"] for m in listed] == ["retired", "active"]
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=admin).json["items"]]
    assert actions[:3] == ["model.rollback", "model.activate", "model.create"]


def test_referral_rules(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    client.put("/api/v1/therapists/t-one", json=make_profile(id="t-one", capacity=1), headers=admin)
    client.put(
        "/api/v1/therapists/t-ny",
        headers=admin,
        json=make_profile(id="t-ny", licenses=[{"jurisdiction": "US-NY", "credential": "LCSW"}]),
    )
    first, second = record(client, admin), record(client, admin)

    def refer(match_id: str, therapist_id: str) -> Any:
        body = {"match_id": match_id, "therapist_id": therapist_id}
        return client.post("/api/v1/referrals", json=body, headers=admin)

    assert refer("m-nothing", "t-one").status_code == 422
    assert refer(first["match_id"], "t-ny").status_code == 422  # not eligible in that match
    made = refer(first["match_id"], "t-one")
    assert made.status_code == 201
    assert set(made.json) >= {"id", "match_id", "therapist_id", "model_version", "created_at"}
    assert refer(first["match_id"], "t-one").status_code == 409  # already referred
    assert refer(second["match_id"], "t-one").status_code == 409  # no slot left
    profile = client.get("/api/v1/therapists/t-one", headers=admin).json
    assert profile["capacity"] == 0
    # Capacity is stored once, in its column: the stored profile document does not carry it.
    with client.application.extensions["matcher"].db.session() as session:
        stored = session.get(Therapist, "t-one")
        assert stored is not None and "capacity" not in stored.profile
    # The slot taken reaches matching at once: t-one is no longer eligible.
    assert record(client, admin)["excluded"].get("capacity") == 1


def test_alliance_rules(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    client.put("/api/v1/therapists/t-1", json=make_profile(id="t-1"), headers=admin)
    referral_id = referred(client, admin, "t-1")
    url = f"/api/v1/referrals/{referral_id}/alliance"
    wai = {"instrument": "wai-sr", "session": 1, "items": [5, 4, 4, 5, 3, 4, 5, 4, 4, 5, 4, 5]}
    created = client.post(url, json=wai, headers=admin)
    assert created.status_code == 201
    assert created.json["total"] == 52
    # task = items 1, 2, 10, 12; bond = 3, 5, 7, 9; goal = 4, 6, 8, 11
    assert created.json["subscales"] == {"task": 19, "bond": 16, "goal": 17}
    assert abs(created.json["score"] - 40 / 48) < 1e-9
    again = client.post(url, json=wai, headers=admin)
    assert again.status_code == 200 and again.json["id"] == created.json["id"]
    assert client.post(url, json=dict(wai, items=[1] * 12), headers=admin).status_code == 409
    srs = client.post(
        url, json={"instrument": "srs", "session": 1, "items": [9, 8.5, 9, 8]}, headers=admin
    )
    assert srs.status_code == 201
    assert srs.json["total"] == 34.5 and srs.json["flags"]["concern"] is True
    for bad in (
        {"instrument": "wai-sr", "session": 4, "items": [3] * 12},
        {"instrument": "wai-sr", "session": 2, "items": [3] * 11},
        {"instrument": "wai-sr", "session": 2, "items": [6] + [3] * 11},
        {"instrument": "wai-sr", "session": 2, "items": [2.5] + [3] * 11},
        {"instrument": "srs", "session": 2, "items": [11, 1, 1, 1]},
        {"instrument": "cats", "session": 2, "items": [1]},
    ):
        assert client.post(url, json=bad, headers=admin).status_code == 422, bad
    assert (
        client.post("/api/v1/referrals/r-none/alliance", json=wai, headers=admin).status_code == 404
    )
    ratings = client.get(f"/api/v1/referrals/{referral_id}", headers=admin).json["ratings"]
    assert [(r["instrument"], r["session"]) for r in ratings] == [("srs", 1), ("wai-sr", 1)]


def test_nothing_stored_without_record(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Profile
) -> None:
    client.put("/api/v1/therapists/t-1", json=make_profile(id="t-1"), headers=admin)
    body = {"intake": {"jurisdiction": "US-CA", "languages": ["es"]}, "client_ref": "c-9"}
    assert client.post("/api/v1/match", json=body, headers=admin).json["match_id"] is None
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(MatchRecord)).scalar_one() == 0


def test_manual_candidate_validation(client: FlaskClient, admin: Headers) -> None:
    bad = client.post(
        "/api/v1/models",
        headers=admin,
        json={"weights": {"language": -0.1, "telepathy": 0.2}, "intercept": 0.5},
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"weights.language", "weights.telepathy"}
    too_big = client.post(
        "/api/v1/models", headers=admin, json={"weights": {"language": 0.9}, "intercept": 0.5}
    )
    assert too_big.status_code == 422
    made = client.post(
        "/api/v1/models",
        headers=admin,
        json={"weights": {"language": 0.2}, "intercept": 0.5, "note": "try"},
    )
    assert made.status_code == 201 and made.json["status"] == "candidate"
    assert made.json["weights"]["modality"] == 0
    assert client.post("/api/v1/models/99/activate", headers=admin).status_code == 404


def test_instruments_ship_keys_not_wording(client: FlaskClient, admin: Headers) -> None:
    items = {i["code"]: i for i in client.get("/api/v1/instruments", headers=admin).json["items"]}
    assert items["wai-sr"]["subscales"]["bond"] == [3, 5, 7, 9]
    assert items["srs"]["concern_below"] == 36
    assert items["wai-sr"]["wording"] is None and items["srs"]["wording"] is None


def test_licensed_wording_file(
    settings: Any, tmp_path: Any, make_key: Callable[..., Headers], make_app: Callable[..., Any]
) -> None:
    import json
    from dataclasses import replace

    path = tmp_path / "wording.json"
    path.write_text(json.dumps({"srs": [f"placeholder {n}" for n in range(1, 5)]}))
    app = make_app(replace(settings, instrument_wording=str(path)))
    headers = make_key("outcomes")
    body = app.test_client().get("/api/v1/instruments", headers=headers).json
    wording = {i["code"]: i["wording"] for i in body["items"]}
    assert wording == {
        "wai-sr": None,
        "srs": ["placeholder 1", "placeholder 2", "placeholder 3", "placeholder 4"],
    }


def test_exploration_logs_propensities(
    settings: Any,
    make_app: Callable[..., Any],
    make_key: Callable[..., Headers],
    make_profile: Profile,
    db: Database,
) -> None:
    from dataclasses import replace

    from matcher.storage.tables import MatchCandidate

    app = make_app(replace(settings, exploration=1.0))
    client, headers = app.test_client(), make_key("admin")
    for n in range(12):
        client.put(
            f"/api/v1/therapists/t-{n:02d}",
            headers=headers,
            json=make_profile(id=f"t-{n:02d}", languages=["en", "es"] if n < 3 else ["en"]),
        )
    shown = record(client, headers, limit=4, languages=["es"])
    # Every recorded match explores: four of the twelve eligible, whatever their scores.
    assert len(shown["results"]) == 4
    with db.session() as session:
        kept = (
            session.execute(
                select(MatchCandidate).where(MatchCandidate.match_id == shown["match_id"])
            )
            .scalars()
            .all()
        )
    assert len(kept) == 12
    assert all(abs(c.propensity - 4 / 12) < 1e-9 for c in kept)
    assert sorted(c.rank for c in kept if c.rank is not None) == [1, 2, 3, 4]


def test_ratings_feed_the_alliance_feature(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    for n in range(6):
        client.put(
            f"/api/v1/therapists/t-{n}", json=make_profile(id=f"t-{n}", capacity=50), headers=admin
        )
    for n in range(6):
        for _ in range(5):
            client.post(
                f"/api/v1/referrals/{referred(client, admin, f't-{n}')}/alliance",
                headers=admin,
                json={"instrument": "wai-sr", "session": 1, "items": [5 if n == 0 else 3] * 12},
            )
    results = record(client, admin)["results"]
    record_of = {r["therapist_id"]: r["features"]["alliance"] for r in results}
    # t-0's clients rate the alliance far above the rest: its record rises above the prior,
    # and it ranks first on an intake with no preferences.
    assert record_of["t-0"] > 0.5 > record_of["t-1"]
    assert results[0]["therapist_id"] == "t-0"


def test_records_count_what_the_match_did_not_explain(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    """Equal ratings: the therapist whose clients had no language match has the better record."""
    for n, languages in enumerate((["en", "es"], ["en"], ["en"], ["en"])):
        client.put(
            f"/api/v1/therapists/t-{n}",
            json=make_profile(id=f"t-{n}", languages=languages, capacity=50),
            headers=admin,
        )
    rng = np.random.default_rng(5)
    for n in range(4):
        for _ in range(6):
            # Every client asks for Spanish; only t-0 offers it (language feature 1, else 0).
            referral = referred(client, admin, f"t-{n}", languages=["es"])
            level = 4.0 if n < 2 else 3.0
            client.post(
                f"/api/v1/referrals/{referral}/alliance",
                headers=admin,
                json={
                    "instrument": "wai-sr",
                    "session": 1,
                    "items": wai_items(level + rng.normal(0, 0.2)),
                },
            )
    results = record(client, admin)["results"]
    record_of = {r["therapist_id"]: r["features"]["alliance"] for r in results}
    # t-0 and t-1 were rated alike, but t-0's clients had the language match the model credits.
    assert record_of["t-1"] > record_of["t-0"] > record_of["t-2"]


def test_bad_rating_names_every_field(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    client.put("/api/v1/therapists/t-1", json=make_profile(id="t-1"), headers=admin)
    referral_id = referred(client, admin, "t-1")
    body = {"instrument": "wai-sr", "session": 9, "items": [0, 3, 2.5] + [3] * 9}
    response = client.post(f"/api/v1/referrals/{referral_id}/alliance", json=body, headers=admin)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"session", "items[0]", "items[2]"}


def test_model_list_pages(client: FlaskClient, admin: Headers) -> None:
    for n in range(3):
        client.post(
            "/api/v1/models",
            headers=admin,
            json={"weights": {"language": 0.01 * n}, "intercept": 0.5},
        )
    first = client.get("/api/v1/models?page_size=2", headers=admin).json
    assert first["total"] == 4 and first["page_size"] == 2
    assert [m["version"] for m in first["items"]] == [4, 3]
    second = client.get("/api/v1/models?page=2&page_size=2", headers=admin).json
    assert [m["version"] for m in second["items"]] == [2, 1]
    assert client.get("/api/v1/models?page_size=101", headers=admin).status_code == 422


def test_erasure_removes_the_intake_and_keeps_ratings_unlinked(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    seed_directory(client, admin, make_profile)
    referral = referred(client, admin, "t-01", languages=["es"])
    rating = {"instrument": "srs", "session": 1, "items": [8, 8, 9, 9]}
    client.post(f"/api/v1/referrals/{referral}/alliance", headers=admin, json=rating)
    ref = client.get(f"/api/v1/referrals/{referral}", headers=admin).json
    first = client.delete("/api/v1/clients/c-1", headers=admin)
    again = client.delete("/api/v1/clients/c-1", headers=admin)
    assert first.status_code == again.status_code == 204
    kept = client.get(f"/api/v1/referrals/{referral}", headers=admin).json
    assert kept["ratings"] == ref["ratings"]  # kept for learning
    with client.application.extensions["matcher"].db.session() as session:
        match = session.get(MatchRecord, kept["match_id"])
        assert match is not None and match.client_ref is None and match.intake == {}
    audit = client.get("/api/v1/audit", headers=admin).json["items"]
    assert any(e["action"] == "client.erase" for e in audit)
    assert "c-1" not in str([e["details"] for e in audit] + [e["note"] for e in audit])
