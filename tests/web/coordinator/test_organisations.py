"""Organisations on the pages: a person sees and changes only their organisation's clients.

Matrix: (organisation, role) x page -> status. Another organisation's match, referral or case
is 404 (as if it did not exist); lists leave it out. An admin of the default organisation runs
the service and sees every organisation's; an admin of another organisation gets 403 on the
console and coordinates within their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from matcher.services import crisis, recording, referrals, users
from matcher.services.organisations import DEFAULT_ORGANISATION, create_organisation
from tests.web.coordinator.conftest import PASSWORD, token

WEAK_WAI = [1] * 12


@dataclass(frozen=True)
class Client:
    """One organisation's client: a recorded match, a referral with a weak rating, a case."""

    ref: str
    match_id: str
    referral_id: str
    case_id: str


@pytest.fixture
def orgs(demo_app: Flask) -> dict[str, str]:
    with demo_app.extensions["matcher"].db.transaction() as session:
        other = create_organisation(session, name="Riverside Clinic").id
    return {"default": DEFAULT_ORGANISATION, "other": other}


@pytest.fixture
def clients(demo_app: Flask, orgs: dict[str, str]) -> dict[str, Client]:
    services = demo_app.extensions["matcher"]
    made = {}
    for name, org in orgs.items():
        with services.db.transaction() as session:
            shown, match_id = recording.record_match(
                session,
                matching=services.matching,
                intake={"jurisdiction": "US-CA", "concerns": ["grief"]},
                limit=5,
                client_ref=f"REF-{name.upper()}",
                key_id="test",
                exploration=0.0,
                rng=np.random.default_rng(1),
                organisation_id=org,
            )
            referral = referrals.refer(
                session,
                match_id=match_id,
                therapist_id=next(c.therapist_id for c in shown.candidates if c.rank == 1),
                key_id="test",
                organisation_id=org,
            )
            referrals.rate(
                session,
                referral_id=referral.id,
                instrument="wai-sr",
                session_number=1,
                items=WEAK_WAI,
                key_id="test",
            )
            case = crisis.open_case(
                session,
                risk="yes",
                jurisdiction="US-CA",
                match_id=match_id,
                client_ref=f"REF-{name.upper()}",
                created_by="test",
                organisation_id=org,
            )
            assert case is not None
            made[name] = Client(f"REF-{name.upper()}", match_id, referral.id, case.id)
    return made


@pytest.fixture
def person(demo_app: Flask, orgs: dict[str, str]) -> Callable[[str, str], FlaskClient]:
    def signed(org: str, role: str) -> FlaskClient:
        email = f"{role}@{org}.test"
        with demo_app.extensions["matcher"].db.transaction() as session:
            users.create_user(
                session, email=email, role=role, password=PASSWORD, organisation_id=orgs[org]
            )
        client = demo_app.test_client()
        answer = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token(client)}
        )
        assert answer.status_code == 302
        return client

    return signed


PEOPLE = [("default", "coordinator"), ("other", "coordinator"), ("other", "admin"),
          ("default", "admin")]  # fmt: skip


def _sees(org: str, role: str, target: str) -> bool:
    return org == target or (role == "admin" and org == "default")


@pytest.mark.parametrize(("org", "role"), PEOPLE)
def test_organisation_role_page_matrix(
    person: Callable[[str, str], FlaskClient], clients: dict[str, Client], org: str, role: str
) -> None:
    client = person(org, role)
    form = {"csrf_token": token(client, "/coordinator/")}
    wrong = []
    for target, found in clients.items():
        sees = _sees(org, role, target)
        for path in (
            f"/coordinator/matches/{found.match_id}",
            f"/coordinator/referrals/{found.referral_id}/rate",
            f"/coordinator/referrals/{found.referral_id}/rematch",
        ):
            got = client.get(path).status_code
            if got != (200 if sees else 404):
                wrong.append(f"GET {path}: {got}")
        history = client.get(f"/coordinator/clients/{found.ref}").get_data(as_text=True)
        if (found.referral_id in history) != sees:
            wrong.append(f"client page of {target}'s shows the referral: {not sees}")
        for listing in ("/coordinator/urgent", "/coordinator/alerts"):
            page = client.get(listing).get_data(as_text=True)
            if (found.ref in page) != sees:
                wrong.append(f"{listing} lists {target}'s client: {not sees}")
        if not sees:
            for path, data in (
                (f"/coordinator/matches/{found.match_id}/refer", {"therapist_id": "t-000001"}),
                (f"/coordinator/alerts/{found.referral_id}/resolve", {"outcome": "repaired"}),
                (f"/coordinator/urgent/{found.case_id}/take", {}),
                (f"/coordinator/urgent/{found.case_id}/close", {"action": "called"}),
                (f"/coordinator/matches/{found.match_id}/relax", {"drop": "concerns"}),
            ):
                got = client.post(path, data=dict(form, **data)).status_code
                if got != 404:
                    wrong.append(f"POST {path}: {got}")
    console = client.get("/admin/").status_code
    if console != (200 if (org, role) == ("default", "admin") else 403):
        wrong.append(f"console: {console}")
    assert not wrong, wrong


def test_erasure_on_the_pages_stays_within_the_organisation(
    person: Callable[[str, str], FlaskClient], clients: dict[str, Client], demo_app: Flask
) -> None:
    # Both organisations use the same reference for different people: erasing one leaves the
    # other's intake alone.
    services = demo_app.extensions["matcher"]
    with services.db.transaction() as session:
        recording.record_match(
            session,
            matching=services.matching,
            intake={"jurisdiction": "US-CA"},
            limit=3,
            client_ref="REF-DEFAULT",
            key_id="test",
            exploration=0.0,
            rng=np.random.default_rng(2),
            organisation_id=_org_of(demo_app, clients["other"]),
        )
    client = person("other", "coordinator")
    data = {"confirm": "yes", "csrf_token": token(client, "/coordinator/")}
    assert client.post("/coordinator/clients/REF-DEFAULT/erase", data=data).status_code == 303
    mine = person("default", "coordinator").get("/coordinator/clients/REF-DEFAULT")
    assert clients["default"].referral_id in mine.get_data(as_text=True)
    with services.db.session() as session:
        theirs = recording.get_match(session, match_id=clients["default"].match_id)
        assert theirs.client_ref == "REF-DEFAULT" and theirs.intake


def _org_of(app: Flask, found: Client) -> str:
    with app.extensions["matcher"].db.session() as session:
        return recording.get_match(session, match_id=found.match_id).organisation_id
