"""Health, readiness, the OpenAPI document and the docs page."""

from __future__ import annotations

from flask.testing import FlaskClient

from matcher.app import create_app
from matcher.config import Settings


def test_healthz(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_when_migrated(client: FlaskClient) -> None:
    body = client.get("/readyz").json
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"


def test_readyz_unmigrated_database_is_503(tmp_path: object) -> None:
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/empty.sqlite3"), instance_path=str(tmp_path)
    )
    response = app.test_client().get("/readyz")
    app.extensions["matcher"].db.engine.dispose()
    assert response.status_code == 503
    assert "schema" in response.json["errors"]


def test_openapi_documents_problem_errors(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    put = spec["paths"]["/api/v1/therapists/{therapist_id}"]["put"]
    assert "application/problem+json" in spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert put["security"] == [{"bearerAuth": []}]
    assert {"200", "201", "401", "403", "422"} <= set(put["responses"])


def test_docs_page_serves_local_assets(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/api/v1/docs/assets/swagger-ui-bundle.js" in page.data
    with client.get("/api/v1/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
        assert asset.mimetype in ("text/javascript", "application/javascript")
