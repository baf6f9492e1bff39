"""The exposure audit on a small directory counted by hand: the endpoint and the page agree."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matcher.services import users
from tests.web.coordinator.conftest import token

Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]
PASSWORD = "correct horse battery staple"
ALL_CA = ["t-1", "t-2", "t-3", "t-4", "t-5", "t-6", "t-7"]

# id: (gender, identities, languages, jurisdiction)
DIRECTORY = {
    "t-1": ("woman", ["latinx"], ["en", "vi"], "US-CA"),
    "t-2": ("woman", [], ["en", "vi"], "US-CA"),
    "t-3": ("man", [], ["en", "vi"], "US-CA"),
    "t-4": ("man", ["black"], ["en"], "US-CA"),
    "t-5": ("man", [], ["en"], "US-CA"),
    "t-6": ("woman", ["black"], ["en"], "US-CA"),
    "t-7": (None, [], ["en"], "US-CA"),
    "t-8": ("woman", [], ["en"], "US-NY"),
}


def recorded(client: FlaskClient, headers: Headers, **intake: Any) -> dict[str, Any]:
    body = {"intake": intake, "limit": 5, "record": True, "client_ref": "c"}
    response = client.post("/api/v1/match", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def refer_and_rate(
    client: FlaskClient, headers: Headers, match_id: str, therapist_id: str, item: int
) -> None:
    referral = client.post(
        "/api/v1/referrals",
        json={"match_id": match_id, "therapist_id": therapist_id},
        headers=headers,
    )
    assert referral.status_code == 201, referral.json
    rating = client.post(
        f"/api/v1/referrals/{referral.json['id']}/alliance",
        json={"instrument": "wai-sr", "session": 1, "items": [item] * 12},
        headers=headers,
    )
    assert rating.status_code == 201, rating.json


def except_(*kept: str) -> list[str]:
    return [t for t in ALL_CA if t not in kept]


@pytest.fixture
def audited(client: FlaskClient, admin: Headers, make_profile: Profile) -> datetime:
    """The fixture: t-5 rated before the window, then four matches in it; the window's start."""
    for therapist_id, (gender, identities, languages, place) in DIRECTORY.items():
        profile = make_profile(
            id=therapist_id,
            gender=gender,
            identities=identities,
            competencies=[],
            languages=languages,
            licenses=[{"jurisdiction": place, "credential": "LMFT"}],
            capacity=10,
        )
        put = client.put(f"/api/v1/therapists/{therapist_id}", json=profile, headers=admin)
        assert put.status_code == 201, put.json
    before = recorded(client, admin, jurisdiction="US-CA", exclude_therapists=except_("t-5"))
    refer_and_rate(client, admin, before["match_id"], "t-5", 4)
    since = datetime.now(UTC)
    # M1: only the three who speak Vietnamese are eligible; all three are in the top 5.
    m1 = recorded(client, admin, jurisdiction="US-CA", languages=["vi"], must_have=["language"])
    assert [r["therapist_id"] for r in m1["results"]] == ["t-1", "t-2", "t-3"]
    # M2: six eligible, all tied on the score: the top 5 are the lowest ids, t-7 is left out.
    m2 = recorded(client, admin, jurisdiction="US-CA", exclude_therapists=["t-5"])
    assert [r["therapist_id"] for r in m2["results"]] == ["t-1", "t-2", "t-3", "t-4", "t-6"]
    # M3: the one therapist licensed in New York.
    recorded(client, admin, jurisdiction="US-NY")
    # M4: only t-5, who has ratings (established).
    recorded(client, admin, jurisdiction="US-CA", exclude_therapists=except_("t-5"))
    refer_and_rate(client, admin, m1["match_id"], "t-1", 5)  # WAI-SR 60: score 1.0
    refer_and_rate(client, admin, m2["match_id"], "t-4", 2)  # WAI-SR 24: 0.25, an alert
    return since


# Counted by hand from the fixture: eligible places 3 + 6 + 1 + 1 = 11, top-5 places
# 3 + 5 + 1 + 1 = 10. (group: eligible, top 5, rated referrals, mean early alliance)
EXPECTED = {
    "experience:new": (10, 9, 2, 0.625),
    "experience:established": (1, 1, 0, None),
    "identity:black": (2, 2, 1, 0.25),
    "identity:latinx": (2, 2, 1, 1.0),
    "gender:man": (4, 4, 1, 0.25),
    "gender:unstated": (1, 0, 0, None),
    "gender:woman": (6, 6, 1, 1.0),
    "jurisdiction:US-CA": (10, 9, 2, 0.625),
    "jurisdiction:US-NY": (1, 1, 0, None),
}
# (group: rated referrals, mean early alliance, share with a rupture alert)
EXPECTED_CLIENTS = {
    "jurisdiction:US-CA": (2, 0.625, 0.5),
    "age_group:unstated": (2, 0.625, 0.5),
    "language:vi": (1, 1.0, 0.0),
}


def test_the_endpoint_agrees_with_the_hand_count(
    client: FlaskClient, admin: Headers, audited: datetime
) -> None:
    response = client.get(
        "/api/v1/audits/exposure", query_string={"since": audited.isoformat()}, headers=admin
    )
    assert response.status_code == 200, response.json
    audit = response.json
    assert (audit["matches"], audit["eligible_slots"], audit["top5_slots"]) == (4, 11, 10)
    groups = {g["group"]: g for g in audit["therapist_groups"]}
    assert set(groups) == set(EXPECTED)
    for name, (eligible, top5, rated, alliance) in EXPECTED.items():
        g = groups[name]
        assert (g["eligible_slots"], g["top5_slots"], g["rated_referrals"]) == (
            eligible,
            top5,
            rated,
        ), name
        assert g["eligible_share"] == pytest.approx(eligible / 11)
        assert g["top5_share"] == pytest.approx(top5 / 10)
        assert g["mean_alliance"] == (pytest.approx(alliance) if alliance is not None else None)
        # Only the one group never in a top 5 (t-7, no gender given) is under four fifths.
        assert g["under_four_fifths"] is (name == "gender:unstated"), name
    clients = {g["group"]: g for g in audit["client_groups"]}
    assert set(clients) == set(EXPECTED_CLIENTS)
    for name, (rated, alliance, alerts) in EXPECTED_CLIENTS.items():
        g = clients[name]
        assert g["rated_referrals"] == rated
        assert g["mean_alliance"] == pytest.approx(alliance)
        assert g["alert_share"] == pytest.approx(alerts)
    assert audit["new_therapists"] == {
        "matches_with_new_eligible": 3,
        "matches_with_new_in_top5": 3,
        "share_reaching_top5": 1.0,
    }
    # Without a start, the match made before the window counts too.
    everything = client.get("/api/v1/audits/exposure", headers=admin).json
    assert (everything["matches"], everything["eligible_slots"]) == (5, 12)


def test_the_window_and_the_scope_are_checked(
    client: FlaskClient, make_key: Callable[..., Headers]
) -> None:
    admin = make_key("admin")
    backwards = client.get(
        "/api/v1/audits/exposure",
        query_string={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=admin,
    )
    assert backwards.status_code == 200  # a window holding no match: an empty audit
    assert (backwards.json["matches"], backwards.json["therapist_groups"]) == (0, [])
    assert client.get("/api/v1/audits/exposure", headers=make_key("profiles")).status_code == 403
    bad = client.get("/api/v1/audits/exposure", query_string={"since": "soon"}, headers=admin)
    assert bad.status_code == 422


def _cells(page: str, label: str) -> list[str]:
    row = re.search(rf"<th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", page, re.S)
    assert row, label
    return re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))


def test_the_page_agrees_with_the_hand_count(
    app: Flask, client: FlaskClient, audited: datetime
) -> None:
    with app.extensions["matcher"].db.transaction() as session:
        users.create_user(session, email="ada@clinic.test", role="admin", password=PASSWORD)
    signed = client.post(
        "/login",
        data={"email": "ada@clinic.test", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert signed.status_code == 302
    day = audited.date().isoformat()
    # The page counts whole days: the match before the window was made the same day.
    page = client.get(f"/admin/exposure?since={day}").get_data(as_text=True)
    assert "5 recorded matches counted: 12 eligible places, 11 top-5 places." in page
    # Counted by hand with the match before the window: t-5 alone, new then (no ratings yet).
    assert _cells(page, "Gender: unstated") == ["1", "8.3%", "0", "0.0%", "0.00", "yes", "n/a"]
    assert _cells(page, "Gender: woman") == ["6", "50.0%", "6", "54.5%", "1.09", "no", "1.000"]
    assert _cells(page, "Experience: established") == [
        "1",
        "8.3%",
        "1",
        "9.1%",
        "1.09",
        "no",
        "n/a",
    ]
    # Its referral (WAI-SR 48: 0.75) was made while t-5 was new.
    assert _cells(page, "Experience: new")[-1] == "0.667"
    assert re.search(r'id="under-list">\s*<li>Gender: unstated</li>\s*</ul>', page)
    assert _cells(page, "Language: vi") == ["1", "1.000", "0%"]
    assert "eligible in 4 matches and reached the top 5 in 4 (100%)" in page
