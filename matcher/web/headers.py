"""Security headers on every response (flask-talisman), and ``no-store`` on client information."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_talisman import Talisman
from flask_talisman.talisman import NONCE_LENGTH, get_random_string

# Only the service's own files: the pages' USWDS assets and script, the docs page's Swagger UI
# (served locally) whose one inline start-up script carries the per-request nonce. No frames.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Files that hold no client information and may be cached: the vendored assets.
CACHEABLE_PREFIXES = ("/static/", "/api/v1/docs/assets/")


class SecurityHeaders(Talisman):
    """Flask-Talisman's headers, with a CSP nonce made only for a page that asks for one.

    Talisman makes a nonce and works out every header anew for each request; with no HTTPS
    redirect, no HSTS and no per-view options (``CONSTANT``), a response whose page asked for no
    nonce gets the same headers every time, so they are worked out by Talisman once and copied.
    """

    def __init__(self, app: Flask, **options: Any) -> None:
        super().__init__(app, **options)
        self._plain: list[tuple[str, str]] | None = None

    @property
    def constant(self) -> bool:
        """Whether a response without a nonce always gets the same headers."""
        return not (self.force_https or self.strict_transport_security)

    def _force_https(self) -> Any:
        return super()._force_https() if self.force_https else None

    def _make_nonce(self) -> None:
        """No nonce up front: ``csp_nonce()`` in a template makes it (``_get_nonce``)."""

    def _get_nonce(self) -> str:
        nonce: str | None = getattr(request, "csp_nonce", None)
        if nonce is None:
            nonce = request.csp_nonce = get_random_string(NONCE_LENGTH)  # type: ignore[attr-defined]
        return nonce

    def _set_response_headers(self, response: Response) -> Response:
        if not self.constant or hasattr(request, "csp_nonce"):
            return super()._set_response_headers(response)  # type: ignore[no-any-return]
        if self._plain is None:
            before = set(response.headers.keys())
            super()._set_response_headers(response)
            self._plain = [(k, v) for k, v in response.headers.items() if k not in before]
            return response
        for name, value in self._plain:
            response.headers[name] = value
        return response


def init_headers(app: Flask) -> Talisman:
    """CSP, nosniff, frame-ancestors, Referrer-Policy on every response; no-store on the rest."""
    talisman = SecurityHeaders(
        app,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="no-referrer",
        # TLS ends at the fronting proxy: redirecting here would loop, and HSTS is the proxy's.
        force_https=False,
        strict_transport_security=False,
        # The session cookie follows the request's scheme (Secure behind TLS via the proxy).
        session_cookie_secure=False,
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    @app.after_request
    def _no_store(response: Response) -> Response:
        # Matches, referrals, clients, keys and every page may carry health information: no
        # browser or proxy cache keeps any response but the vendored assets.
        if not request.path.startswith(CACHEABLE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response

    return talisman
