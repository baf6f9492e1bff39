"""The ``matcher`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from matcher import directory
from matcher.access import SCOPES, create_key
from matcher.app import create_app
from matcher.demo import create_demo_key, load_demo_directory
from matcher.model_versions import ensure_default
from matcher.serving import default_workers, serve
from matcher.storage.database import Database
from matcher.storage.schema import upgrade as migrate


def upgrade(db: Database) -> None:
    """Migrate to the newest schema and make sure version 1 of the model exists."""
    migrate(db)
    ensure_default(db)


def _database() -> Database:
    app = create_app()
    db: Database = app.extensions["matcher"].db
    return db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Therapist matching with a transparent model that learns from early alliance."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Default: one per core.")
@click.option("--demo", is_flag=True, help="Load the demo directory if empty; print a demo key.")
def serve_command(host: str, port: int, workers: int | None, demo: bool) -> None:
    """Migrate the database, then serve with gunicorn."""
    app = create_app()
    db: Database = app.extensions["matcher"].db
    upgrade(db)
    if demo:
        loaded = load_demo_directory(db)
        click.echo(
            f"Demo directory: {loaded} profiles loaded."
            if loaded
            else "Directory not empty; demo profiles not loaded."
        )
        click.echo(f"Demo API key (all scopes): {create_demo_key(db)}")
    click.echo(f"Serving on http://{host}:{port}/ (docs: http://{host}:{port}/api/v1/docs)")
    sys.stdout.flush()
    serve(app, host=host, port=port, workers=workers or default_workers())


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
def keys_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key; it is printed once, alone on the last line."""
    db = _database()
    upgrade(db)
    record, secret = create_key(db, name=name, scopes=scopes)
    click.echo(f"Created key {record.id} ({record.name}) with scopes: {', '.join(record.scopes)}")
    click.echo("Store it now: it is not shown again.")
    click.echo(secret)


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
    except directory.ImportRejected as rejected:
        click.echo(f"Import refused: {rejected.detail}", err=True)
        for path, messages in rejected.errors.items():
            for message in messages:
                click.echo(f"  {path}: {message}", err=True)
        sys.exit(1)
    created, updated = directory.import_profiles(db, profiles=profiles)
    click.echo(f"Imported {len(profiles)} profiles: {created} created, {updated} updated.")
