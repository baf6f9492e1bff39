"""The admin console in a real browser, with axe-core on every page and a screenshot of each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from matcher.lab.simulation.history import History
from matcher.services import users
from tests.browser import chromium, live_server
from tests.web.coordinator.test_flow_browser import Visit

SHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots" / "admin"
PASSWORD = "correct horse battery staple"


class Console(Visit):
    """A browser tab on the console: axe-core and a full-page screenshot at each step."""

    def check(self, name: str) -> None:
        """axe-core on the page as it is now, and a full-page screenshot."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        results = self.axe.run(self.page)
        found = [v["id"] for v in results.response["violations"]]
        if found:
            self.violations[name] = found


@pytest.fixture
def console(
    demo_app: Flask, history: Callable[[int], History], tmp_path: Path
) -> Iterator[Console]:
    """An admin account and simulated history on the demo directory, and a browser tab."""
    played = history(60)
    assert played.counts is not None
    with demo_app.extensions["matcher"].db.transaction() as session:
        users.create_user(session, email="ada@clinic.test", role="admin", password=PASSWORD)
    with live_server(demo_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        yield Console(page, base)
        page.close()


def _profiles_file(folder: Path, make_profile: Callable[..., dict[str, Any]]) -> Path:
    good = make_profile(id="t-new-1", name="Zephyrine Quill, LMFT")
    bad = make_profile(id="t-bad", licenses=[{"jurisdiction": "US-ZZ", "credential": "LMFT"}])
    path = folder / "profiles.ndjson"
    path.write_text("\n".join(json.dumps(p) for p in (good, bad)), encoding="utf-8")
    return path


def test_admin_console_from_sign_in_to_rollback(
    console: Console, make_profile: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    page = console.page
    page.goto(f"{console.base}/admin/")
    console.type_into("#email", "ada@clinic.test")
    console.type_into("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/$"))
    console.check("01-weights")
    assert "A full language match adds 0.08" in page.inner_text("main")

    # A coordinator, with a one-time password to hand over.
    page.click("a:has-text('People')")
    console.type_into("#email", "lee@clinic.test")
    console.press("button:has-text('Add and show their password')")
    page.wait_for_selector("text=lee@clinic.test can sign in")
    console.check("02-people")

    # A file with one bad record: nothing imported, and the record and field to fix.
    page.click(".usa-sidenav a:has-text('Directory')")
    page.set_input_files("#file", str(_profiles_file(tmp_path, make_profile)))
    console.press("button:has-text('Upload and import')")
    page.wait_for_selector("#error-summary")
    console.check("03-directory-errors")
    report = page.inner_text(".matcher-report")
    assert "Record 2 (id t-bad): licenses[0].jurisdiction: Unknown jurisdiction code" in report

    # A manual candidate with a mistake: the error is named and what was typed stays.
    page.click("a:has-text('Propose weights')")
    page.fill("#weights-language", "-1")
    console.press("button:has-text('Store as a candidate')")
    page.wait_for_selector("#error-summary")
    console.check("04-candidate-errors")
    assert page.input_value("#weights-language") == "-1"

    # Learn from the simulated history, read the evaluation, preview and publish.
    page.click("a:has-text('Learn from ratings')")
    console.check("05-learn")
    console.press("form button:has-text('Learn from the ratings')")
    page.wait_for_selector("#evaluation")
    console.check("06-evaluation")
    assert "Read before publishing" in page.inner_text("main")
    version = re.search(r"Version (\d+)", page.inner_text("h1"))
    assert version
    page.click("a:has-text('Preview what it changes')")
    page.wait_for_selector("text=Predicted early alliance of the top 5")
    console.check("07-preview")
    console.type_into("#note", "Learned from the demo's simulated ratings.")
    console.press(f"button:has-text('Publish version {version.group(1)}')")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert f"Version {version.group(1)} (learned)" in page.inner_text("main")

    # Roll back to the default in one action, after a confirmation.
    page.click("a:has-text('Make active again: version 1')")
    page.wait_for_selector("text=Make version 1 active again?")
    console.check("08-restore")
    console.press("button:has-text('Yes, make version 1 active')")
    page.wait_for_url(re.compile(r"/admin/$"))
    console.check("09-rolled-back")
    assert "Version 1 (default)" in page.inner_text("main")

    # Everything is in the audit log.
    page.click("a:has-text('Audit log')")
    console.check("10-audit")
    log = page.inner_text("main")
    for action in ("user.create", "model.create", "model.activate", "model.rollback"):
        assert action in log
    console.choose("#action", "model.rollback")
    console.press("button:has-text('Show')")
    page.wait_for_selector("text=1 change")
    assert "model.activate" not in page.inner_text("table")

    page.click("a:has-text('API keys')")
    console.check("11-keys")
    assert console.violations == {}
    assert console.console_errors == []
