"""How the coordinator pages say things: money, times in the client's zone, alliance in words."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from matcher import vocabulary as vocab

CURRENCY_PREFIXES: Mapping[str, str] = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£"}
EN_DASH = "\u2013"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WAI_MIN, WAI_SPAN = 12, 48  # WAI-SR totals run 12..60; the score is (total - 12) / 48


def money(amount: float | None, currency: str | None) -> str:
    """``$120`` for US dollars, ``CA$120`` for Canadian dollars, ``120 CHF`` otherwise."""
    if amount is None:
        return "not listed"
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    prefix = CURRENCY_PREFIXES.get(currency or "")
    return f"{prefix}{number}" if prefix else f"{number} {currency or ''}".strip()


def wai_equivalent(score: float) -> int:
    """A 0..1 predicted alliance as the WAI-SR total (12..60) a clinician knows."""
    return round(WAI_MIN + WAI_SPAN * score)


def labels(codes: Iterable[str], table: Mapping[str, str]) -> str:
    """Codes as their labels, comma separated."""
    return ", ".join(table.get(code, code.replace("_", " ")) for code in codes) or "none listed"


def language_labels(codes: Iterable[str]) -> str:
    """ISO 639-1 codes as language names."""
    return labels(codes, vocab.languages())


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def windows_in_zone(
    windows: Iterable[Mapping[str, Any]],
    therapist_zone: str,
    client_zone: str | None,
    *,
    now: datetime | None = None,
) -> list[str]:
    """A therapist's weekly windows read in the client's zone this week, like "Tue 18:00-21:00"."""
    now = now or datetime.now(UTC)
    monday = (now - timedelta(days=now.weekday())).date()
    source, target = _zone(therapist_zone), _zone(client_zone or therapist_zone)
    shown = []
    for window in windows:
        day = vocab.DAYS.index(window["day"])
        start = _at(monday + timedelta(days=day), window["start"], source).astimezone(target)
        end = _at(monday + timedelta(days=day), window["end"], source).astimezone(target)
        end_text = "24:00" if end.time() == time(0) and end > start else f"{end:%H:%M}"
        shown.append(f"{DAY_NAMES[start.weekday()]} {start:%H:%M}{EN_DASH}{end_text}")
    return shown


def _at(day: date, clock: str, zone: zoneinfo.ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hours, minutes=minutes)


def insurance_labels(codes: Iterable[str]) -> str:
    """Insurance plan codes as names (the vocabulary's, else the code in title case)."""
    named: Mapping[str, str] = getattr(vocab, "INSURANCE", {})
    return ", ".join(named.get(code) or code.replace("_", " ").title() for code in codes) or (
        "none listed"
    )
