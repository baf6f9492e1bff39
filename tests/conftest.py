"""Fixtures: a migrated real database per test, the app, a client and key helpers."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from matcher.app import create_app
from matcher.config import Settings
from matcher.services.demo import load_demo_directory
from matcher.services.keys import create_key
from matcher.services.models import ensure_default
from matcher.storage.database import Database
from matcher.storage.schema import upgrade

POSTGRES_URL = os.environ.get("MATCHER_TEST_DATABASE_URL")
DB_FIXTURES = {"db_url", "db", "app", "client", "make_key", "demo_db_url"}

# Property tests run few examples by default, so the README's test command stays quick, and many in
# CI's second run (HYPOTHESIS_PROFILE=slow, or pytest --hypothesis-profile=slow). A test may ask for
# a multiple of the profile's count; an explicit count in a test wins over any profile.
hypothesis.settings.register_profile("default", max_examples=30, deadline=None)
hypothesis.settings.register_profile("slow", max_examples=300, deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "default")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark database tests (CI reruns them on PostgreSQL) and property tests (CI's slow run)."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


def _reset_postgres(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once: a SQLite file to copy, or the PostgreSQL test database."""
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        db = Database(POSTGRES_URL)
        upgrade(db)
        db.engine.dispose()
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.transaction() as session:
        ensure_default(session)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.engine.dispose()
    return str(path)


def _empty_postgres() -> str:
    """Empty every table of the PostgreSQL test database (the schema stays migrated)."""
    assert POSTGRES_URL
    db = Database(POSTGRES_URL)
    with db.engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            if row[0] not in ("alembic_version", "counter", "organisation")
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        # The default organisation is the migration's: only the ones a test made go.
        conn.execute(text("DELETE FROM organisation WHERE id <> 'default'"))
        conn.execute(text("UPDATE counter SET value = 0"))
    with db.transaction() as session:
        ensure_default(session)
    db.engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def db_url(_migrated_template: str, tmp_path: Path) -> str:
    """The URL of a freshly migrated, empty database for this test."""
    if POSTGRES_URL:
        return _empty_postgres()
    path = tmp_path / "matcher.sqlite3"
    shutil.copyfile(_migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _demo_template(_migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with the demo directory loaded, made once per session."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copyfile(_migrated_template, path)
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:
        load_demo_directory(session)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.engine.dispose()
    return str(path)


@pytest.fixture
def demo_db_url(_migrated_template: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database holding the demo directory, fresh for this test."""
    if POSTGRES_URL:
        url = _empty_postgres()
        db = Database(url)
        with db.transaction() as session:
            load_demo_directory(session)
        db.engine.dispose()
        return url
    template: str = request.getfixturevalue("_demo_template")
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def demo_app(demo_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on a database holding the demo directory."""
    app = create_app(Settings(database_url=demo_db_url), instance_path=str(tmp_path / "i"))
    app.config["TESTING"] = True
    yield app
    app.extensions["matcher"].db.engine.dispose()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    """A test client on the demo directory."""
    return demo_app.test_client()


@pytest.fixture
def demo_admin(demo_app: Flask) -> dict[str, str]:
    """Admin headers for the demo app."""
    with demo_app.extensions["matcher"].db.transaction() as session:
        _, secret = create_key(session, name="demo", scopes=("admin",))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings for a test app."""
    return Settings(database_url=db_url, secret_key="test-secret")


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """The app on this test's database."""
    app = create_app(settings, instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    yield app
    app.extensions["matcher"].db.engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build more apps (other workers, other settings); their connections close at teardown."""
    made: list[Flask] = []

    def build(settings: Settings, name: str = "other") -> Flask:
        other = create_app(settings, instance_path=str(tmp_path / name))
        made.append(other)
        return other

    yield build
    for other in made:
        other.extensions["matcher"].db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    """The app's database."""
    database: Database = app.extensions["matcher"].db
    return database


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def make_key(db: Database) -> Callable[..., dict[str, str]]:
    """Issue a key with the given scopes and return the request headers that carry it."""

    def issue(*scopes: str) -> dict[str, str]:
        with db.transaction() as session:
            _, secret = create_key(session, name="test", scopes=scopes or ("admin",))
        return {"Authorization": f"Bearer {secret}"}

    return issue


@pytest.fixture
def admin(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Headers with an admin key."""
    return make_key("admin")


BASE_PROFILE: dict[str, Any] = {
    "id": "t-000123",
    "name": "Ana Ruiz, PhD",
    "gender": "woman",
    "licenses": [{"jurisdiction": "US-CA", "credential": "Licensed Psychologist"}],
    "modalities": ["cbt", "ipt"],
    "concerns": ["depression", "anxiety"],
    "populations": ["adults"],
    "languages": ["en", "es"],
    "identities": ["latinx"],
    "competencies": ["latinx", "immigrant_refugee", "lgbtq"],
    "faith": None,
    "formats": ["video", "in_person"],
    "location": {"lat": 34.05, "lon": -118.24, "postal_code": "90012"},
    "timezone": "America/Los_Angeles",
    "availability": [{"day": "tue", "start": "17:00", "end": "20:00"}],
    "accepting_new_clients": True,
    "capacity": 3,
    "fee": {"amount": 120, "currency": "USD", "sliding_scale_min": 60},
    "insurance": ["aetna", "medicaid"],
    "style": {"directiveness": 1, "emotional_intensity": 0, "past_orientation": -1, "challenge": 0},
}


@pytest.fixture
def make_profile() -> Callable[..., dict[str, Any]]:
    """A valid profile (the contract's example) with any fields replaced."""

    def build(**changes: Any) -> dict[str, Any]:
        profile = copy.deepcopy(BASE_PROFILE)
        profile.update(changes)
        return profile

    return build
