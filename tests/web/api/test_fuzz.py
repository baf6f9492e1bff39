"""Schemathesis over the whole OpenAPI document: no 5xx, every response as documented, every
schema-valid request accepted and every schema-violating one refused.

Every operation in the document is fuzzed, so an endpoint added later is covered without
touching this file. Operations are listed at collection time from an app on an in-memory
database; each test then fuzzes one operation against the app on the test's real database.

JSON Schema (OpenAPI 3.0.3) cannot state a few of the server's rules; the document states them
in words, and positive cases are made to keep them (``keep_stated_rules``), as a client reading
the document would. References to stored things (a recorded match, a referral) come from
stored things, as a client's would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.core.jsonschema import DRAFT4_SUPPLEMENTAL_FORMATS

from matcher import vocabulary as vocab
from matcher.app import create_app
from matcher.config import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]
EXAMPLES = 40
Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]

# The document's "time-zone" format: a zone (or alias) of the tz database. Schemathesis learns to
# draw such names, and to check them: its Draft 4 validator knows no such format and would
# otherwise count any string as a zone (say a label it read in the source).
schemathesis.openapi.format("time-zone", st.sampled_from(sorted(vocab.timezones())))
DRAFT4_SUPPLEMENTAL_FORMATS["time-zone"] = lambda name: vocab.zone_named(name) is not None

REFERRALS = "POST /api/v1/referrals"
ALLIANCE = "POST /api/v1/referrals/{referral_id}/alliance"
TRAIN = "POST /api/v1/models/train"
HISTORY = "POST /api/v1/history/import"
NEEDS_RATINGS = {REFERRALS, ALLIANCE, TRAIN, HISTORY}


def _load(app: Flask, key: str = "") -> schemathesis.BaseSchema:
    """The served document, fuzzed with ``key`` as the bearer key (keys are test_auth's part)."""
    config = SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"bearerAuth": {"bearer": key}}},
            "generation": {"with-security-parameters": False},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def _labels() -> list[str]:
    app = create_app(Settings(database_url="sqlite://"), instance_path="/tmp/matcher-fuzz")
    return [result.ok().label for result in _load(app).get_all_operations()]


@dataclass(frozen=True)
class Stored:
    """What a client would know from earlier answers: a recorded match and a referral."""

    match_id: str
    eligible: list[str]
    referral_id: str


def _store_ratings(client: FlaskClient, headers: Headers, make_profile: Profile) -> Stored:
    """Six therapists, thirty rated referrals (enough to learn from) and a fresh recorded match."""
    for n in range(6):
        profile = make_profile(id=f"t-{n}", capacity=100)
        stored = client.put(f"/api/v1/therapists/t-{n}", json=profile, headers=headers)
        assert stored.status_code == 201, stored.json
    body = {"intake": {"jurisdiction": "US-CA"}, "record": True}
    referral_id = ""
    for n in range(31):
        shown = client.post("/api/v1/match", json=body, headers=headers).json
        eligible = [r["therapist_id"] for r in shown["results"]]
        if n == 30:
            return Stored(shown["match_id"], eligible, referral_id)
        pair = {"match_id": shown["match_id"], "therapist_id": eligible[n % len(eligible)]}
        referral = client.post("/api/v1/referrals", json=pair, headers=headers)
        assert referral.status_code == 201, referral.json
        referral_id = referral.json["id"]
        rating = {"instrument": "srs", "session": 1, "items": [n % 10, 5, 6, 7]}
        url = f"/api/v1/referrals/{referral_id}/alliance"
        assert client.post(url, json=rating, headers=headers).status_code == 201
    raise AssertionError("unreachable")


def _in_order(owner: dict[str, Any]) -> None:
    """Keep only windows that end after they start ("end: later than start")."""
    if not owner.get("availability"):
        return
    kept = [w for w in owner["availability"] if w["start"] != w["end"]]
    for window in kept:
        if window["end"] < window["start"]:  # HH:MM strings order as times do
            window["start"], window["end"] = window["end"], window["start"]
    owner["availability"] = kept


def _profile_rules(profile: dict[str, Any]) -> None:
    """A profile's rules in words: ordered windows, sliding scale <= fee, a licence per place."""
    _in_order(profile)
    fee = profile.get("fee")
    if (
        fee
        and fee.get("sliding_scale_min") is not None
        and fee["sliding_scale_min"] > fee["amount"]
    ):
        fee["amount"], fee["sliding_scale_min"] = fee["sliding_scale_min"], fee["amount"]
    by_place: dict[str, Any] = {}
    for licence in profile["licenses"]:
        by_place.setdefault(licence["jurisdiction"], licence)
    profile["licenses"] = list(by_place.values())


def keep_stated_rules(case: schemathesis.Case, stored: Stored | None) -> schemathesis.Case:
    """Make a positive case keep the rules the document states in words, as a client would."""
    label, body = case.operation.label, case.body
    if label == "PUT /api/v1/therapists/{therapist_id}":
        _profile_rules(body)
        if body.get("id") is not None:  # "When given, the id in the path"
            body["id"] = case.path_parameters["therapist_id"]
    elif label == "POST /api/v1/therapists/import":
        first: dict[str, Any] = {}
        for profile in body:  # "Each id at most once"
            first.setdefault(profile["id"], profile)
            _profile_rules(profile)
        case.body = list(first.values())
    elif label == "POST /api/v1/match":
        _in_order(body["intake"])
    elif label == "POST /api/v1/waitlist/assign":
        once: dict[str, Any] = {}
        for client in body["clients"]:  # "each client_ref at most once"
            once.setdefault(client["client_ref"], client)
            _in_order(client["intake"])
        body["clients"] = list(once.values())
    elif label == "POST /api/v1/models":
        total = sum(body["weights"].values())
        if body["intercept"] + total > 1:  # "intercept + the sum of weights at most 1"
            scale = (1 - body["intercept"]) / total
            body["weights"] = {name: weight * scale for name, weight in body["weights"].items()}
    elif label == REFERRALS and stored is not None:
        # A therapist the recorded match showed; which one varies with the drawn id.
        body["match_id"] = stored.match_id
        body["therapist_id"] = stored.eligible[len(body["therapist_id"]) % len(stored.eligible)]
    elif label == ALLIANCE and stored is not None:
        case.path_parameters["referral_id"] = stored.referral_id
    elif label == HISTORY and stored is not None:
        for record in body:
            # "A therapist in the directory"; "at most one rating per instrument and session"
            record["therapist_id"] = stored.eligible[
                len(record["client_ref"]) % len(stored.eligible)
            ]
            _in_order(record["intake"])
            once: dict[tuple[str, int], Any] = {}
            for rating in record["ratings"]:
                once.setdefault((rating["instrument"], rating["session"]), rating)
            record["ratings"] = list(once.values())
    return case


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("label", _labels())
def test_operation_conforms(
    label: str,
    mode: GenerationMode,
    app: Flask,
    client: FlaskClient,
    make_key: Callable[..., Headers],
    make_profile: Profile,
) -> None:
    """Whatever the fuzzer sends to this operation, the answer is as documented."""
    headers = make_key("admin")
    operation = _load(
        app, headers["Authorization"].removeprefix("Bearer ")
    ).find_operation_by_label(label)
    assert operation is not None
    stored = _store_ratings(client, headers, make_profile) if label in NEEDS_RATINGS else None
    strategy = operation.as_strategy(mode)
    if mode is GenerationMode.POSITIVE:
        strategy = strategy.map(lambda case: keep_stated_rules(case, stored))

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.validate_response(case.call(), checks=CHECKS)

    try:
        fuzz()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("the operation takes no input that could be invalid")
