"""The bulk import's bounds through the API: records, bytes per format, the error report."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from matcher.config import Settings
from matcher.storage.database import Database
from matcher.storage.therapists import count_active

Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]
NDJSON = "application/x-ndjson"
URL = "/api/v1/therapists/import"


@pytest.fixture
def settings(db_url: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for a test app, with the import bounds a test asks for."""
    bounds: dict[str, Any] = getattr(request, "param", {})
    return Settings(database_url=db_url, secret_key="test-secret", **bounds)


def _active(db: Database) -> int:
    with db.session() as session:
        return count_active(session)


def test_a_million_lines_of_empty_objects_stop_at_the_record_limit(
    client: FlaskClient, admin: Headers, db: Database
) -> None:
    body = b"{}\n" * 1_000_000
    answer = client.post(URL, data=body, content_type=NDJSON, headers=admin)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert answer.json["errors"] == {"body": ["At most 10000 profiles per import."]}
    assert _active(db) == 0


def test_many_bad_records_get_a_short_report_with_the_count(
    client: FlaskClient, admin: Headers, db: Database
) -> None:
    # 50,000 such lines used to answer 26 MB; past the record limit they now get the refusal
    # above, and below it the report lists the first 100 problems and counts the rest.
    answer = client.post(URL, data=b"{}\n" * 2_000, content_type=NDJSON, headers=admin)
    assert answer.status_code == 422
    assert len(answer.get_data()) < 20_000
    assert len(answer.json["errors"]) == 100
    detail = answer.json["detail"]
    assert detail.startswith("2000 of 2000 records are invalid; nothing imported.")
    assert "The first 100 of " in detail
    assert _active(db) == 0


def test_sixty_mib_of_blank_lines_is_nothing_to_import(client: FlaskClient, admin: Headers) -> None:
    answer = client.post(URL, data=b"\n" * (60 << 20), content_type=NDJSON, headers=admin)
    assert answer.status_code == 422
    assert answer.json["errors"] == {"body": ["No profiles given."]}


@pytest.mark.parametrize(
    "settings", [{"max_import_json_bytes": 4096, "max_import_bytes": 65536}], indirect=True
)
def test_each_format_has_its_own_body_limit(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Profile
) -> None:
    profiles = [make_profile(id=f"t-{n}") for n in range(10)]
    as_array = client.post(URL, json=profiles, headers=admin)
    assert as_array.status_code == 413
    assert as_array.mimetype == "application/problem+json"
    assert _active(db) == 0
    lines = "\n".join(json.dumps(p) for p in profiles).encode()
    assert 4096 < len(lines) < 65536
    as_ndjson = client.post(URL, data=lines, content_type=NDJSON, headers=admin)
    assert as_ndjson.status_code == 200, as_ndjson.json
    assert as_ndjson.json == {"created": 10, "updated": 0}
    too_big = client.post(URL, data=lines * 10, content_type=NDJSON, headers=admin)
    assert too_big.status_code == 413
    assert _active(db) == 10


@pytest.mark.parametrize("settings", [{"max_import_records": 3}], indirect=True)
def test_the_record_limit_holds_for_json_arrays_and_changes_nothing(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Profile
) -> None:
    four = [make_profile(id=f"t-{n}") for n in range(4)]
    refused = client.post(URL, json=four, headers=admin)
    assert refused.status_code == 422
    assert refused.json["errors"] == {"body": ["At most 3 profiles per import."]}
    assert _active(db) == 0
    assert client.post(URL, json=four[:3], headers=admin).json == {"created": 3, "updated": 0}


def test_an_import_streamed_in_chunks_is_read(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Profile
) -> None:
    lines = [json.dumps(make_profile(id=f"t-{n}")).encode() + b"\n" for n in range(50)]

    answer = client.post(
        URL,
        input_stream=io.BytesIO(b"".join(lines)),
        content_type=NDJSON,
        headers={**admin, "Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json == {"created": 50, "updated": 0}
    assert _active(db) == 50
