"""Reading and validating bulk imports: streamed NDJSON, record limits, capped reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from matcher.services import directory
from matcher.services.directory import ImportLimits, Unreadable
from matcher.services.errors import Invalid, Malformed

Profile = Callable[..., dict[str, Any]]


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_ndjson_records_are_read_across_chunk_boundaries_with_their_line_numbers() -> None:
    body = b'\xef\xbb\xbf{"a": 1}\r\n\n   \n{"b": [1, 2]}\n\t\nnot json\n{"c": "\xc3\xa9"}'
    for size in (1, 2, 3, 7, 1000):
        records = list(directory.ndjson_records(_split(body, size)))
        assert records[:2] == [{"a": 1}, {"b": [1, 2]}], size
        assert isinstance(records[2], Unreadable) and records[2].line == 6, size
        assert records[3] == {"c": "é"}, size
        assert len(records) == 4


def test_a_line_that_is_not_utf8_is_named_by_its_number() -> None:
    (record,) = directory.ndjson_records([b"\n\n\xff\xfe{}\n"])
    assert record == Unreadable(3, "Not UTF-8 text.")


def test_ndjson_is_parsed_as_it_arrives_not_read_whole_first() -> None:
    served: list[int] = []

    def chunks() -> Any:
        for n in range(1_000):
            served.append(n)
            yield b"{}\n"

    limits = ImportLimits(max_records=10)
    with pytest.raises(Invalid) as refused:
        directory.validate_records(directory.ndjson_records(chunks()), limits=limits)
    assert "More than 10 profiles" in refused.value.detail
    assert refused.value.errors == {"body": ["At most 10 profiles per import."]}
    assert len(served) == 11  # reading stopped at the first record past the limit


def test_only_blank_lines_are_nothing_to_import() -> None:
    blank = b"\n" * (8 << 20) + b" \r\n\t\n" * 1000
    with pytest.raises(Invalid) as refused:
        directory.validate_records(directory.ndjson_records(_split(blank, 1 << 20)))
    assert refused.value.detail == "Nothing to import."


def test_the_report_lists_the_first_problems_and_counts_them_all() -> None:
    records = [{} for _ in range(500)]
    with pytest.raises(Invalid) as refused:
        directory.validate_records(records, limits=ImportLimits(max_errors=25))
    errors = refused.value.errors
    assert len(errors) == 25
    assert "[0].id" in errors and not any(path.startswith("[499]") for path in errors)
    detail = refused.value.detail
    assert detail.startswith("500 of 500 records are invalid; nothing imported.")
    assert "The first 25 of " in detail
    total = int(detail.split(" of ")[-1].split()[0])
    assert total >= 500 * 7  # every required field of every record is counted


def test_a_small_report_says_nothing_of_a_cap(make_profile: Profile) -> None:
    records = [make_profile(id="t-1"), make_profile(id="t-2", capacity=-1)]
    with pytest.raises(Invalid) as refused:
        directory.validate_records(records, limits=ImportLimits(max_errors=25))
    assert refused.value.detail == "1 of 2 records are invalid; nothing imported."
    assert list(refused.value.errors) == ["[1].capacity"]


def test_unreadable_lines_are_capped_too() -> None:
    body = b"{\n" * 300 + b"{}\n"
    with pytest.raises(Malformed) as refused:
        directory.validate_records(
            directory.ndjson_records([body]), limits=ImportLimits(max_errors=10)
        )
    assert list(refused.value.errors) == [f"line {n}" for n in range(1, 11)]
    assert refused.value.detail.startswith("300 NDJSON lines are not JSON; nothing imported.")
    assert "The first 10 of 300 problems are listed." in refused.value.detail


def test_a_record_at_the_limit_is_accepted(make_profile: Profile) -> None:
    body = "\n".join(json.dumps(make_profile(id=f"t-{n}")) for n in range(3)).encode()
    profiles = directory.validate_records(
        directory.ndjson_records([body]), limits=ImportLimits(max_records=3)
    )
    assert [p["id"] for p in profiles] == ["t-0", "t-1", "t-2"]


def test_a_lone_surrogate_is_found_where_it_is(make_profile: Profile) -> None:
    bad = make_profile(id="t-2", licenses=[{"jurisdiction": "US-CA", "credential": "L\ud800"}])
    with pytest.raises(Invalid) as refused:
        directory.validate_records([make_profile(id="t-1"), bad])
    assert list(refused.value.errors) == ["[1].licenses[0].credential"]
