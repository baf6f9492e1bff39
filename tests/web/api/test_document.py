"""The served OpenAPI document states the server's rules (test_fuzz checks them by fuzzing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from matcher.core.scoring import FEATURES

Document = dict[str, Any]


@pytest.fixture
def document(client: FlaskClient) -> Document:
    """The served document."""
    served: Document = client.get("/api/v1/openapi.json").json
    return served


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in the document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_nullable_means_null_is_allowed(document: Document) -> None:
    for node in _walk(document):
        if node.get("nullable") and "enum" in node:
            assert None in node["enum"], node
        for alternative in node.get("anyOf", ()):
            if alternative.get("nullable"):  # a nullable object: null only, not any object
                assert alternative.get("enum") == [None], node


def test_time_zones_are_checked_strings_not_an_enum(document: Document) -> None:
    schemas = document["components"]["schemas"]
    for owner in ("TherapistProfile", "Intake"):
        zone = schemas[owner]["properties"]["timezone"]
        assert zone["type"] == "string" and zone["format"] == "time-zone", zone
        assert "enum" not in zone and "/api/v1/vocabulary" in zone["description"]


def test_alliance_items_follow_the_instrument(document: Document) -> None:
    schemas = document["components"]["schemas"]
    rating = schemas["RatingRequest"]
    assert rating["discriminator"]["propertyName"] == "instrument"
    shapes = {
        tag: schemas[ref.rsplit("/", 1)[1]]
        for tag, ref in rating["discriminator"]["mapping"].items()
    }
    assert [{"$ref": ref} for ref in rating["discriminator"]["mapping"].values()] == rating["oneOf"]
    wai, srs = shapes["wai-sr"]["properties"]["items"], shapes["srs"]["properties"]["items"]
    assert (wai["minItems"], wai["maxItems"], wai["items"]) == (
        12,
        12,
        {"type": "integer", "minimum": 1, "maximum": 5},
    )
    assert (srs["minItems"], srs["maxItems"], srs["items"]) == (
        4,
        4,
        {"type": "number", "minimum": 0, "maximum": 10},
    )


def test_model_weights_name_the_features(document: Document) -> None:
    weights = document["components"]["schemas"]["Weights"]
    assert list(weights["properties"]) == list(FEATURES)
    assert weights["additionalProperties"] is False
    assert all(p["minimum"] == 0 for p in weights["properties"].values())


def test_bounds_and_shapes_the_server_applies(document: Document) -> None:
    schemas, paths = document["components"]["schemas"], document["paths"]
    distance = schemas["Intake"]["properties"]["max_distance_km"]
    assert distance["minimum"] == 0 and distance["exclusiveMinimum"] is True
    body = paths["/api/v1/therapists/import"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["minItems"] == 1
    assert schemas["TherapistProfile"]["properties"]["modalities"]["uniqueItems"] is True
    # In person needs a location: "not (formats holds in_person and location is missing)".
    assert "in_person" in str(schemas["TherapistProfile"]["not"])
    (path_id,) = paths["/api/v1/therapists/{therapist_id}"]["parameters"]
    assert (
        path_id["schema"]["pattern"] == schemas["TherapistProfile"]["properties"]["id"]["pattern"]
    )
    assert "import" in path_id["schema"]["pattern"]
