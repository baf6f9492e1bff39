"""``matcher users``: create with the password on standard input, list, disable."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher.cli import main
from matcher.services import users
from matcher.storage.database import Database

PASSWORD = "correct horse battery staple"


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    return CliRunner()


def test_create_list_and_disable(runner: CliRunner, db_url: str) -> None:
    made = runner.invoke(
        main, ["users", "create", "--email", "Lee@Clinic.test", "--role", "admin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    user_id = made.output.strip().splitlines()[-1]
    assert user_id.startswith("u-") and PASSWORD not in made.output
    listed = runner.invoke(main, ["users", "list"])
    assert "lee@clinic.test" in listed.output and "admin" in listed.output
    db = Database(db_url)
    with db.transaction() as session:
        assert users.authenticate(session, email="lee@clinic.test", password=PASSWORD).user
    assert runner.invoke(main, ["users", "disable", "lee@clinic.test"]).exit_code == 0
    with db.transaction() as session:
        assert users.authenticate(session, email="lee@clinic.test", password=PASSWORD).user is None
    db.engine.dispose()


def test_refusals_say_what_to_fix(runner: CliRunner) -> None:
    short = runner.invoke(
        main, ["users", "create", "--email", "a@b.test", "--role", "coordinator"], input="abc\n"
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    missing = runner.invoke(main, ["users", "disable", "nobody@b.test"])
    assert missing.exit_code == 1 and "No user" in missing.output
