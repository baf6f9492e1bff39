"""Settings read from ``MATCHER_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "MATCHER_"
# prometheus_client's own variable: the folder where every gunicorn worker writes its metrics.
METRICS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
WORKER_CLASSES = ("sync", "gthread")
STALE_POLICIES = ("flag", "rank_after", "exclude")
EXPLORATION_POLICIES = ("uniform", "uncertainty")  # as matcher.services.exploration.POLICIES


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
    # Bulk imports: NDJSON is read a line at a time, a JSON array whole (so its limit is lower);
    # at most this many profiles per import through the API or the admin page; the error report
    # lists the first max_import_errors problems and counts the rest.
    max_import_bytes: int = 64 << 20
    # How much of a refused body is read (and discarded) so the client can read the answer.
    drain_bytes: int = 16 << 20
    rate_limit: str = "6000 per minute"
    failed_key_limit: str = "20 per minute"
    # Who may read /metrics besides an admin API key: a scraper sending this bearer token.
    metrics_token: str | None = None
    # Set by ``matcher serve`` (``share_metrics_through``), not by hand.
    metrics_dir: str | None = None
    max_import_json_bytes: int = 16 << 20
    max_import_records: int = 10_000
    max_import_errors: int = 100
    exploration: float = 0.0
    # What an exploring match shows: a uniform sample of the eligible, or one aimed at the
    # therapists with the fewest rated referrals (matcher.services.exploration).
    exploration_policy: str = "uniform"
    log_level: str = "INFO"
    countries: tuple[str, ...] = ("US", "CA")
    crisis_resources: str | None = None
    wai_alert_below: float = 36.0
    alert_drop_share: float = 0.1
    login_rate_limit: str = "10 per minute"
    # Days a recorded intake is kept; ``matcher clients expire`` erases older ones (referrals
    # and ratings stay for learning, unlinked). None: kept until erased on request.
    intake_retention_days: int | None = None
    # Gunicorn: the worker class, threads per worker (1 with sync) and the bound on a request's
    # time. Gthread won bench/http_workers.py; 2 threads a worker rather than 4 cut its p99 at 16
    # connections from 28.5 to 21.4 ms at the same throughput (fewer requests sharing a worker's
    # GIL at once). 120 s leaves room for the largest import the API accepts (64 MiB, 72,000
    # profiles: 51 s on two busy cores).
    worker_class: str = "gthread"
    threads: int = 2
    timeout: int = 120
    # Reverse proxies in front of the service (nginx: 1) whose X-Forwarded-For/-Proto are
    # trusted; 0 trusts none. Behind a proxy with 0, every client has the proxy's address, so
    # one client's wrong sign-ins would use up every client's per-address allowance.
    proxies: int = 0
    # Availability freshness: an "accepting" not confirmed for this many days is stale; stale
    # therapists are flagged in reasons, ranked after fresh ones, or excluded. A therapist's
    # signed availability link works for this many days.
    stale_after_days: int = 45
    stale_policy: str = "flag"
    availability_link_days: int = 30

    def __post_init__(self) -> None:
        """Refuse serving settings gunicorn would silently reinterpret."""
        if self.worker_class not in WORKER_CLASSES:
            raise ValueError(f"MATCHER_WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}")
        if self.threads < 1 or (self.worker_class == "sync" and self.threads != 1):
            # Gunicorn runs gthread whenever threads > 1, whatever the class says.
            raise ValueError("MATCHER_THREADS must be 1 with sync workers, at least 1 with gthread")
        if self.max_import_records < 1 or self.max_import_errors < 1:
            raise ValueError("MATCHER_MAX_IMPORT_RECORDS and _ERRORS must be at least 1")
        if self.timeout < 1:
            raise ValueError("MATCHER_TIMEOUT must be at least 1 second")
        if self.proxies < 0:
            raise ValueError("MATCHER_PROXIES must be 0 or more")
        if self.intake_retention_days is not None and self.intake_retention_days < 1:
            raise ValueError("MATCHER_INTAKE_RETENTION_DAYS must be at least 1 day")
        if self.exploration_policy not in EXPLORATION_POLICIES:
            raise ValueError(
                f"MATCHER_EXPLORATION_POLICY must be one of {', '.join(EXPLORATION_POLICIES)}"
            )
        if self.stale_policy not in STALE_POLICIES:
            raise ValueError(f"MATCHER_STALE_POLICY must be one of {', '.join(STALE_POLICIES)}")
        if self.stale_after_days < 1 or self.availability_link_days < 1:
            raise ValueError(
                "MATCHER_STALE_AFTER_DAYS and MATCHER_AVAILABILITY_LINK_DAYS must be at least 1"
            )

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment."""
        env = os.environ.get
        worker_class = env(ENV_PREFIX + "WORKER_CLASS") or "gthread"
        return cls(
            database_url=env(ENV_PREFIX + "DATABASE_URL") or None,
            instance_path=env(ENV_PREFIX + "INSTANCE_PATH") or None,
            instrument_wording=env(ENV_PREFIX + "INSTRUMENT_WORDING") or None,
            secret_key=env(ENV_PREFIX + "SECRET_KEY") or secrets.token_hex(32),
            redis_url=env(ENV_PREFIX + "REDIS_URL") or None,
            max_body_bytes=_int("MAX_BODY_BYTES", 1 << 20),
            max_import_bytes=_int("MAX_IMPORT_BYTES", 64 << 20),
            drain_bytes=_int("DRAIN_BYTES", 16 << 20),
            rate_limit=env(ENV_PREFIX + "RATE_LIMIT") or "6000 per minute",
            failed_key_limit=env(ENV_PREFIX + "FAILED_KEY_LIMIT") or "20 per minute",
            metrics_token=env(ENV_PREFIX + "METRICS_TOKEN") or None,
            metrics_dir=env(METRICS_FOLDER) or None,
            max_import_json_bytes=_int("MAX_IMPORT_JSON_BYTES", 16 << 20),
            max_import_records=_int("MAX_IMPORT_RECORDS", 10_000),
            max_import_errors=_int("MAX_IMPORT_ERRORS", 100),
            exploration=min(max(_float("EXPLORATION", 0.0), 0.0), 1.0),
            exploration_policy=env(ENV_PREFIX + "EXPLORATION_POLICY") or "uniform",
            log_level=env(ENV_PREFIX + "LOG_LEVEL") or "INFO",
            countries=_codes("COUNTRIES") or ("US", "CA"),
            crisis_resources=env(ENV_PREFIX + "CRISIS_RESOURCES") or None,
            wai_alert_below=_float("WAI_ALERT_BELOW", 36.0),
            alert_drop_share=_float("ALERT_DROP_SHARE", 0.1),
            login_rate_limit=env(ENV_PREFIX + "LOGIN_RATE_LIMIT") or "10 per minute",
            intake_retention_days=_int("INTAKE_RETENTION_DAYS", 0) or None,
            worker_class=worker_class,
            threads=_int("THREADS", 2 if worker_class == "gthread" else 1),
            timeout=_int("TIMEOUT", 120),
            proxies=_int("PROXIES", 0),
            stale_after_days=_int("STALE_AFTER_DAYS", 45),
            stale_policy=env(ENV_PREFIX + "STALE_POLICY") or "flag",
            availability_link_days=_int("AVAILABILITY_LINK_DAYS", 30),
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


def share_metrics_through(folder: Path | None) -> None:
    """Tell prometheus_client, before it is first imported, where every worker's metrics go."""
    if folder is None:
        os.environ.pop(METRICS_FOLDER, None)
    else:
        os.environ[METRICS_FOLDER] = str(folder)
