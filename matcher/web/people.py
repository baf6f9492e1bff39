"""Signing in to the pages: Flask-Login sessions, roles, CSRF on every form, idle timeout."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from matcher.services import users
from matcher.services.organisations import DEFAULT_ORGANISATION, reach
from matcher.services.users import User
from matcher.web.context import services

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("people", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
# An unattended page signs out after this long without a request (health information).
IDLE_TIMEOUT = timedelta(minutes=30)


class SignedIn:
    """The signed-in person as Flask-Login sees them: the user's id, role, email and
    organisation."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.id, self.role, self.email = user.id, user.role, user.email
        self.epoch = user.session_epoch
        self.organisation_id = user.organisation_id

    @property
    def reach(self) -> str | None:
        """Whose records this person sees: their organisation's, or every one's (None) for an
        admin of the service (the default organisation)."""
        return reach(self.organisation_id, admin=self.role == "admin")

    @property
    def service_admin(self) -> bool:
        """Whether this person runs the service: the admin role in the default organisation."""
        return self.role == "admin" and self.organisation_id == DEFAULT_ORGANISATION

    def get_id(self) -> str:
        """What the session cookie keeps: the user's id and sign-out epoch."""
        return f"{self.id}:{self.epoch}"

    @property
    def ref(self) -> str:
        """A short reference to this person kept with what they record (``user:<id>``)."""
        return f"user:{self.id}"

    @property
    def actor(self) -> str:
        """How the audit log and records name this person."""
        return f"user:{self.id} ({self.email})"


@login_manager.user_loader
def _load(session_id: str) -> SignedIn | None:
    user_id, _, epoch = session_id.partition(":")
    with services().reading() as db_session:
        user = users.get_user(db_session, user_id=user_id)
    # A cookie from before the user's last sign-out (or a disabled user) is not a session.
    if user is None or str(user.session_epoch) != epoch:
        return None
    return SignedIn(user)


def role_required(role: str) -> Callable[[F], F]:
    """Only people signed in with ``role`` (admins may do everything a coordinator can).

    The admin role is the service's: an admin of another organisation coordinates within it
    and gets 403 on the console (models, directory, people and keys are the service's).
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != role and current_user.role != "admin":
                abort(403)
            if role == "admin" and not current_user.service_admin:
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after signing in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; a wrong email or password is said once, for both fields."""
    errors: dict[str, list[str]] = {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        password = request.form.get("password", "")
        if not email:
            errors["email"] = ["Enter your email address."]
        if not password:
            errors["password"] = ["Enter your password."]
        if not errors:
            with services().writing() as db_session:
                attempt = users.authenticate(db_session, email=email, password=password)
                signed = SignedIn(attempt.user) if attempt.user is not None else None
            if signed is None:
                errors["email"] = [attempt.refusal]
            else:
                session.clear()
                session.permanent = True
                login_user(signed)
                return redirect(_safe_next(request.args.get("next")) or _home_of(signed))
    status = 200 if not errors else 400
    body = render_template("login.html", title="Sign in", errors=errors, email=email)
    return Response(body, status=status)


def _home_of(signed: SignedIn) -> str:
    """Where a person lands after signing in: their face's front page."""
    endpoint = "admin.home" if signed.service_admin else "coordinator.home"
    if endpoint not in current_app.view_functions:
        endpoint = "coordinator.home"
    return url_for(endpoint)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out everywhere and forget the session."""
    if current_user.is_authenticated:
        with services().writing() as db_session:
            users.end_sessions(db_session, user_id=current_user.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("people.login"))


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, making the signer only for a request that sends a cookie
    (API requests never do, and Flask made one for every request)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session without a cookie; Flask's own reading of one with it."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's saving, without working out the cookie's attributes for an empty session left
        unchanged (every API request's), which sets no cookie."""
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_people(app: Flask) -> None:
    """Sessions for people: HttpOnly, SameSite cookies, CSRF on every form, idle timeout."""
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", IDLE_TIMEOUT)
    app.config.setdefault("SESSION_REFRESH_EACH_REQUEST", True)  # the timeout counts idle time
    app.session_interface = CookieSessions()
    # The API authenticates by bearer key, never by cookie: CSRF is checked on the pages only.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the session's idle timeout bounds a token's life
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "people.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)

    @app.before_request
    def _protect_forms() -> None:
        if request.method == "POST" and not request.path.startswith("/api/"):
            csrf.protect()
