"""Checking NDJSON over several processes gives the serial path's rows, refusals and reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from matcher.services import directory, import_pool
from matcher.services.directory import ImportLimits
from matcher.services.errors import Refused
from matcher.storage import therapists as stored

Profile = Callable[..., dict[str, Any]]
# Small chunks, so that a few hundred lines make many blocks for the workers to share.
CHUNK = 2_000


def _ndjson(records: list[Any]) -> bytes:
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]
    return b"\n".join(lines) + b"\n"


def _chunks(body: bytes) -> list[bytes]:
    return [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


def _serial(body: bytes, limits: ImportLimits) -> stored.Batch:
    records = directory.ndjson_records(_chunks(body))
    return directory.validate_import(records, limits=limits)


def _parallel(body: bytes, limits: ImportLimits) -> stored.Batch:
    return import_pool.validate_ndjson(_chunks(body), workers=2, limits=limits)


def _refusal(check: Callable[[bytes, ImportLimits], Any], body: bytes, limits: ImportLimits) -> Any:
    with pytest.raises(Refused) as refused:
        check(body, limits)
    return type(refused.value), refused.value.detail, refused.value.errors


def _profiles(make_profile: Profile, count: int) -> list[dict[str, Any]]:
    return [make_profile(id=f"t-{n}", name=f"Therapist {n}") for n in range(count)]


def test_the_same_rows_in_the_same_order(make_profile: Profile) -> None:
    body = _ndjson(_profiles(make_profile, 300))
    assert len(list(directory.ndjson_blocks(_chunks(body)))) > 20  # many blocks, two workers
    parallel = _parallel(body, ImportLimits())
    assert parallel == _serial(body, ImportLimits())
    assert [row[0] for row in parallel.rows] == [f"t-{n}" for n in range(300)]
    validated = directory.validate_records(_profiles(make_profile, 300))
    assert parallel.rows == stored.prepare(validated).rows


@pytest.mark.parametrize(
    "bad",
    [
        {"capacity": 2.5},  # refused by the schema
        {"licenses": [{"jurisdiction": "US-CA", "credential": "L\ud800"}]},  # lone surrogate
        {"id": "t-3"},  # the same id as an earlier record, in an earlier block
    ],
)
def test_a_refused_record_in_a_later_block_is_reported_as_by_the_serial_path(
    make_profile: Profile, bad: dict[str, Any]
) -> None:
    records: list[Any] = _profiles(make_profile, 300)
    records[250] = dict(records[250], **bad)
    body = _ndjson(records)
    limits = ImportLimits(max_errors=10)
    serial = _refusal(_serial, body, limits)
    assert _refusal(_parallel, body, limits) == serial
    assert list(serial[2]) and all(path.startswith("[250]") for path in serial[2])


def test_an_unreadable_line_is_named_by_its_number_as_by_the_serial_path(
    make_profile: Profile,
) -> None:
    records: list[Any] = _profiles(make_profile, 300)
    records[280] = b"{not json"
    records[290] = b"\xff\xfe{}"
    body = _ndjson(records).replace(b"\n", b"\n\n", 100)  # blank lines move the line numbers
    serial = _refusal(_serial, body, ImportLimits())
    assert _refusal(_parallel, body, ImportLimits()) == serial
    assert list(serial[2]) == ["line 381", "line 391"]


def test_many_problems_across_blocks_make_the_same_capped_report(make_profile: Profile) -> None:
    records: list[Any] = _profiles(make_profile, 300)
    for n in range(5, 300, 7):
        records[n] = {"id": f"t-{n}"}
    body = _ndjson(records)
    limits = ImportLimits(max_errors=25)
    serial = _refusal(_serial, body, limits)
    assert _refusal(_parallel, body, limits) == serial
    assert "The first 25 of " in serial[1]


def test_the_record_limit_refuses_as_the_serial_path(make_profile: Profile) -> None:
    body = _ndjson(_profiles(make_profile, 300))
    limits = ImportLimits(max_records=299)
    serial = _refusal(_serial, body, limits)
    assert _refusal(_parallel, body, limits) == serial
    assert "More than 299 profiles" in serial[1]
    assert _parallel(body, ImportLimits(max_records=300)) == _serial(body, ImportLimits())


def _die(block: bytes, line: int) -> Any:
    import os

    os._exit(1)


def test_a_worker_that_dies_fails_the_import_rather_than_hanging(
    make_profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    monkeypatch.setattr(import_pool, "check_block", _die)  # the forked workers inherit it
    with pytest.raises(BrokenProcessPool):
        _parallel(_ndjson(_profiles(make_profile, 300)), ImportLimits())
