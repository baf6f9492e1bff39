"""The docs page renders in a real browser without internet access."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.browser import chromium, live_server


def test_docs_page_lists_operations_offline(app: Flask) -> None:
    failed: list[str] = []
    errors: list[str] = []
    with live_server(app) as base, chromium() as browser:
        page: Any = browser.new_page()  # type: ignore[attr-defined]
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")  # the favicon's 404
                and errors.append(message.text)
            ),
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        page.close()
    assert any("/api/v1/therapists/import" in p for p in paths)
    assert any("/api/v1/vocabulary" in p for p in paths)
    assert failed == []
    # Under the Content-Security-Policy the page logs nothing (a blocked script or style would).
    assert errors == []
