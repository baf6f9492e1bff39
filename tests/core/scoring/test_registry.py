"""One record per feature: everything else (order, filters, intake codes, columns) follows it."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher.core.scoring import (
    FEATURE_MEANINGS,
    FEATURES,
    FILTER_ORDER,
    MUST_HAVE_ORDER,
    REGISTRY,
    TherapistIndex,
    load_default,
    match,
)
from matcher.core.scoring.columns import Number, encode
from matcher.core.scoring.features import _checked
from matcher.schemas.intake import MUST_HAVE_SOURCES, IntakeSchema
from tests.core.scoring import reference
from tests.core.scoring.reference import make_intake, make_profile

CORE = Path(__file__).resolve().parents[3] / "matcher" / "core"


def test_the_registry_orders_the_features_and_their_meanings() -> None:
    assert tuple(f.name for f in REGISTRY) == FEATURES
    assert list(FEATURE_MEANINGS) == list(FEATURES)
    for feature in REGISTRY:
        assert feature.meaning.endswith(".") and feature.meaning[0].isupper()


def test_filters_and_must_haves_follow_the_registry() -> None:
    filtering = [f.name for f in REGISTRY if f.must_have is not None]
    assert set(FILTER_ORDER[4:]) == set(filtering)
    assert FILTER_ORDER[4] == "format"  # always on when formats are given, so first
    assert list(MUST_HAVE_ORDER) == [n for n in filtering if n != "format"]
    # The intake schema accepts exactly the registry's must-haves, naming their intake fields.
    assert dict(MUST_HAVE_SOURCES) == {
        f.name: f.intake_fields for f in REGISTRY if f.must_have is not None
    }
    fields = IntakeSchema().fields
    assert all(source in fields for sources in MUST_HAVE_SOURCES.values() for source in sources)


def test_the_reference_defines_every_feature_and_filter_on_its_own() -> None:
    assert set(reference.DEFINITIONS) == set(FEATURES)
    assert set(reference.MUST_HAVE_TESTS) == set(FILTER_ORDER[4:])


def test_every_feature_has_a_default_weight() -> None:
    assert set(load_default().weights) == set(FEATURES)


def test_the_index_builds_every_column_a_feature_declares() -> None:
    index = TherapistIndex.build([make_profile("t-1"), make_profile("t-2", fee=None)])
    for feature in REGISTRY:
        for column in feature.columns:
            assert len(index.column(column.name)) == 2, (feature.name, column.name)


def test_a_new_column_needs_only_its_declaration() -> None:
    years = Number("years", "experience.years")
    arrays, _ = encode(
        [{"experience": {"years": 12}}, {"experience": None}, {}], [years], tables={}
    )
    assert arrays["years"][0] == 12 and np.isnan(arrays["years"][1:]).all()


def test_clashing_records_are_refused() -> None:
    modality = REGISTRY[0]
    with pytest.raises(ValueError, match="unique"):
        _checked((modality, modality))
    twin = dataclasses.replace(
        modality,
        name="twin",
        columns=(dataclasses.replace(modality.columns[0]),),  # same name, another object
    )
    with pytest.raises(ValueError, match="declared twice"):
        _checked((modality, twin))
    unstated = dataclasses.replace(modality, name="unstated", columns=(), intake_fields=())
    with pytest.raises(ValueError, match="intake_fields"):
        _checked((unstated,))


def test_no_core_module_reads_the_environment() -> None:
    sources = {p: p.read_text(encoding="utf-8") for p in CORE.rglob("*.py")}
    readers = [str(p) for p, text in sources.items() if re.search(r"\benviron\b|\bgetenv\b", text)]
    assert readers == []
    # Nor through the vocabulary, whose served countries come from MATCHER_COUNTRIES.
    users = [str(p) for p, text in sources.items() if "jurisdictions()" in text]
    assert users == []


class _NoEnvironment(dict[str, str]):
    """An environment that fails any read, to catch a read made on the way."""

    def __getitem__(self, key: str) -> str:
        raise AssertionError(f"the scoring core read the environment: {key}")

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        raise AssertionError(f"the scoring core read the environment: {key}")


@pytest.fixture
def no_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """os.environ replaced by one that fails on read."""
    monkeypatch.setattr(os, "environ", _NoEnvironment())
    yield


@pytest.mark.usefixtures("no_environment")
def test_building_and_matching_read_no_environment() -> None:
    index = TherapistIndex.build(
        [make_profile("t-1"), make_profile("t-2", licenses=[{"jurisdiction": "CA-ON"}])]
    )
    intake = make_intake(
        languages=["en"],
        formats=["in_person", "video"],
        timezone="America/Los_Angeles",
        availability=[{"day": "tue", "start": "17:00", "end": "20:00"}],
        max_fee=200,
        must_have=["faith"],
    )
    outcome = match(index, intake, load_default(), now=datetime(2026, 3, 10, tzinfo=UTC))
    assert [r.therapist_id for r in outcome.results] == ["t-1"]
    assert outcome.results[0].reasons
