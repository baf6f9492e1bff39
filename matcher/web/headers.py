"""Security headers on every response (flask-talisman), and ``no-store`` on client information."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_talisman import Talisman

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


def init_headers(app: Flask) -> Talisman:
    """CSP, nosniff, frame-ancestors, Referrer-Policy on every response; no-store on the rest."""
    talisman = Talisman(
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
