"""A client generated from the served document, with openapi-python-client's defaults, works
against a live server on the demo directory: list, match, record, refer and rate."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask

from tests.browser import live_server

BIN = Path(sys.executable).parent
PACKAGE = "matcher_client"  # what the generator names the package of an API titled "matcher"


@pytest.fixture
def generated(demo_app: Flask, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package generated from the document the demo app serves, imported."""
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(demo_app.test_client().get("/api/v1/openapi.json").json))
    generator = shutil.which("openapi-python-client", path=str(BIN))
    assert generator is not None, "install the test extra"
    # The generator formats its output with ruff, found on PATH.
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(
        [generator, "generate", "--path", str(document), "--output-path", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(tmp_path / "c"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path / "c"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def base_url(demo_app: Flask) -> Iterator[str]:
    """The demo app served over HTTP on a free local port."""
    with live_server(demo_app) as base:
        yield base


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_client_lists_matches_refers_and_rates(
    generated: ModuleType, base_url: str, demo_admin: dict[str, str]
) -> None:
    models = _module("models")
    list_therapists = _module("api.therapists.get_api_v1_therapists")
    match = _module("api.match.post_api_v1_match")
    refer = _module("api.outcomes.post_api_v1_referrals")
    rate = _module("api.outcomes.post_api_v1_referrals_referral_id_alliance")
    token = demo_admin["Authorization"].removeprefix("Bearer ")
    client = generated.AuthenticatedClient(base_url=base_url, token=token)

    with client:
        ids: list[str] = []
        page = list_therapists.sync(client=client, page=1, page_size=100)
        while True:
            assert isinstance(page, models.TherapistPage), page
            ids += [therapist.id for therapist in page.items]
            if page.page * page.page_size >= page.total:
                break
            page = list_therapists.sync(client=client, page=page.page + 1, page_size=100)
        assert len(ids) == len(set(ids)) == page.total == 2400

        intake = models.Intake(
            jurisdiction=models.IntakeJurisdiction.US_CA,
            languages=[models.IntakeLanguagesType0Item.ES],
            timezone="US/Pacific",
            availability=[models.Window(day=models.WindowDay.TUE, start="17:00", end="20:00")],
        )
        shown = match.sync(client=client, body=models.MatchRequest(intake=intake, limit=5))
        assert isinstance(shown, models.MatchResponse), shown
        assert shown.match_id is None and len(shown.results) == 5

        recorded = match.sync(client=client, body=models.MatchRequest(intake=intake, record=True))
        assert isinstance(recorded, models.MatchResponse), recorded
        assert recorded.match_id
        chosen = recorded.results[0].therapist_id

        referral = refer.sync(
            client=client,
            body=models.ReferralRequest(match_id=recorded.match_id, therapist_id=chosen),
        )
        assert isinstance(referral, models.Referral), referral
        assert referral.therapist_id == chosen

        rating = models.WaiSrRating(
            instrument=models.WaiSrRatingInstrument.WAI_SR, session=1, items=[4] * 12
        )
        stored = rate.sync(referral.id, client=client, body=rating)
        assert isinstance(stored, models.Rating), stored
        assert stored.score == pytest.approx(36 / 48)
