"""The public JSON API under ``/api/v1``, documented by its OpenAPI document."""

from __future__ import annotations

import http
from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Flask, Response, request, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from matcher.schemas.common import ProblemSchema
from matcher.schemas.openapi import DocumentPlugin
from matcher.schemas.profile import TherapistProfileSchema
from matcher.services.errors import Refused
from matcher.web.api import (
    audits,
    clients,
    history,
    instruments,
    match,
    models,
    operations,
    outcomes,
    therapists,
    vocabulary,
    waitlist,
)
from matcher.web.api.blueprint import IdConverter, register_converter
from matcher.web.api.limits import init_limits, retry_after
from matcher.web.api.problems import PROBLEM_MIMETYPE, from_http_exception, problem
from matcher.web.errors import LOST_RACES, conflict_of, status_of
from matcher.web.pages import PAGE_ERRORS, error_page

API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")
DOCS_ASSETS = "/api/v1/docs/assets/"


def wants_problem_json() -> bool:
    """Whether this request is the API's (problem+json errors) rather than a page's (HTML)."""
    path = request.path
    return path.startswith(API_PREFIXES) and not path.startswith("/api/v1/docs")


class MatcherApi(Api):
    """flask-smorest's Api with RFC 9457 problem details as the error format."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_MIMETYPE: {"schema": ProblemSchema}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {
                "description": "An error, as RFC 9457 problem details",
                "content": {PROBLEM_MIMETYPE: {"schema": ProblemSchema}},
            },
            lazy=True,
        )

    def handle_http_exception(self, error: HTTPException) -> Any:
        """problem+json for the API; Flask's own HTML error page elsewhere."""
        if not wants_problem_json():
            return error_page(error) if error.code in PAGE_ERRORS else error
        response = from_http_exception(error)
        limiter = self._app.extensions.get("limiter")
        if error.code == 429 and limiter is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = retry_after(next(iter(limiter)))
        return response


def _refused(refusal: Refused) -> Response:
    """A service's refusal: problem+json on the API, Flask's HTML error page elsewhere."""
    status = status_of(refusal)
    if not wants_problem_json():
        return Response(refusal.detail, status=status, mimetype="text/plain")
    return problem(status, refusal.detail, errors=refusal.errors or None)


def _docs_assets() -> Blueprint:
    assets = Blueprint("docs_assets", __name__)

    @assets.get(DOCS_ASSETS + "<path:filename>")
    def asset(filename: str) -> Response:
        """Swagger UI's files, served locally so the docs work without internet."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    return assets


def init_api(app: Flask) -> MatcherApi:
    """Attach the API, its OpenAPI document and its docs page to ``app``."""
    app.config.update(
        API_TITLE="matcher",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Ranks therapist profiles for a client's intake with a transparent "
                    "weighted model that learns from early therapeutic-alliance ratings."
                ),
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = MatcherApi(app, spec_kwargs={"marshmallow_plugin": DocumentPlugin()})
    register_converter(app, api, "id", IdConverter, IdConverter.SCHEMA)
    register_converter(
        app, api, "therapist_id", therapists.TherapistIdConverter, therapists.PATH_ID
    )
    api.spec.components.schema("TherapistProfile", schema=TherapistProfileSchema)
    for module in (
        vocabulary,
        therapists,
        match,
        outcomes,
        history,
        clients,
        instruments,
        models,
        waitlist,
        operations,
        audits,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(_docs_assets())
    app.register_error_handler(Refused, _refused)
    for race in LOST_RACES:
        app.register_error_handler(race, lambda error: _refused(conflict_of(error)))
    init_limits(app, app.config["MATCHER_SETTINGS"])
    return api
