"""Small pieces of plain English shared by the features' reasons."""

from __future__ import annotations

from collections.abc import Sequence

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
LISTED = 3  # a reason names at most this many items, then "and N more"


def lower_first(label: str) -> str:
    """'Depression' -> 'depression', but 'ADHD' stays 'ADHD'."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def listing(items: Sequence[str], word: str = "and", limit: int = LISTED) -> str:
    """'a', 'a and b', 'a, b and c'; past ``limit`` items, 'a, b, c and 2 more'."""
    if len(items) > limit:
        return f"{', '.join(items[:limit])} {word} {len(items) - limit} more"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def ordinal(position: int) -> str:
    """'first', 'second', ... for a 0-based position."""
    return ORDINALS[position] if position < len(ORDINALS) else f"number {position + 1}"


def choice(position: int, count: int) -> str:
    """'as you asked' for a single choice, else 'your second choice' and so on."""
    return "as you asked" if count == 1 else f"your {ordinal(position)} choice"
