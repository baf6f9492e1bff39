"""The command line: organisations, --org on keys and users, erasure and retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlmodel import col

from matcher.cli import main
from matcher.services.keys import authenticate
from matcher.services.users import find_user
from matcher.storage.database import Database
from matcher.storage.tables import DEFAULT_ORGANISATION, MatchRecord, ModelVersion
from matcher.storage.types import utcnow


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))

    def invoke(*args: str, stdin: str | None = None) -> Any:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


def test_orgs_create_list_and_keys_and_users_in_them(run: Callable[..., Any], db_url: str) -> None:
    made = run("orgs", "create", "Riverside Clinic")
    assert made.exit_code == 0, made.output
    org_id = made.output.strip().splitlines()[-1]
    assert run("orgs", "create", "Riverside Clinic").exit_code == 1  # names are unique
    listed = run("orgs", "list").output
    assert "Riverside Clinic" in listed and org_id in listed and "Default" in listed

    key = run(
        "keys", "create", "--name", "site", "--scope", "outcomes", "--org", "Riverside Clinic"
    )
    assert key.exit_code == 0, key.output
    plain = run("keys", "create", "--name", "own", "--scope", "match")
    unknown = run("keys", "create", "--name", "x", "--scope", "match", "--org", "Nowhere")
    assert unknown.exit_code == 1 and "organisation" in unknown.output
    person = run("users", "create", "--email", "kim@river.test", "--role", "coordinator",
                 "--org", org_id, stdin="a long enough password\n")  # fmt: skip
    assert person.exit_code == 0, person.output
    db = Database(db_url)
    with db.session() as session:
        theirs = authenticate(session, secret=key.output.strip().splitlines()[-1])
        ours = authenticate(session, secret=plain.output.strip().splitlines()[-1])
        user = find_user(session, email="kim@river.test")
    db.engine.dispose()
    assert theirs is not None and theirs.organisation_id == org_id
    assert ours is not None and ours.organisation_id == DEFAULT_ORGANISATION
    assert user is not None and user.organisation_id == org_id
    assert org_id in run("keys", "list").output and org_id in run("users", "list").output


def test_clients_expire_uses_the_retention_setting(
    run: Callable[..., Any], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("db", "upgrade").exit_code == 0
    db = Database(db_url)
    with db.transaction() as session:
        version = session.execute(select(ModelVersion.version)).scalars().first()
        for n, age in enumerate((90, 10)):
            session.add(
                MatchRecord(
                    id=f"m-{n}", key_id="k", client_ref=f"C-{n}", model_version=version,
                    intake={"jurisdiction": "US-CA"}, limit=5, eligible=1,
                    created_at=utcnow() - timedelta(days=age),
                )
            )  # fmt: skip
    without = run("clients", "expire")
    assert without.exit_code == 2 and "MATCHER_INTAKE_RETENTION_DAYS" in without.output
    monkeypatch.setenv("MATCHER_INTAKE_RETENTION_DAYS", "30")
    done = run("clients", "expire")
    assert done.exit_code == 0 and "Erased 1 recorded intake(s) older than 30 days" in done.output
    assert "Erased 1 " in run("clients", "expire", "--days", "5").output
    with db.session() as session:
        left = session.execute(select(MatchRecord).order_by(col(MatchRecord.id))).scalars().all()
        assert [(m.client_ref, m.intake) for m in left] == [(None, {}), (None, {})]
    with db.transaction() as session:
        session.execute(update(MatchRecord).values(client_ref="C-9"))
    erased = run("clients", "erase", "C-9", "--org", "Default")
    assert erased.exit_code == 0 and "Erased 2" in erased.output
    db.engine.dispose()
