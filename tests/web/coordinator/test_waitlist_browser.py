"""The waitlist page in a real browser, by keyboard, with axe-core on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matcher.services import users
from tests.browser import chromium, live_server
from tests.web.coordinator.test_flow_browser import PASSWORD, Visit
from tests.web.coordinator.test_waitlist_pages import record_waiting

Headers = dict[str, str]


@pytest.fixture
def visit(demo_app: Flask) -> Iterator[Visit]:
    """A browser tab on a live server of the demo app, screenshots under waitlist/."""
    with demo_app.extensions["matcher"].db.transaction() as session:
        users.create_user(session, email="lee@clinic.test", role="coordinator", password=PASSWORD)
    with live_server(demo_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        yield Visit(page, base)
        page.close()


def test_waitlist_by_keyboard(
    visit: Visit, demo_client: FlaskClient, demo_admin: Headers, tmp_path: Path
) -> None:
    record_waiting(demo_client, demo_admin, ["C-10", "C-11", "C-12"])
    page = visit.page
    page.goto(f"{visit.base}/login")
    visit.type_into("#email", "lee@clinic.test")
    visit.type_into("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/coordinator/$"))
    visit.press("a.matcher-nav__link:has-text('Waitlist')")
    page.wait_for_url(re.compile(r"/coordinator/waitlist$"))
    visit.check("waitlist-01-choose")

    # Nothing chosen: the summary says so and takes focus.
    visit.press("button[type=submit]:has-text('Propose an assignment')")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    visit.check("waitlist-02-errors")

    # Two recorded clients and a file of one more.
    visit.tick("#client-1")
    visit.tick("#client-3")
    upload = tmp_path / "waitlist.csv"
    upload.write_text("client_ref,jurisdiction,modalities\nF-1,US-CA,cbt\n", encoding="utf-8")
    page.set_input_files("#file", str(upload))
    visit.press("button[type=submit]:has-text('Propose an assignment')")
    page.wait_for_selector("h1:has-text('Proposed waitlist assignment')")
    visit.check("waitlist-03-proposal")
    rows = page.locator("table.matcher-waitlist tbody tr")
    assert rows.count() == 3
    assert "3 of 3" in page.inner_text("table >> nth=0")

    # Committing needs the confirmation; then every placed client is referred.
    visit.press("button[type=submit]:has-text('Refer')")
    page.wait_for_selector("#error-summary")
    visit.check("waitlist-04-confirm-error")
    visit.tick("#confirm")
    visit.press("button[type=submit]:has-text('Refer')")
    page.wait_for_selector("text=Referred 3 clients")
    visit.check("waitlist-05-committed")
    assert "C-11" in page.content() and "C-10," not in page.content()
    assert visit.violations == {}
