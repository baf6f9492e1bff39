"""Versioned weight sets: the default, manual and learned candidates, activation, rollback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from matcher.core.scoring import FEATURES, WeightSet, load_default
from matcher.services.errors import Invalid, NotFound
from matcher.storage import counters
from matcher.storage import model_versions as stored
from matcher.storage.tables import AuditEvent, ModelVersion

__all__ = ["AuditEvent", "ModelVersion"]
from matcher.storage.types import utcnow


def as_weight_set(model: ModelVersion) -> WeightSet:
    """The scorer's view of a stored version."""
    return WeightSet(version=model.version, intercept=model.intercept, weights=dict(model.weights))


def check_weights(weights: Mapping[str, Any], intercept: Any) -> WeightSet:
    """Validate a weight set (known features, non-negative, score kept in 0..1)."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(weights) - set(FEATURES))
    for name in unknown:
        errors[f"weights.{name}"] = [f"Unknown feature; known: {', '.join(FEATURES)}."]
    full = {name: weights.get(name, 0.0) for name in FEATURES}
    for name, value in full.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            errors[f"weights.{name}"] = ["Must be a number."]
        elif value < 0:
            errors[f"weights.{name}"] = ["Must be >= 0: every dimension can only add."]
    if errors:
        raise Invalid("Invalid model.", errors)
    try:
        return WeightSet(version=0, intercept=float(intercept), weights=full)
    except ValueError as err:
        raise Invalid("Invalid model.", {"intercept": [str(err)]}) from err


def ensure_default(session: Session) -> None:
    """Store version 1 from ``models/default.json`` when no version exists yet."""
    if stored.next_version(session) > 1:
        return
    default = load_default()
    model = ModelVersion(
        version=1,
        status="active",
        source="default",
        created_at=utcnow(),
        activated_at=utcnow(),
        created_by="system",
        note="Default weights from models/default.json (see models/README.md).",
        intercept=default.intercept,
        weights=dict(default.weights),
    )
    stored.add(session, model=model)
    stored.audit(
        session,
        actor="system",
        action="model.create",
        subject="model:1",
        note=model.note,
        details={"source": "default", "status": "active"},
    )
    counters.bump(session, name=counters.MODELS)


def list_versions(session: Session) -> list[ModelVersion]:
    """Every version, newest first."""
    return stored.all_versions(session)


def get_version(session: Session, *, version: int) -> ModelVersion:
    """One version; NotFound when there is none."""
    model = stored.get(session, version=version)
    if model is None:
        raise NotFound(f"No model version {version}.")
    return model


def active_version(session: Session) -> ModelVersion:
    """The version every match uses; NotFound before ``matcher db upgrade`` stored one."""
    model = stored.active(session)
    if model is None:
        raise NotFound("No active model; run matcher db upgrade.")
    return model


def audit_events(session: Session, *, limit: int = 100) -> list[AuditEvent]:
    """The newest audit events first."""
    return stored.audit_events(session, limit=limit)


def active_weights(session: Session) -> WeightSet:
    """The weights every match uses (the shipped default if none was stored)."""
    model = stored.active(session)
    return as_weight_set(model) if model is not None else load_default()


def create_candidate(
    session: Session,
    *,
    weights: Mapping[str, Any],
    intercept: Any,
    note: str,
    actor: str,
    source: str = "manual",
    evaluation: dict[str, Any] | None = None,
) -> ModelVersion:
    """Store a new candidate version; it does nothing until activated."""
    checked = check_weights(weights, intercept)
    counters.bump(session, name=counters.MODELS)  # serialises version numbering
    model = ModelVersion(
        version=stored.next_version(session),
        status="candidate",
        source=source,
        created_at=utcnow(),
        created_by=actor,
        note=note,
        intercept=checked.intercept,
        weights=dict(checked.weights),
        evaluation=evaluation,
    )
    stored.add(session, model=model)
    stored.audit(
        session,
        actor=actor,
        action="model.create",
        subject=f"model:{model.version}",
        note=note,
        details={"source": source, "intercept": model.intercept, "weights": model.weights},
    )
    return model


def activate(session: Session, *, version: int, actor: str, note: str = "") -> ModelVersion:
    """Make ``version`` the one every match uses (an older one: a rollback)."""
    counters.bump(session, name=counters.MODELS)  # takes the lock before reading
    model = get_version(session, version=version)
    previous = stored.active(session)
    if previous is not None and previous.version == version:
        return model
    if previous is not None:
        previous.status = "retired"
        session.add(previous)
    model.status = "active"
    model.activated_at = utcnow()
    session.add(model)
    before = (
        {
            "version": previous.version,
            "intercept": previous.intercept,
            "weights": previous.weights,
        }
        if previous
        else None
    )
    changed = {
        name: {"from": (previous.weights.get(name) if previous else None), "to": value}
        for name, value in model.weights.items()
        if previous is None or previous.weights.get(name) != value
    }
    stored.audit(
        session,
        actor=actor,
        action="model.rollback" if previous and version < previous.version else "model.activate",
        subject=f"model:{version}",
        note=note,
        details={
            "from": before,
            "to_version": version,
            "changed_weights": changed,
            "intercept": {
                "from": previous.intercept if previous else None,
                "to": model.intercept,
            },
        },
    )
    return model
