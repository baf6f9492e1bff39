"""Availability and exposure in a real browser: a stale therapist flagged in a match, confirmed by
one click on its link, gone from the stale list; the answer pages and the exposure audit, with
axe-core on every page and a screenshot of each."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from matcher.services import directory, freshness, users
from matcher.storage import counters
from matcher.storage.tables import Therapist
from tests.browser import chromium, live_server
from tests.web.coordinator.test_flow_browser import Visit

SHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots" / "freshness"
PASSWORD = "correct horse battery staple"
STALE_REASON = "last confirmed"


class Tab(Visit):
    """A browser tab: axe-core and a full-page screenshot at each step."""

    def check(self, name: str) -> None:
        """axe-core on the page as it is now, and a full-page screenshot."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        results = self.axe.run(self.page)
        found = [v["id"] for v in results.response["violations"]]
        if found:
            self.violations[name] = found


@pytest.fixture
def tab(app: Flask, make_profile: Callable[..., dict[str, Any]]) -> Iterator[Tab]:
    """Three therapists (Sol Vega last confirmed 60 days ago, Ines Duarte never), an admin."""
    profiles = [
        make_profile(id="t-fresh", name="Rosa Fresca, LMFT"),
        make_profile(id="t-stale", name="Sol Vega, PhD"),
        make_profile(id="t-never", name="Ines Duarte, LCSW"),
    ]
    with app.extensions["matcher"].db.transaction() as session:
        directory.import_profiles(session, profiles=profiles)
        users.create_user(session, email="ada@clinic.test", role="admin", password=PASSWORD)
    with app.extensions["matcher"].db.transaction() as session:
        for therapist_id, when in (
            ("t-stale", datetime.now(UTC) - timedelta(days=60)),
            ("t-never", None),
        ):
            row = session.get(Therapist, therapist_id)
            assert row is not None
            row.accepting_confirmed_at = when
            row.revision = counters.bump(session, name=counters.DIRECTORY)
            session.add(row)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        yield Tab(page, base)
        page.close()


def test_stale_therapist_flagged_then_confirmed_by_one_click(tab: Tab) -> None:
    page = tab.page
    page.goto(f"{tab.base}/login")
    tab.type_into("#email", "ada@clinic.test")
    tab.type_into("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/$"))

    # A match: the stale therapist is shown, and its reasons say to check availability.
    page.goto(f"{tab.base}/coordinator/intake")
    tab.choose("#jurisdiction", "US-CA")
    tab.tick("#risk-no")
    tab.press("button[type=submit]:has-text('Find therapists')")
    page.wait_for_selector("text=Sol Vega, PhD")
    tab.check("01-results-flagged")
    main = page.inner_text("main")
    assert "Accepting new clients last confirmed" in main
    assert "Has not confirmed accepting new clients" in main

    # The directory lists both stale therapists with their links.
    page.goto(f"{tab.base}/admin/directory")
    tab.check("02-stale-list")
    stale = page.locator(".matcher-stale")
    assert "Sol Vega, PhD" in stale.inner_text()
    assert "2 therapists to check" in page.inner_text("#stale-count")
    assert "Rosa Fresca" not in stale.inner_text()
    page.locator("summary:has-text('Links for Sol Vega, PhD')").click()
    tab.check("03-stale-links-open")
    links = page.locator("tr:has-text('Sol Vega, PhD') details a")
    yes, no = links.nth(0).get_attribute("href"), links.nth(1).get_attribute("href")
    assert yes and no and "/availability/" in yes

    # One click on "yes", as the therapist would from their email (no account).
    context = page.context.browser.new_context()
    therapist = context.new_page()
    therapist.goto(yes)
    visit = Tab(therapist, tab.base)
    visit.check("04-confirmed")
    assert "You are confirmed as accepting new clients" in therapist.inner_text("main")
    # "No" shows one button first (a mail scanner's fetch changes nothing).
    therapist.goto(no)
    visit.check("05-no-asks-first")
    assert therapist.locator("main button").count() == 1
    context.close()

    page.goto(f"{tab.base}/admin/directory")
    tab.check("06-stale-list-after")
    assert "1 therapist to check" in page.inner_text("#stale-count")
    assert "Sol Vega" not in page.locator(".matcher-stale").inner_text()

    # The same match again: no longer flagged.
    page.goto(f"{tab.base}/coordinator/intake")
    tab.choose("#jurisdiction", "US-CA")
    tab.tick("#risk-no")
    tab.press("button[type=submit]:has-text('Find therapists')")
    page.wait_for_selector("text=Sol Vega, PhD")
    assert "Accepting new clients last confirmed" not in page.inner_text("main")

    # The exposure audit of these two recorded matches.
    page.goto(f"{tab.base}/admin/directory")
    page.click(".usa-sidenav a:has-text('Exposure audit')")
    page.wait_for_url(re.compile(r"/admin/exposure$"))
    tab.check("07-exposure-audit")
    assert "2 recorded matches counted: 6 eligible places, 6 top-5 places." in page.inner_text(
        "main"
    )
    assert page.locator("#exposure-audit svg[role=img]").count() == 1
    assert tab.violations == {}
    assert visit.violations == {}


def test_full_until_with_an_error_first(tab: Tab, app: Flask) -> None:
    with app.extensions["matcher"].db.session() as session:
        token = freshness.link_token(
            session, secret=app.config["SECRET_KEY"], therapist_id="t-never"
        )
    page = tab.page
    page.goto(f"{tab.base}/availability/{token}/full")
    tab.check("08-full-until")
    page.fill("#until", "2001-01-01")
    tab.press("button:has-text('Save: full until this date')")
    page.wait_for_selector("#error-summary")
    tab.check("09-full-until-error")
    assert "Enter a date after today" in page.inner_text("#error-summary")
    later = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    page.fill("#until", later)
    tab.press("button:has-text('Save: full until this date')")
    page.wait_for_selector(f"text=full until {later}")
    tab.check("10-full-until-saved")
    # The link is used up now.
    page.goto(f"{tab.base}/availability/{token}/yes")
    tab.check("11-link-used")
    assert "already used" in page.inner_text("main")
    assert tab.violations == {}
