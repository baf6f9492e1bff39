"""A waitlist read from a file a coordinator uploads: JSON array, NDJSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from marshmallow import ValidationError

from matcher.schemas.fields import flatten_errors
from matcher.schemas.waitlist import MAX_CLIENTS, WaitingClientSchema
from matcher.services.directory import parse_records
from matcher.services.errors import Invalid
from matcher.services.waitlist import WaitingClient

# CSV cells: lists separated by ";", nested values as JSON text, numbers and yes/no read as such.
LIST_COLUMNS = frozenset(
    {
        "concerns",
        "modalities",
        "languages",
        "identities",
        "therapist_genders",
        "formats",
        "must_have",
        "exclude_therapists",
    }
)
JSON_COLUMNS = frozenset({"location", "availability", "style"})
NUMBER_COLUMNS = frozenset({"max_fee", "max_distance_km"})
_LOADER = WaitingClientSchema()


def _cell(column: str, text: str) -> Any:
    """One CSV cell as the intake field it names."""
    if column in LIST_COLUMNS:
        return [part.strip() for part in text.split(";") if part.strip()]
    if column in JSON_COLUMNS:
        try:
            return json.loads(text)
        except ValueError:
            return text  # the schema names the field as invalid
    if column in NUMBER_COLUMNS:
        try:
            return float(text)
        except ValueError:
            return text
    if column == "wants_shared_identity":
        return {"yes": True, "true": True, "no": False, "false": False}.get(text.lower(), text)
    return text


def _csv_records(content: str) -> list[dict[str, Any]]:
    """CSV rows as ``{"client_ref", "intake": {...}}``; empty cells mean no preference."""
    records = []
    for row in csv.DictReader(io.StringIO(content)):
        record: dict[str, Any] = {"intake": {}}
        for column, value in row.items():
            if column is None or value is None or not value.strip():
                continue
            name = column.strip()
            if name == "client_ref":
                record["client_ref"] = value.strip()
            else:
                record["intake"][name] = _cell(name, value.strip())
        records.append(record)
    return records


def read_waitlist(content: str, filename: str) -> list[WaitingClient]:
    """The clients in an uploaded file, every one valid, or Invalid naming each bad field."""
    name = filename.lower()
    if name.endswith(".csv"):
        records: list[Any] = _csv_records(content)
    else:
        ndjson = name.endswith((".ndjson", ".jsonl")) or not content.lstrip().startswith("[")
        records = parse_records(content, ndjson=ndjson)
    if not records:
        raise Invalid("The file lists no client.", {"file": ["The file lists no client."]})
    if len(records) > MAX_CLIENTS:
        raise Invalid("Too many clients.", {"file": [f"At most {MAX_CLIENTS} clients."]})
    clients: list[WaitingClient] = []
    errors: dict[str, list[str]] = {}
    for i, record in enumerate(records):
        try:
            loaded = _LOADER.load(record)
        except ValidationError as err:
            for path, messages in flatten_errors(err.messages, [f"clients[{i}]"]).items():
                errors[path] = messages
            continue
        clients.append(WaitingClient(client_ref=loaded["client_ref"], intake=loaded["intake"]))
    if errors:
        raise Invalid(f"{len(errors)} problems in the file; nothing was read.", errors)
    return clients
