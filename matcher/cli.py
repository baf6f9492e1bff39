"""The ``matcher`` command line."""

from __future__ import annotations

import getpass
import json
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import click
from tqdm import tqdm

from matcher.app import create_app
from matcher.config import share_metrics_through
from matcher.lab.simulation.history import KEY_ID, play_history
from matcher.services import clients, directory, training, users
from matcher.services import models as model_versions
from matcher.services.demo import (
    create_demo_key,
    create_demo_users,
    load_demo_directory,
    save_demo_key,
    save_demo_logins,
)
from matcher.services.errors import Refused
from matcher.services.keys import SCOPES, create_key, list_keys, revoke
from matcher.services.matching import MatchService
from matcher.services.models import ensure_default
from matcher.serving import default_workers, metrics_folder, serve
from matcher.storage.database import Database
from matcher.storage.schema import upgrade as migrate


def upgrade(db: Database) -> None:
    """Migrate to the newest schema and make sure version 1 of the model exists."""
    migrate(db)
    with db.transaction() as session:
        ensure_default(session)


def refuse(refusal: Refused) -> NoReturn:
    """Say why a command was refused, field by field, and exit 1."""
    click.echo(f"Refused: {refusal.detail}", err=True)
    for path, messages in refusal.errors.items():
        for message in messages:
            click.echo(f"  {path}: {message}", err=True)
    sys.exit(1)


def _database() -> Database:
    app = create_app()
    db: Database = app.extensions["matcher"].db
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
    metrics = metrics_folder()  # before the app is built: prometheus_client reads it once
    try:
        _serve(host, port, workers, demo, demo_history)
    finally:
        shutil.rmtree(metrics, ignore_errors=True)
        share_metrics_through(None)


def _serve(host: str, port: int, workers: int | None, demo: bool, demo_history: bool) -> None:
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
    # Build the matching index once here; gunicorn forks the workers from this process.
    snapshot = app.extensions["matcher"].matching.snapshot()
    click.echo(
        f"Matching index: {len(snapshot.index)} therapists, model v{snapshot.weights.version}."
    )
    click.echo(f"Serving on http://{host}:{port}/ (docs: http://{host}:{port}/api/v1/docs)")
    sys.stdout.flush()
    serve(app, host=host, port=port, workers=workers or default_workers())


def _play_demo_history(matching: MatchService) -> None:
    """Give the demo evidence to learn from: simulated clients played through the services."""
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
def keys_create(name: str, scopes: tuple[str, ...], rate_limit: str | None) -> None:
    """Create a key; it is printed once, alone on the last line."""
    db = _database()
    upgrade(db)
    try:
        with db.transaction() as session:
            record, secret = create_key(session, name=name, scopes=scopes, rate_limit=rate_limit)
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Created key {record.id} ({record.name}) with scopes: {', '.join(record.scopes)}")
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
            f"{key.id}  {key.name:20}  {','.join(key.scopes):28}  "
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
def users_create(email: str, role: str) -> None:
    """Create a user; the password is read from standard input (not echoed at a terminal)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    db = _database()
    upgrade(db)
    try:
        with db.transaction() as session:
            user = users.create_user(session, email=email, role=role, password=password)
    except Refused as refusal:
        refuse(refusal)
    click.echo(f"Created {user.role} {user.email}.")
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
        click.echo(f"{user.id}  {user.email:32}  {user.role:11}  {state:8}  last sign-in {seen}")


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
def clients_erase(client_ref: str) -> None:
    """Erase every recorded intake for CLIENT_REF (ratings stay, unlinked)."""
    with _database().transaction() as session:
        erased = clients.erase(session, client_ref=client_ref, actor=_actor())
    click.echo(f"Erased {erased} recorded intake(s).")


@main.group("profiles")
def profiles_group() -> None:
    """Therapist profiles."""


@profiles_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def profiles_import(file: Path) -> None:
    """Import a JSON array or NDJSON file of profiles: all or nothing."""
    db = _database()
    upgrade(db)
    ndjson = file.suffix.lower() in {".ndjson", ".jsonl"}
    try:
        records = directory.parse_records(file.read_text(encoding="utf-8"), ndjson=ndjson)
        with tqdm(total=len(records), desc="Validating", unit="profile") as bar:
            profiles = directory.validate_records(records, progress=bar.update)
    except Refused as refusal:
        refuse(refusal)
    with db.transaction() as session:
        created, updated = directory.import_profiles(session, profiles=profiles)
    click.echo(f"Imported {len(profiles)} profiles: {created} created, {updated} updated.")


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
    db = _database()
    upgrade(db)
    steps = [
        "gathering ratings",
        "fitting and evaluating on held-out therapists",
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
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--database-url", default=None, help="Default: a temporary SQLite file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def simulate_command(
    therapists: int,
    referrals: int,
    evaluation_clients: int,
    exploration: float,
    seed: int,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Play a world with known true effects through the service, train, and compare."""
    from matcher.lab.simulation import SimulationConfig, run

    config = SimulationConfig(
        therapists=therapists,
        referrals=referrals,
        evaluation_clients=evaluation_clients,
        seed=seed,
        exploration=exploration,
        database_url=database_url,
    )
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


if __name__ == "__main__":
    main()
