"""``POST /api/v1/match`` writes its JSON by hand, for speed: real answers on the demo directory
load with the schema that documents them and validate against the served document."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import schemathesis
from flask import Flask
from flask.testing import FlaskClient

from matcher import vocabulary as vocab
from matcher.bundled import data_dir
from matcher.schemas.intake import MUST_HAVE_SOURCES
from matcher.schemas.match import MatchResponseSchema
from matcher.services.demo import DEMO_FILE

ANSWERS = 60


def _demo_profiles() -> list[dict[str, Any]]:
    lines = (data_dir("profiles") / DEMO_FILE).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _pick(rng: np.random.Generator, codes: Any, most: int) -> list[str]:
    """Up to ``most`` distinct codes in a random order of preference."""
    codes = list(codes)
    return [str(c) for c in rng.permutation(codes)[: int(rng.integers(0, most + 1))]]


def varied_intakes(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """Intakes near real therapists (so results are found) with every kind of preference."""
    rng = np.random.default_rng(seed)
    profiles = _demo_profiles()
    intakes = []
    for n in range(count):
        near = profiles[int(rng.integers(len(profiles)))]
        intake: dict[str, Any] = {
            "jurisdiction": near["licenses"][0]["jurisdiction"],
            "age_group": str(rng.choice(list(vocab.POPULATIONS))) if n % 3 else None,
            "concerns": _pick(rng, vocab.CONCERNS, 3),
            "modalities": _pick(rng, near["modalities"], 2),
            "languages": _pick(rng, near["languages"], 2),
            "identities": _pick(rng, vocab.IDENTITIES, 2),
            "wants_shared_identity": bool(n % 4 == 0),
            "therapist_genders": _pick(rng, vocab.GENDERS, 2),
            "faith": near["faith"] if n % 5 == 0 else None,
            "formats": _pick(rng, vocab.FORMATS, 2),
            "max_fee": float(rng.integers(40, 250)) if n % 2 else None,
            "insurance": str(rng.choice(near["insurance"])) if near["insurance"] else None,
            "style": {"directiveness": int(rng.integers(-3, 4))} if n % 3 == 0 else {},
        }
        if n % 2:
            intake["location"] = {k: near["location"][k] for k in ("lat", "lon")}
            intake["max_distance_km"] = float(rng.integers(5, 80))
        if n % 3 != 1:
            intake["timezone"] = near["timezone"]
            intake["availability"] = near["availability"][:2]
        stated = [name for name, sources in MUST_HAVE_SOURCES.items() if intake.get(sources[0])]
        intake["must_have"] = _pick(rng, stated, 3)  # many must-haves: relaxations appear
        intake["exclude_therapists"] = [near["id"]] if n % 6 == 0 else []
        intakes.append(intake)
    return intakes


def test_match_answers_load_with_their_schema_and_the_document(
    demo_app: Flask, demo_client: FlaskClient, demo_admin: dict[str, str]
) -> None:
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_app)["/api/v1/match"][
        "POST"
    ]
    documented = MatchResponseSchema()
    seen = {"results": 0, "relaxations": 0, "recorded": 0}
    for n, intake in enumerate(varied_intakes(ANSWERS)):
        body = {"intake": intake, "limit": 1 + n % 50, "record": n % 2 == 0, "client_ref": None}
        response = demo_client.post("/api/v1/match", json=body, headers=demo_admin)
        assert response.status_code == 200, (intake, response.json)
        answer = response.json
        # load raises on any field the schema does not declare, or of another type.
        assert documented.dump(documented.load(answer)) == answer
        operation.validate_response(response)
        seen["results"] += bool(answer["results"])
        seen["relaxations"] += bool(answer["relaxations"])
        seen["recorded"] += answer["match_id"] is not None
    assert seen["results"] > ANSWERS / 2 and seen["relaxations"] and seen["recorded"] == ANSWERS / 2
