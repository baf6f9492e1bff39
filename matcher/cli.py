"""The ``matcher`` command line."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from tqdm import tqdm

from matcher import vocabulary
from matcher.config import Settings, share_metrics_through
from matcher.services import (
    clients,
    directory,
    import_pool,
    organisations,
    streamed_import,
    users,
)
from matcher.services.errors import Refused
from matcher.services.keys import SCOPES, create_key, list_keys, revoke
from matcher.storage import model_versions
from matcher.storage.database import Database

if TYPE_CHECKING:
    from matcher.services.matching import MatchService

# The app, the learner, the simulator and gunicorn are imported by the commands that use them:
# a command such as "profiles import" starts in a fraction of the time importing them all takes.


def upgrade(db: Database) -> None:
    """Migrate to the newest schema and make sure version 1 of the model exists."""
    # Alembic here, not at the start: an import's checking workers start before it is loaded.
    from matcher.storage.schema import is_current, schema_lock
    from matcher.storage.schema import upgrade as migrate

    # One process at a time: two hosts starting together would both create the same tables.
    with schema_lock(db):
        if not is_current(db):  # Alembic's upgrade takes a tenth of a second with nothing to do
            migrate(db)
        # Looked at in a read: a write transaction would take SQLite's lock while the first
        # query compiles, and other writers would wait for that.
        with db.session() as session:
            if model_versions.next_version(session) > 1:
                return  # version 1 exists: the model service (and the engine it imports) not needed
        from matcher.services.models import ensure_default

        with db.transaction() as session:
            ensure_default(session)


HISTORY_KEY_ID = "cli-history"  # stands in for an API key id on imported past referrals


def refuse(refusal: Refused) -> NoReturn:
    """Say why a command was refused, field by field, and exit 1."""
    click.echo(f"Refused: {refusal.detail}", err=True)
    for path, messages in refusal.errors.items():
        for message in messages:
            click.echo(f"  {path}: {message}", err=True)
    sys.exit(1)


def _serve_countries() -> Settings:
    """The settings, with the jurisdictions they serve in force (as create_app does)."""
    settings = Settings.from_env()
    vocabulary.serve_countries(settings.countries)
    return settings


def _database() -> Database:
    """The configured database, as the app finds it, without building the app."""
    from flask import Flask  # where the app keeps its instance folder; here, not at the start

    settings = _serve_countries()
    instance = Flask("matcher", instance_path=settings.instance_path).instance_path
    Path(instance).mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url(instance))
    click.get_current_context().call_on_close(db.close)
    return db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Therapist matching with a transparent model that learns from early alliance."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Default: one per core.")
@click.option(
    "--demo",
    is_flag=True,
    help="Load the demo directory if empty; print a demo key (earlier ones are revoked).",
)
@click.option(
    "--demo-history/--no-demo-history",
    default=True,
    show_default=True,
    help="With --demo: play simulated clients (matches, referrals, ratings) if none are recorded.",
)
def serve_command(
    host: str, port: int, workers: int | None, demo: bool, demo_history: bool
) -> None:
    """Migrate the database, then serve with gunicorn."""
    from matcher.serving import metrics_folder

    metrics = metrics_folder()  # before the app is built: prometheus_client reads it once
    master = os.getpid()
    try:
        _serve(host, port, workers, demo, demo_history)
    finally:
        # A gunicorn worker leaves through here too (its SystemExit unwinds the forked stack):
        # only the master removes the folder the other workers still write to.
        if os.getpid() == master:
            shutil.rmtree(metrics, ignore_errors=True)
            share_metrics_through(None)


def _serve(host: str, port: int, workers: int | None, demo: bool, demo_history: bool) -> None:
    from matcher.app import create_app
    from matcher.services.demo import (
        create_demo_key,
        create_demo_users,
        load_demo_directory,
        save_demo_key,
        save_demo_logins,
    )
    from matcher.serving import default_workers, serve

    try:
        app = create_app()
    except ValueError as err:  # a MATCHER_* setting that cannot be served as given
        raise click.ClickException(str(err)) from err
    db: Database = app.extensions["matcher"].db
    upgrade(db)
    if demo:
        with db.transaction() as session:
            loaded = load_demo_directory(session)
        click.echo(
            f"Demo directory: {loaded} profiles loaded."
            if loaded
            else "Directory not empty; demo profiles not loaded."
        )
        with db.transaction() as session:
            demo_key, revoked = create_demo_key(session)
        click.echo(f"Demo API key (all scopes): {demo_key}")
        click.echo(
            f"Saved in {save_demo_key(app.instance_path, demo_key)}"
            + (f"; {revoked} earlier demo key(s) revoked." if revoked else ".")
        )
        with db.transaction() as session:
            people = create_demo_users(session)
        for email, role, password in people:
            click.echo(f"Demo {role}: {email} / password {password}")
        if people:
            click.echo(f"Sign-ins saved in {save_demo_logins(app.instance_path, people)}.")
        else:
            click.echo("Demo users exist already (their sign-ins are in instance/demo-logins).")
        if demo_history:
            _play_demo_history(app.extensions["matcher"].matching)
    # Build the matching index once here (in a child, so that its scratch heap is not kept);
    # gunicorn forks the workers from this process.
    matching = app.extensions["matcher"].matching
    matching.build_apart = True
    snapshot = matching.snapshot()
    click.echo(
        f"Matching index: {len(snapshot.index)} therapists, model v{snapshot.weights.version}."
    )
    click.echo(f"Serving on http://{host}:{port}/ (docs: http://{host}:{port}/api/v1/docs)")
    sys.stdout.flush()
    serve(app, host=host, port=port, workers=workers or default_workers())


def _play_demo_history(matching: MatchService) -> None:
    """Give the demo evidence to learn from: simulated clients played through the services."""
    from matcher.lab.simulation.history import KEY_ID, play_history

    with tqdm(total=0, desc="Demo history", unit=" referrals", leave=False) as bar:

        def advance(_stage: str, done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        history = play_history(matching, progress=advance)
    if history.counts is None:
        click.echo(f"Demo history skipped: {history.skipped}.")
        return
    click.echo(
        f"Demo history: {history.counts.referrals} simulated referrals with "
        f"{history.counts.ratings} ratings (recorded under key id {KEY_ID!r}, clients 'sim-...')."
    )


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    upgrade(_database())
    click.echo("Database is at the newest revision.")


ORG_HELP = "The organisation's name or id (default: the default organisation)."


@main.group("orgs")
def orgs_group() -> None:
    """Organisations: each owns its keys, people and client records."""


@orgs_group.command("create")
@click.argument("name")
def orgs_create(name: str) -> None:
    """Create an organisation; its id is printed alone on the last line."""
    db = _database()
    upgrade(db)
    try:
        with db.transaction() as session:
            made = organisations.create_organisation(session, name=name)
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Created organisation {made.name}.")
    click.echo(made.id)


@orgs_group.command("list")
def orgs_list() -> None:
    """Every organisation: id, name, created."""
    db = _database()
    upgrade(db)
    with db.session() as session:
        found = organisations.list_organisations(session)
    for org in found:
        click.echo(f"{org.id:16}  {org.name:40}  created {org.created_at:%Y-%m-%d %H:%M}")


@main.group("keys")
def keys_group() -> None:
    """API keys."""


@keys_group.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="Repeat for several scopes; admin implies all.",
)
@click.option(
    "--rate-limit",
    default=None,
    help='This key\'s own request limit, e.g. "6000 per minute" (default: MATCHER_RATE_LIMIT).',
)
@click.option("--org", "org", default=None, help=ORG_HELP)
def keys_create(
    name: str, scopes: tuple[str, ...], rate_limit: str | None, org: str | None
) -> None:
    """Create a key; it is printed once, alone on the last line."""
    db = _database()
    upgrade(db)
    try:
        with db.transaction() as session:
            owner = organisations.find_organisation(session, name_or_id=org)
            record, secret = create_key(
                session,
                name=name,
                scopes=scopes,
                rate_limit=rate_limit,
                organisation_id=owner.id,
            )
    except Refused as refusal:
        refuse(refusal)
    click.echo(
        f"Created key {record.id} ({record.name}) of {owner.name} "
        f"with scopes: {', '.join(record.scopes)}"
    )
    click.echo("Store it now: it is not shown again.")
    click.echo(secret)


@keys_group.command("list")
def keys_list() -> None:
    """Every key (never its secret): id, name, scopes, created, revoked."""
    db = _database()
    upgrade(db)
    with db.session() as session:
        keys = list_keys(session)
    for key in keys:
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        click.echo(
            f"{key.id}  {key.name:20}  {','.join(key.scopes):28}  {key.organisation_id:16}  "
            f"created {key.created_at:%Y-%m-%d %H:%M}  {revoked}"
        )


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by id; it stops working within 10 seconds on every worker."""
    try:
        with _database().transaction() as session:
            revoke(session, key_id=key_id)
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Key {key_id} revoked.")


@main.group("users")
def users_group() -> None:
    """People who sign in to the coordinator and admin pages."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(users.ROLES))
@click.option("--org", "org", default=None, help=ORG_HELP)
def users_create(email: str, role: str, org: str | None) -> None:
    """Create a user; the password is read from standard input (not echoed at a terminal)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    db = _database()
    upgrade(db)
    try:
        with db.transaction() as session:
            owner = organisations.find_organisation(session, name_or_id=org)
            user = users.create_user(
                session, email=email, role=role, password=password, organisation_id=owner.id
            )
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Created {user.role} {user.email} of {owner.name}.")
    click.echo(user.id)


@users_group.command("list")
def users_list() -> None:
    """Every user: id, email, role, active, last sign-in."""
    db = _database()
    upgrade(db)
    with db.session() as session:
        people = users.list_users(session)
    for user in people:
        seen = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never"
        state = "active" if user.active else "disabled"
        click.echo(
            f"{user.id}  {user.email:32}  {user.role:11}  {user.organisation_id:16}  {state:8}  "
            f"last sign-in {seen}"
        )


@users_group.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Stop a person signing in (their history stays)."""
    try:
        with _database().transaction() as session:
            users.disable_user(session, email=email)
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"{email} can no longer sign in.")


@main.group("clients")
def clients_group() -> None:
    """Clients, by their pseudonymous reference."""


@clients_group.command("erase")
@click.argument("client_ref")
@click.option(
    "--org", "org", default=None, help="Only this organisation's client (default: every one's)."
)
def clients_erase(client_ref: str, org: str | None) -> None:
    """Erase every recorded intake for CLIENT_REF (ratings stay, unlinked)."""
    try:
        with _database().transaction() as session:
            owner = organisations.find_organisation(session, name_or_id=org).id if org else None
            erased = clients.erase(
                session, client_ref=client_ref, actor=_actor(), organisation_id=owner
            )
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Erased {erased} recorded intake(s).")


@clients_group.command("expire")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Erase intakes older than this (default: MATCHER_INTAKE_RETENTION_DAYS).",
)
def clients_expire(days: int | None) -> None:
    """Erase recorded intakes older than the retention period (run it daily, e.g. from cron)."""
    from matcher.app import create_app

    app = create_app()
    db: Database = app.extensions["matcher"].db
    click.get_current_context().call_on_close(db.close)
    keep = days or app.extensions["matcher"].settings.intake_retention_days
    if keep is None:
        click.echo("No retention period: set MATCHER_INTAKE_RETENTION_DAYS or pass --days.")
        sys.exit(2)
    with db.transaction() as session:
        erased = clients.expire(session, days=keep, actor=_actor())
    click.echo(f"Erased {erased} recorded intake(s) older than {keep} days.")


@main.group("profiles")
def profiles_group() -> None:
    """Therapist profiles."""


def _counted(chunks: Iterator[bytes], bar: tqdm[Any]) -> Iterator[bytes]:
    """The chunks, moving the progress bar by each one's size."""
    for chunk in chunks:
        bar.update(len(chunk))
        yield chunk


# From this size an NDJSON file is checked by a process per core (forking them costs more than
# it saves on a few blocks of lines).
PARALLEL_FROM_BYTES = 8 * directory.CHUNK_BYTES


@profiles_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Processes checking an NDJSON file. Default: one per core for a large file.",
)
def profiles_import(file: Path, workers: int | None) -> None:
    """Import a JSON array or NDJSON file of profiles: all or nothing."""
    ndjson = file.suffix.lower() in {".ndjson", ".jsonl"}
    settings = _serve_countries()  # before the workers fork: the jurisdictions they accept
    # The operator's own file: no record limit, but the report of problems is capped.
    limits = directory.ImportLimits(max_records=None, max_errors=settings.max_import_errors)
    size = file.stat().st_size
    if workers is None:
        workers = import_pool.usable_cores() if size >= PARALLEL_FROM_BYTES else 1
    imported: streamed_import.Imported | None = None
    try:
        with (
            file.open("rb") as handle,
            tqdm(total=size, desc="Validating", unit="B", unit_scale=True) as bar,
        ):
            chunks = _counted(directory.read_chunks(handle), bar)
            if ndjson and workers > 1:
                # The workers check while the database is opened, and each checked block is
                # written as it comes: the start and the write overlap the checking.
                with import_pool.Checking(chunks, workers=workers, limits=limits) as checking:
                    db = _database()
                    upgrade(db)
                    imported = streamed_import.write_checked(db, checking)
            else:
                db = _database()
                upgrade(db)
                records = (
                    directory.ndjson_records(chunks)
                    if ndjson
                    else directory.json_array(b"".join(chunks))
                )
                batch = directory.validate_import(records, limits=limits)
    except Refused as refusal:
        refuse(refusal)
    if imported is None:
        started = time.perf_counter()
        with db.transaction() as session:
            created, updated = directory.import_profiles(session, profiles=batch)
        imported = streamed_import.Imported(created, updated, time.perf_counter() - started)
    click.echo(f"Wrote them in {imported.held:.2f} s (the write transaction).")
    click.echo(
        f"Imported {imported.created + imported.updated} profiles: "
        f"{imported.created} created, {imported.updated} updated."
    )


@main.group("history")
def history_group() -> None:
    """Past referrals with their early-alliance ratings."""


@history_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def history_import(file: Path) -> None:
    """Import a JSON array or NDJSON file of past referrals with ratings: all or nothing."""
    from matcher.services import history
    from matcher.services import models as model_versions
    from matcher.services.alliance import AllianceRecordSource
    from matcher.services.matching import MatchService

    db = _database()
    upgrade(db)
    ndjson = file.suffix.lower() in {".ndjson", ".jsonl"}
    matching = MatchService(
        db, weights=model_versions.active_weights, alliance=AllianceRecordSource()
    )
    try:
        records = history.validate_history(
            directory.parse_records(file.read_text(encoding="utf-8"), ndjson=ndjson)
        )
        with db.transaction() as session:
            stored = history.import_history(
                session, records=records, matching=matching, key_id=HISTORY_KEY_ID
            )
    except Refused as refusal:
        refuse(refusal)
    click.echo(
        f"Imported {stored['referrals']} past referrals with {stored['ratings']} ratings "
        f"(marked imported, recorded under key id {HISTORY_KEY_ID!r})."
    )


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


@main.command("train")
@click.option("--note", default="", help="Why this candidate was trained.")
def train_command(note: str) -> None:
    """Learn a candidate model from the early-alliance ratings (it is not activated)."""
    from matcher.services import training

    db = _database()
    upgrade(db)
    steps = [
        "gathering ratings",
        "fitting and evaluating on held-out therapists",
        "off-policy evaluation",
        "storing the candidate",
    ]
    with tqdm(total=len(steps), desc="Training", unit="step") as bar:

        def progress(step: str) -> None:
            bar.set_postfix_str(step)
            if step != steps[0]:
                bar.update(1)

        try:
            with db.session() as session:
                learned = training.learn(session, progress=progress)
        except Refused as refusal:
            refuse(refusal)
        progress("storing the candidate")
        with db.transaction() as session:
            model = training.store(session, learned=learned, note=note, actor=_actor())
        bar.update(bar.total - bar.n)
    evaluation = model.evaluation or {}
    heldout = evaluation.get("heldout", {})
    click.echo(
        f"Candidate version {model.version} (not active; activate it with "
        f"`matcher models activate {model.version}`)."
    )
    click.echo(
        f"Ratings: {evaluation.get('n_ratings')} from {evaluation.get('n_referrals')} referrals, "
        f"{evaluation.get('n_therapists')} therapists."
    )
    for name in ("learned", "active"):
        metrics = heldout.get(name, {})
        click.echo(
            f"Held-out {name:7}: MAE {metrics.get('mae', float('nan')):.4f}  "
            f"RMSE {metrics.get('rmse', float('nan')):.4f}"
        )
    click.echo(
        f"Intercept {model.intercept:.4f}; weights: "
        + ", ".join(f"{k} {v:.4f}" for k, v in model.weights.items())
    )
    for warning in evaluation.get("warnings", []):
        click.echo(f"Warning: {warning}")


@main.group("models")
def models_group() -> None:
    """Model versions."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models_list(as_json: bool) -> None:
    """Every model version, newest first."""
    from matcher.services import models as model_versions

    db = _database()
    upgrade(db)
    with db.session() as session:
        models = model_versions.list_versions(session)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "version": m.version,
                        "status": m.status,
                        "source": m.source,
                        "created_at": m.created_at.isoformat(),
                        "created_by": m.created_by,
                        "note": m.note,
                        "intercept": m.intercept,
                        "weights": m.weights,
                    }
                    for m in models
                ],
                indent=2,
            )
        )
        return
    click.echo(f"{'version':>7}  {'status':9}  {'source':7}  {'created':20}  note")
    for m in models:
        click.echo(
            f"{m.version:>7}  {m.status:9}  {m.source:7}  "
            f"{m.created_at:%Y-%m-%d %H:%M:%S}  {m.note[:60]}"
        )


@models_group.command("activate")
@click.argument("version", type=int)
@click.option("--note", default="", help="Why (kept in the audit log).")
def models_activate(version: int, note: str) -> None:
    """Make VERSION the model every match uses (an older one: a rollback)."""
    from matcher.services import models as model_versions

    db = _database()
    upgrade(db)
    try:
        with db.transaction() as session:
            model_versions.activate(session, version=version, actor=_actor(), note=note)
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Version {version} is active.")


@main.command("simulate")
@click.option("--therapists", default=1500, show_default=True, type=click.IntRange(20, 200_000))
@click.option("--referrals", default=3000, show_default=True, type=click.IntRange(50, 1_000_000))
@click.option("--evaluation-clients", default=500, show_default=True, type=click.IntRange(10))
@click.option("--exploration", default=0.1, show_default=True, type=click.FloatRange(0, 1))
@click.option(
    "--exploration-policy",
    default="uniform",
    show_default=True,
    type=click.Choice(["uniform", "uncertainty"]),
    help="What an exploring match shows: a uniform sample, or one aimed at the least rated.",
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--database-url", default=None, help="Default: a temporary SQLite file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--worlds",
    default=None,
    type=click.IntRange(1, 1000),
    help="Play this many worlds of the family (drawn with --seed) and check the floors.",
)
@click.option(
    "--past-referrals",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="Import this many past referrals with ratings before the play (a clinic's history).",
)
@click.option(
    "--processes", default=2, show_default=True, type=click.IntRange(1, 64), help="With --worlds."
)
def simulate_command(
    therapists: int,
    referrals: int,
    evaluation_clients: int,
    exploration: float,
    exploration_policy: str,
    seed: int,
    database_url: str | None,
    as_json: bool,
    worlds: int | None,
    past_referrals: int,
    processes: int,
) -> None:
    """Play a world with known true effects through the service, train, and compare."""
    from matcher.lab.simulation import SimulationConfig, run

    config = SimulationConfig(
        therapists=therapists,
        referrals=referrals,
        evaluation_clients=evaluation_clients,
        seed=seed,
        exploration=exploration,
        exploration_policy=exploration_policy,
        database_url=database_url,
        past_referrals=past_referrals,
    )
    if worlds is not None:
        _simulate_worlds(config, worlds, processes, as_json=as_json)
        return
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage.capitalize(), unit="step")
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    try:
        report = run(config, progress=progress)
    except (Refused, ValueError) as err:
        click.echo(f"Simulation stopped: {err}", err=True)
        sys.exit(1)
    finally:
        for bar in bars.values():
            bar.close()
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.to_text())


def _simulate_worlds(config: Any, worlds: int, processes: int, *, as_json: bool) -> None:
    """Play a family of worlds and print the table and the floors."""
    import dataclasses

    from matcher.lab.simulation import worlds as family

    if config.database_url is not None:
        raise click.ClickException("--worlds plays each world in a temporary SQLite database.")

    def played(row: Any) -> None:
        # A world takes minutes: say each one as it is done (on stderr, the table stays clean).
        line = json.dumps(dataclasses.asdict(row)) if as_json else family.row_line(row)
        click.echo(line, err=True)

    if not as_json:
        click.echo(family.HEADER, err=True)
    try:
        rows, seconds = family.timed_family(config, worlds, processes, on_row=played)
    except (Refused, ValueError) as err:
        click.echo(f"Simulation stopped: {err}", err=True)
        sys.exit(1)
    if as_json:
        data = {
            "worlds": [dataclasses.asdict(r) for r in rows],
            "floors": family.floors(rows),
            "seconds": seconds,
        }
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(family.table(rows, seconds))


if __name__ == "__main__":
    main()
