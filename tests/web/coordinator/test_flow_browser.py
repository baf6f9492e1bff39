"""The coordinator's whole flow in a real browser, by keyboard, with axe-core on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask

from matcher.services import users
from tests.browser import chromium, live_server

SHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots" / "coordinator"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def coordinator(demo_app: Flask) -> str:
    """A coordinator account on the demo directory."""
    with demo_app.extensions["matcher"].db.transaction() as session:
        users.create_user(session, email="kim@clinic.test", role="coordinator", password=PASSWORD)
    return "kim@clinic.test"


class Visit:
    """One browser tab driven by keyboard, checking each page with axe and photographing it."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base, self.axe = page, base, Axe()
        self.violations: dict[str, list[str]] = {}
        # Whatever the Content-Security-Policy blocks is logged to the console as an error.
        self.console_errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                # The pages answering a bad form with 400/422 are logged too; they are not refusals.
                and not message.text.startswith("Failed to load resource")
                and self.console_errors.append(message.text)
            ),
        )
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def check(self, name: str) -> None:
        """axe-core on the page as it is now, and a full-page screenshot."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        results = self.axe.run(self.page)
        found = [v["id"] for v in results.response["violations"]]
        if found:
            self.violations[name] = found

    def press(self, selector: str, key: str = "Enter") -> None:
        """Focus an element and press a key on it, as a keyboard user would."""
        self.page.focus(selector)
        self.page.keyboard.press(key)

    def tick(self, selector: str) -> None:
        """Tick a checkbox or radio with the space bar."""
        self.press(selector, "Space")

    def type_into(self, selector: str, text: str) -> None:
        """Type into a field."""
        self.page.focus(selector)
        self.page.keyboard.type(text)

    def choose(self, selector: str, value: str) -> None:
        """Pick an option in a select (keyboard users type to pick; Playwright selects)."""
        self.page.focus(selector)
        self.page.select_option(selector, value)


@pytest.fixture
def visit(demo_app: Flask, coordinator: str) -> Iterator[Visit]:
    """A signed-out browser tab on a live server of the demo app."""
    with live_server(demo_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        yield Visit(page, base)
        page.close()


def test_coordinator_flow_by_keyboard(visit: Visit, coordinator: str) -> None:
    page = visit.page
    page.goto(f"{visit.base}/coordinator/")
    assert "/login" in page.url
    visit.check("01-login")
    # The skip link is the first thing the keyboard reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    visit.type_into("#email", coordinator)
    visit.type_into("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/coordinator/$"))
    visit.check("02-home")

    # An intake with mistakes: the summary names them and links to each field.
    page.goto(f"{visit.base}/coordinator/intake")
    visit.check("03-intake")
    visit.type_into("#client-ref", "C-2041")
    visit.type_into("#max-fee", "a lot")
    visit.press("button[type=submit]:has-text('Find therapists')")
    page.wait_for_selector("#error-summary")
    visit.check("04-intake-errors")
    summary = page.locator("#error-summary a").all_inner_texts()
    assert any("risk" in text for text in summary)
    assert any("state or province" in text.lower() for text in summary)
    assert any("number" in text for text in summary)
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.input_value("#client-ref") == "C-2041"  # nothing typed is lost

    # Fixed: Spanish, a Christian therapist and Tue/Thu evenings are must-haves: few are left.
    page.fill("#max-fee", "")
    visit.choose("#jurisdiction", "US-CA")
    visit.tick("#risk-no")
    visit.tick("#concerns-depression")
    visit.choose("#language-first", "es")
    visit.tick("#must-have-language")
    visit.choose("#faith", "christian")
    visit.tick("#must-have-faith")
    visit.tick("#formats-video")
    visit.tick("#times-tue-evening")
    visit.tick("#times-thu-evening")
    visit.tick("#must-have-availability")
    visit.choose("#timezone", "America/Los_Angeles")
    visit.press("button[type=submit]:has-text('Find therapists')")
    page.wait_for_url(re.compile(r"/coordinator/matches/m-"))
    visit.check("05-results")
    first = page.locator(".matcher-result").first
    assert "predicted early alliance" in first.inner_text()
    assert first.locator(".matcher-reasons li").count() >= 1
    assert first.locator("svg.matcher-bar").count() >= 3

    # A relaxation re-runs the match without that requirement.
    relax = page.locator(".matcher-relax button").first
    assert relax.count() == 1, "expected fewer than 10 results, so relaxations are offered"
    offered = int(re.search(r": (\d+) more", relax.inner_text()).group(1))  # type: ignore[union-attr]
    relax.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".usa-alert--success")
    visit.check("06-relaxed")
    assert page.locator(".matcher-result").count() >= 1 and offered > 0

    # Refer to the first result: one action, then the client's page.
    name = page.locator(".matcher-result__name").first.inner_text().split(". ", 1)[1]
    page.locator(".matcher-result form button").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/coordinator/clients/C-2041"))
    visit.check("07-client")
    assert name in page.inner_text("main")

    # Three sessions of SRS: fine, fine, then weak.
    for session, level in ((1, "9"), (2, "9.5"), (3, "5")):
        page.locator('a:has-text("Enter a session\'s rating")').first.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("h1:has-text('Early alliance')")
        page.locator("a:has-text('SRS')").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#items-3")
        if session == 1:
            visit.check("08-rating")
        visit.tick(f"#session-{session}")
        for item in range(4):
            visit.type_into(f"#items-{item}", level)
        visit.press("button:has-text('Save session rating')")
        page.wait_for_url(re.compile(r"/coordinator/clients/C-2041"))
    visit.check("09-client-rated")
    assert page.locator("table.usa-table tbody tr").count() == 3
    assert "needs attention" in page.inner_text("main")

    # The weak session raises an alert; re-match leaves out the therapist tried.
    page.goto(f"{visit.base}/coordinator/alerts")
    visit.check("10-alerts")
    assert "C-2041" in page.inner_text("main")
    page.locator("a.usa-button:has-text('Re-match')").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Re-match')")
    visit.check("11-rematch")
    visit.tick("#risk-no")
    visit.press("button[type=submit]:has-text('Find therapists')")
    page.wait_for_url(re.compile(r"/coordinator/matches/m-"))
    shown = page.locator(".matcher-result__name").all_inner_texts()
    assert all(name not in text for text in shown)

    # A client who may be at risk: crisis resources come first, and the urgent queue has them.
    page.goto(f"{visit.base}/coordinator/intake")
    visit.type_into("#client-ref", "C-3001")
    visit.choose("#jurisdiction", "CA-ON")
    visit.tick("#risk-not_sure")
    visit.press("button[type=submit]:has-text('Find therapists')")
    page.wait_for_url(re.compile(r"/coordinator/matches/m-"))
    visit.check("12-crisis")
    heading = page.locator("main h1").first.inner_text()
    assert "at risk" in heading
    assert "988" in page.inner_text(".matcher-crisis")
    page.goto(f"{visit.base}/coordinator/urgent")
    visit.check("13-urgent")
    assert "C-3001" in page.inner_text("main")
    visit.press("button:has-text('Take this case')")
    page.wait_for_selector("text=You have taken this case")
    visit.type_into("textarea[name=action]", "Called the client; safety plan agreed.")
    visit.press("button:has-text('Record and close')")
    page.wait_for_selector("text=Case closed")
    assert "C-3001" not in page.inner_text("main")

    visit.press("button:has-text('Sign out')")
    page.wait_for_url(re.compile(r"/login"))
    assert visit.violations == {}
    assert visit.console_errors == []
