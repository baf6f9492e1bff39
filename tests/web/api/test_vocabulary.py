"""The vocabulary endpoint serves every code list with labels."""

from __future__ import annotations

from flask.testing import FlaskClient


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
