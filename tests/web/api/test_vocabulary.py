"""The vocabulary endpoint serves every code list with labels."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from matcher.bundled import data_dir
from matcher.services.demo import DEMO_FILE


def test_vocabulary_lists_contract_codes(client: FlaskClient) -> None:
    body = client.get("/api/v1/vocabulary").json
    codes = {name: {term["code"] for term in terms} for name, terms in body.items()}
    assert {"cbt", "ipt", "psychodynamic", "humanistic", "integrative"} <= codes["modalities"]
    assert {"depression", "racial_trauma", "work"} <= codes["concerns"]
    assert {"en", "es", "fr", "zh"} <= codes["languages"]
    assert {"US-CA", "US-NY", "CA-ON", "CA-QC"} <= codes["jurisdictions"]
    assert codes["style_dimensions"] == {
        "directiveness",
        "emotional_intensity",
        "past_orientation",
        "challenge",
    }
    assert all(term["label"] for terms in body.values() for term in terms)


def test_insurance_lists_the_demo_plans_and_major_payers(client: FlaskClient) -> None:
    listed = {term["code"] for term in client.get("/api/v1/vocabulary").json["insurance"]}
    lines = (data_dir("profiles") / DEMO_FILE).read_text(encoding="utf-8").splitlines()
    used = {plan for line in lines for plan in json.loads(line)["insurance"]}
    assert used <= listed
    assert {"aetna", "cigna", "united", "humana", "medicare", "sun_life", "manulife"} <= listed


def test_time_zones_are_zones_not_aliases(client: FlaskClient) -> None:
    zones = {term["code"] for term in client.get("/api/v1/vocabulary").json["timezones"]}
    assert {"America/Los_Angeles", "America/Toronto", "Europe/Paris", "Etc/UTC"} <= zones
    assert not zones & {"US/Pacific", "UTC", "Factory", "localtime", "posixrules"}
