"""Therapist profile endpoints: upsert, read, list, deactivate, import."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]


def put(client: FlaskClient, headers: Headers, profile: dict[str, Any]) -> Any:
    return client.put(f"/api/v1/therapists/{profile['id']}", json=profile, headers=headers)


def allowed(response: Any) -> set[str]:
    return {method.strip() for method in response.headers["Allow"].split(",")}


def test_put_creates_then_replaces(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    first = put(client, admin, make_profile())
    assert first.status_code == 201
    assert first.json["name"] == "Ana Ruiz, PhD"
    assert first.json["active"] is True

    second = put(client, admin, make_profile(name="Ana Ruiz, PsyD", capacity=1))
    assert second.status_code == 200
    fetched = client.get("/api/v1/therapists/t-000123", headers=admin).json
    assert fetched["name"] == "Ana Ruiz, PsyD"
    assert fetched["capacity"] == 1
    assert fetched["created_at"] == first.json["created_at"]


def test_put_returns_every_field_normalised(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    minimal = make_profile(formats=["video"])
    for optional in (
        "gender",
        "concerns",
        "populations",
        "identities",
        "competencies",
        "faith",
        "location",
        "availability",
        "fee",
        "insurance",
        "style",
    ):
        minimal.pop(optional)
    body = put(client, admin, minimal).json
    assert body["concerns"] == [] and body["location"] is None and body["style"] == {}
    assert body["fee"] is None and body["gender"] is None


def test_put_id_may_come_from_path_only(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    profile = make_profile()
    del profile["id"]
    response = client.put("/api/v1/therapists/t-9", json=profile, headers=admin)
    assert response.status_code == 201
    assert response.json["id"] == "t-9"


def test_put_id_mismatch_is_422(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    response = client.put("/api/v1/therapists/t-9", json=make_profile(), headers=admin)
    assert response.status_code == 422
    assert "id" in response.json["errors"]


def test_bad_profile_names_every_bad_field(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    bad = make_profile(
        capacity=2.5,
        languages=["en", "xx"],
        licenses=[{"jurisdiction": "US-ZZ", "credential": "LCSW"}],
        availability=[{"day": "funday", "start": "18:00", "end": "17:00"}],
        fee={"amount": 100, "currency": "USD", "sliding_scale_min": 150},
        accepting_new_clients="yes",
        location=None,
        favourite_colour="blue",
    )
    response = put(client, admin, bad)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert set(errors) >= {
        "capacity",
        "languages[1]",
        "licenses[0].jurisdiction",
        "availability[0].day",
        "fee.sliding_scale_min",
        "accepting_new_clients",
        "location",
        "favourite_colour",
    }
    assert response.json["status"] == 422
    assert client.get("/api/v1/therapists/t-000123", headers=admin).status_code == 404


def test_window_end_must_follow_start(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    bad = make_profile(availability=[{"day": "mon", "start": "18:00", "end": "17:00"}])
    assert "availability[0].end" in put(client, admin, bad).json["errors"]


def test_required_fields_are_named(client: FlaskClient, admin: Headers) -> None:
    response = client.put("/api/v1/therapists/t-1", json={}, headers=admin)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {
        "name",
        "licenses",
        "modalities",
        "languages",
        "formats",
        "timezone",
        "accepting_new_clients",
        "capacity",
    }


def test_get_unknown_is_404_problem(client: FlaskClient, admin: Headers) -> None:
    response = client.get("/api/v1/therapists/nobody", headers=admin)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_delete_deactivates_and_keeps_record(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put(client, admin, make_profile())
    assert client.delete("/api/v1/therapists/t-000123", headers=admin).status_code == 204
    assert client.get("/api/v1/therapists/t-000123", headers=admin).json["active"] is False
    assert client.get("/api/v1/therapists", headers=admin).json["total"] == 0
    listed = client.get("/api/v1/therapists?include_inactive=true", headers=admin).json
    assert listed["total"] == 1
    assert client.delete("/api/v1/therapists/t-000123", headers=admin).status_code == 204
    assert client.delete("/api/v1/therapists/nobody", headers=admin).status_code == 404
    assert put(client, admin, make_profile()).json["active"] is True


def test_list_pages_and_filters(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    for n in range(25):
        put(
            client,
            admin,
            make_profile(
                id=f"t-{n:03d}",
                languages=["en", "es"] if n % 5 == 0 else ["en"],
                licenses=[{"jurisdiction": "CA-ON" if n < 10 else "US-CA", "credential": "RP"}],
                modalities=["psychodynamic"] if n % 2 else ["cbt"],
                accepting_new_clients=n % 3 != 0,
            ),
        )
    page = client.get("/api/v1/therapists?page=2&page_size=10", headers=admin).json
    assert page["total"] == 25 and page["page"] == 2 and page["page_size"] == 10
    assert [t["id"] for t in page["items"]] == [f"t-{n:03d}" for n in range(10, 20)]

    def total(query: str) -> int:
        return client.get(f"/api/v1/therapists?{query}", headers=admin).json["total"]

    assert total("jurisdiction=CA-ON") == 10
    assert total("language=es") == 5
    assert total("modality=cbt") == 13
    assert total("accepting=false") == 9
    assert total("jurisdiction=CA-ON&language=es&modality=cbt") == 1  # t-000


def test_list_rejects_bad_paging(client: FlaskClient, admin: Headers) -> None:
    response = client.get("/api/v1/therapists?page=0&page_size=101", headers=admin)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"page", "page_size"}
    assert client.get("/api/v1/therapists?jurisdiction=XX-1", headers=admin).status_code == 422


def test_import_json_array(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    put(client, admin, make_profile(id="t-1"))
    body = [make_profile(id="t-1"), make_profile(id="t-2"), make_profile(id="t-3")]
    response = client.post("/api/v1/therapists/import", json=body, headers=admin)
    assert response.status_code == 200
    assert response.json == {"created": 2, "updated": 1}


def test_import_ndjson(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    lines = "\n".join(json.dumps(make_profile(id=f"t-{n}")) for n in range(3)) + "\n\n"
    response = client.post(
        "/api/v1/therapists/import",
        data=lines,
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200
    assert response.json == {"created": 3, "updated": 0}


def test_import_with_one_bad_record_changes_nothing(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put(client, admin, make_profile(id="t-0", name="Before"))
    body = [
        make_profile(id="t-0", name="After"),
        make_profile(id="t-1"),
        make_profile(id="t-2", capacity=-1, languages=[]),
    ]
    response = client.post("/api/v1/therapists/import", json=body, headers=admin)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"[2].capacity", "[2].languages"}
    assert client.get("/api/v1/therapists/t-0", headers=admin).json["name"] == "Before"
    assert client.get("/api/v1/therapists/t-1", headers=admin).status_code == 404


def test_import_refuses_duplicate_ids(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    body = [make_profile(id="t-1"), make_profile(id="t-1")]
    response = client.post("/api/v1/therapists/import", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json["errors"] == {"[1].id": ["Same id as record 0."]}


def test_import_bad_ndjson_line_is_400(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    data = json.dumps(make_profile()) + "\n{not json\n"
    response = client.post(
        "/api/v1/therapists/import",
        data=data,
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 400
    assert "line 2" in response.json["errors"]


def test_import_of_an_object_or_nothing_is_422(client: FlaskClient, admin: Headers) -> None:
    for body in ({"id": "t-1"}, []):
        response = client.post("/api/v1/therapists/import", json=body, headers=admin)
        assert response.status_code == 422
        assert "body" in response.json["errors"]


def test_import_is_not_a_therapist_id(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put_import = client.put(
        "/api/v1/therapists/import", json=make_profile(id="import"), headers=admin
    )
    assert put_import.status_code == 405
    assert allowed(put_import) == {"OPTIONS", "POST"}
    assert allowed(client.options("/api/v1/therapists/import", headers=admin)) == {
        "OPTIONS",
        "POST",
    }
    assert client.get("/api/v1/therapists/import", headers=admin).status_code == 405
    assert client.delete("/api/v1/therapists/import", headers=admin).status_code == 405
    # Nor can the import create one: the id pattern refuses it.
    imported = client.post(
        "/api/v1/therapists/import", json=[make_profile(id="import")], headers=admin
    )
    assert imported.status_code == 422 and "[0].id" in imported.json["errors"]
    assert client.get("/api/v1/therapists?page_size=100", headers=admin).json["total"] == 0


def test_dot_ids_are_refused(client: FlaskClient, admin: Headers, make_profile: Profile) -> None:
    for dots in (".", ".."):
        # Percent-encoded, the dots reach the server as the path segment itself.
        url = "/api/v1/therapists/" + "%2E" * len(dots)
        response = client.put(url, json=make_profile(id=dots), headers=admin)
        assert response.status_code == 422 and set(response.json["errors"]) == {"id"}
        assert put(client, admin, make_profile(id=f"a{dots}b")).status_code == 201


def test_time_zone_aliases_are_kept_as_their_zone(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    stored = put(client, admin, make_profile(timezone="US/Pacific")).json
    assert stored["timezone"] == "America/Los_Angeles"
    for not_a_zone in ("localtime", "Factory", "posixrules", "America/Atlantis", "us/pacific"):
        refused = put(client, admin, make_profile(timezone=not_a_zone))
        assert refused.status_code == 422, not_a_zone
        assert set(refused.json["errors"]) == {"timezone"}


def test_other_insurance_plan_codes_are_accepted(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    stored = put(client, admin, make_profile(insurance=["aetna", "local_county_plan"])).json
    assert stored["insurance"] == ["aetna", "local_county_plan"]
    refused = put(client, admin, make_profile(insurance=["Local Plan", "aetna\n"]))
    assert set(refused.json["errors"]) == {"insurance[0]", "insurance[1]"}
