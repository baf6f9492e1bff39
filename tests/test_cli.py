"""The command line: keys, imports with per-record errors, migrations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from matcher.cli import main
from matcher.services.keys import authenticate
from matcher.storage import therapists as stored
from matcher.storage.database import Database
from matcher.storage.tables import Referral


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_keys_create_prints_key_alone_on_last_line(run: Callable[..., Any], db_url: str) -> None:
    result = run("keys", "create", "--name", "site", "--scope", "match", "--scope", "outcomes")
    assert result.exit_code == 0
    secret = result.output.strip().splitlines()[-1]
    assert " " not in secret
    db = Database(db_url)
    with db.session() as session:
        key = authenticate(session, secret=secret)
    db.engine.dispose()
    assert key is not None and key.scopes == ["match", "outcomes"]


def test_keys_create_refuses_unknown_scope(run: Callable[..., Any]) -> None:
    result = CliRunner().invoke(main, ["keys", "create", "--name", "x", "--scope", "root"])
    assert result.exit_code != 0
    assert "root" in result.output


def test_profiles_import_ndjson(
    run: Callable[..., Any],
    tmp_path: Path,
    make_profile: Callable[..., dict[str, Any]],
    db_url: str,
) -> None:
    path = tmp_path / "profiles.ndjson"
    path.write_text("\n".join(json.dumps(make_profile(id=f"t-{n}")) for n in range(5)))
    result = run("profiles", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "5 created" in result.output
    db = Database(db_url)
    with db.session() as session:
        assert stored.count_active(session) == 5
    db.engine.dispose()


def test_profiles_import_reports_each_bad_record_and_changes_nothing(
    run: Callable[..., Any],
    tmp_path: Path,
    make_profile: Callable[..., dict[str, Any]],
    db_url: str,
) -> None:
    records = [
        make_profile(id="t-1"),
        make_profile(id="t-2", capacity=-3),
        make_profile(id="t-3", timezone="Mars/Olympus"),
    ]
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(records))
    result = CliRunner().invoke(main, ["profiles", "import", str(path)])
    assert result.exit_code == 1
    assert "[1].capacity" in result.output
    assert "[2].timezone" in result.output
    db = Database(db_url)
    with db.session() as session:
        assert stored.count_active(session) == 0
    db.engine.dispose()


def test_profiles_import_by_several_workers_refuses_and_writes_as_one(
    run: Callable[..., Any],
    tmp_path: Path,
    make_profile: Callable[..., dict[str, Any]],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("matcher.services.directory.CHUNK_BYTES", 4096)  # many blocks
    records = [make_profile(id=f"t-{n}") for n in range(200)]
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join(json.dumps(r) for r in [*records, make_profile(id="t-0")]))
    outputs = [run("profiles", "import", "--workers", w, str(bad)).output for w in ("1", "2")]
    refused = [out[out.index("Refused") :] for out in outputs]  # after the progress bar
    assert "[200].id: Same id as record 0." in refused[0]
    assert refused[1] == refused[0]
    db = Database(db_url)
    with db.session() as session:
        assert stored.count_active(session) == 0  # nothing written
    good = tmp_path / "good.ndjson"
    good.write_text("\n".join(json.dumps(r) for r in records))
    result = run("profiles", "import", "--workers", "2", str(good))
    assert "Imported 200 profiles: 200 created, 0 updated." in result.output, result.output
    with db.session() as session:
        assert stored.count_active(session) == 200
    db.engine.dispose()


def test_profiles_import_by_several_workers_replaces_stored_profiles(
    run: Callable[..., Any],
    tmp_path: Path,
    make_profile: Callable[..., dict[str, Any]],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Written as it is checked: stored ids met on the way (PostgreSQL's copy undone) are
    replaced, and the report counts them as the serial path does."""
    monkeypatch.setattr("matcher.services.directory.CHUNK_BYTES", 4096)  # many blocks
    path = tmp_path / "profiles.ndjson"
    path.write_text("\n".join(json.dumps(make_profile(id=f"t-{n}")) for n in range(150)))
    assert "150 created, 0 updated" in run("profiles", "import", str(path)).output
    renamed = [make_profile(id=f"t-{n}", name=f"Renamed {n}") for n in range(200)]
    path.write_text("\n".join(json.dumps(r) for r in renamed))
    result = run("profiles", "import", "--workers", "2", str(path))
    assert "Imported 200 profiles: 50 created, 150 updated." in result.output, result.output
    db = Database(db_url)
    with db.session() as session:
        found, total = stored.page(session, where=stored.TherapistFilter(), page=1, page_size=300)
    assert total == 200 and {t.name for t in found} == {f"Renamed {n}" for n in range(200)}
    db.engine.dispose()


def test_profiles_import_by_several_workers_accepts_the_configured_countries(
    run: Callable[..., Any],
    tmp_path: Path,
    make_profile: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The workers start before the database is opened, with the served jurisdictions set."""
    monkeypatch.setenv("MATCHER_COUNTRIES", "GB")
    monkeypatch.setattr("matcher.services.directory.CHUNK_BYTES", 4096)  # many blocks
    licensed = {"jurisdiction": "GB-ENG", "credential": "BACP"}
    path = tmp_path / "profiles.ndjson"
    path.write_text(
        "\n".join(json.dumps(make_profile(id=f"t-{n}", licenses=[licensed])) for n in range(60))
    )
    result = run("profiles", "import", "--workers", "2", str(path))
    assert "60 created, 0 updated" in result.output, result.output
    monkeypatch.setenv("MATCHER_COUNTRIES", "US")
    refused = run("profiles", "import", "--workers", "2", str(path))
    assert refused.exit_code == 1 and "[0].licenses[0].jurisdiction" in refused.output


def test_db_upgrade(run: Callable[..., Any]) -> None:
    result = run("db", "upgrade")
    assert result.exit_code == 0
    assert "newest revision" in result.output


def test_keys_list_and_revoke(run: Callable[..., Any], db_url: str) -> None:
    created = run("keys", "create", "--name", "site", "--scope", "match")
    secret = created.output.strip().splitlines()[-1]
    key_id = created.output.split()[2]
    listed = run("keys", "list")
    assert key_id in listed.output and "active" in listed.output and secret not in listed.output
    assert run("keys", "revoke", key_id).exit_code == 0
    assert "revoked" in run("keys", "list").output
    db = Database(db_url)
    with db.session() as session:
        assert authenticate(session, secret=secret) is None
    db.close()
    assert CliRunner().invoke(main, ["keys", "revoke", "k-none"]).exit_code == 1


def test_serve_refuses_threads_with_sync_workers(
    run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Gunicorn would run these as gthread while the settings say sync.
    monkeypatch.setenv("MATCHER_WORKER_CLASS", "sync")
    monkeypatch.setenv("MATCHER_THREADS", "4")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "MATCHER_THREADS must be 1 with sync workers" in result.output


def test_keys_create_with_its_own_rate_limit(run: Callable[..., Any], db_url: str) -> None:
    result = run("keys", "create", "--name", "site", "--scope", "match",
                 "--rate-limit", "6000 per minute")  # fmt: skip
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    db = Database(db_url)
    with db.session() as session:
        key = authenticate(session, secret=secret)
    db.engine.dispose()
    assert key is not None and key.rate_limit == "6000 per minute"
    refused = run("keys", "create", "--name", "x", "--scope", "match", "--rate-limit", "lots")
    assert refused.exit_code == 1 and "rate_limit" in refused.output


def test_history_import_stores_marked_referrals_and_refuses_unknown_therapists(
    run: Callable[..., Any],
    tmp_path: Path,
    make_profile: Callable[..., dict[str, Any]],
    db_url: str,
) -> None:
    profiles = tmp_path / "profiles.json"
    profiles.write_text(json.dumps([make_profile(id="t-1")]))
    assert run("profiles", "import", str(profiles)).exit_code == 0
    past = {
        "client_ref": "past-1",
        "intake": {"jurisdiction": "US-CA"},
        "therapist_id": "t-1",
        "referred_at": "2025-01-02T09:00:00Z",
        "ratings": [{"instrument": "srs", "session": 1, "items": [9, 8.5, 9, 10]}],
    }
    path = tmp_path / "history.ndjson"
    path.write_text(json.dumps({**past, "therapist_id": "t-2"}))
    refused = CliRunner().invoke(main, ["history", "import", str(path)])
    assert refused.exit_code == 1
    assert "[0].therapist_id" in refused.output
    path.write_text("\n".join([json.dumps(past), json.dumps({**past, "client_ref": "past-2"})]))
    result = run("history", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 2 past referrals with 2 ratings" in result.output
    db = Database(db_url)
    with db.session() as session:
        rows = session.execute(select(Referral)).scalars().all()
    assert [(r.imported, r.propensity) for r in rows] == [(True, None), (True, None)]
    db.engine.dispose()
