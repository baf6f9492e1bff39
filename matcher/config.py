"""Settings read from ``MATCHER_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "MATCHER_"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(ENV_PREFIX + name)
    return default if raw in (None, "") else int(raw)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(ENV_PREFIX + name)
    return default if raw in (None, "") else float(raw)


def _codes(name: str) -> tuple[str, ...]:
    raw = os.environ.get(ENV_PREFIX + name, "")
    return tuple(code.strip().upper() for code in raw.split(",") if code.strip())


@dataclass(frozen=True)
class Settings:
    """The service's configuration; every field has a ``MATCHER_<NAME>`` variable."""

    database_url: str | None = None
    instance_path: str | None = None
    instrument_wording: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    redis_url: str | None = None
    max_body_bytes: int = 1 << 20
    max_import_bytes: int = 64 << 20
    rate_limit: str = "600 per minute"
    exploration: float = 0.0
    log_level: str = "INFO"
    countries: tuple[str, ...] = ("US", "CA")
    worker_class: str = "sync"
    crisis_resources: str | None = None
    wai_alert_below: float = 36.0
    alert_drop_share: float = 0.1
    login_rate_limit: str = "10 per minute"

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment."""
        env = os.environ.get
        return cls(
            database_url=env(ENV_PREFIX + "DATABASE_URL") or None,
            instance_path=env(ENV_PREFIX + "INSTANCE_PATH") or None,
            instrument_wording=env(ENV_PREFIX + "INSTRUMENT_WORDING") or None,
            secret_key=env(ENV_PREFIX + "SECRET_KEY") or secrets.token_hex(32),
            redis_url=env(ENV_PREFIX + "REDIS_URL") or None,
            max_body_bytes=_int("MAX_BODY_BYTES", 1 << 20),
            max_import_bytes=_int("MAX_IMPORT_BYTES", 64 << 20),
            rate_limit=env(ENV_PREFIX + "RATE_LIMIT") or "600 per minute",
            exploration=min(max(_float("EXPLORATION", 0.0), 0.0), 1.0),
            log_level=env(ENV_PREFIX + "LOG_LEVEL") or "INFO",
            countries=_codes("COUNTRIES") or ("US", "CA"),
            worker_class=env(ENV_PREFIX + "WORKER_CLASS") or "sync",
            crisis_resources=env(ENV_PREFIX + "CRISIS_RESOURCES") or None,
            wai_alert_below=_float("WAI_ALERT_BELOW", 36.0),
            alert_drop_share=_float("ALERT_DROP_SHARE", 0.1),
            login_rate_limit=env(ENV_PREFIX + "LOGIN_RATE_LIMIT") or "10 per minute",
        )

    def resolved_database_url(self, instance_path: str | Path) -> str:
        """The database URL, defaulting to a SQLite file in the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(instance_path) / 'matcher.sqlite3'}"

    def flask_config(self) -> dict[str, Any]:
        """The part of the settings that Flask and its extensions read."""
        return {
            "SECRET_KEY": self.secret_key,
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "MATCHER_SETTINGS": self,
        }
