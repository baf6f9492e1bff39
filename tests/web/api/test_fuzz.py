"""Schemathesis over the whole OpenAPI document: no 5xx, every response as documented.

Every operation in the document is fuzzed, so an endpoint added later is covered without
touching this file. Operations are listed at collection time from an app on an in-memory
database; each test then fuzzes one operation against the app on the test's real database.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matcher.app import create_app
from matcher.config import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 40


def _load(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _labels() -> list[str]:
    app = create_app(Settings(database_url="sqlite://"), instance_path="/tmp/matcher-fuzz")
    return [result.ok().label for result in _load(app).get_all_operations()]


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("label", _labels())
def test_operation_conforms(
    label: str, mode: GenerationMode, app: Flask, make_key: Callable[..., dict[str, str]]
) -> None:
    """Whatever the fuzzer sends to this operation, the answer is as documented."""
    operation = _load(app).find_operation_by_label(label)
    assert operation is not None
    headers = make_key("admin")

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        fuzz()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("the operation takes no input that could be invalid")
