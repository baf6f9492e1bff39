"""The crisis path: resources by place from an editable file, and the urgent queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.services import crisis
from matcher.services.errors import Conflict, Invalid
from matcher.storage.database import Database


def test_us_and_canada_get_988_and_911() -> None:
    for jurisdiction in ("US-CA", "CA-ON"):
        contacts = " ".join(r["contact"] for r in crisis.resources_for(jurisdiction))
        assert "988" in contacts and "911" in contacts


def test_an_organisation_file_replaces_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "ours.json"
    path.write_text(
        json.dumps(
            {
                "US-NY": [{"name": "Clinic on call", "contact": "Call 555-0100", "when": "Always"}],
                "US": [{"name": "Emergency", "contact": "Call 911", "when": "Danger"}],
            }
        )
    )
    found = crisis.resources_for("US-NY", path=str(path))
    assert [r["name"] for r in found] == ["Clinic on call", "Emergency"]


def test_the_queue_holds_yes_and_not_sure_until_closed(db: Database) -> None:
    with db.transaction() as session:
        assert crisis.open_case(session, risk="no", jurisdiction="US-CA", match_id=None,
                                client_ref="C-1", created_by="a") is None  # fmt: skip
        for risk in ("yes", "not_sure"):
            crisis.open_case(session, risk=risk, jurisdiction="US-CA", match_id=None,
                             client_ref=f"C-{risk}", created_by="a")  # fmt: skip
    with db.session() as session:
        cases = crisis.open_cases(session)
    assert [c.client_ref for c in cases] == ["C-yes", "C-not_sure"]
    with db.transaction() as session:
        crisis.take(session, case_id=cases[0].id, by="kim")
    with db.transaction() as session, pytest.raises(Conflict):
        crisis.take(session, case_id=cases[0].id, by="lee")
    with db.transaction() as session, pytest.raises(Invalid):
        crisis.close(session, case_id=cases[0].id, by="kim", action="  ")
    with db.transaction() as session:
        crisis.close(session, case_id=cases[0].id, by="kim", action="Called; safe.")
    with db.session() as session:
        assert [c.client_ref for c in crisis.open_cases(session)] == ["C-not_sure"]
