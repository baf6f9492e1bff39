"""The exposure audit's chart: each therapist group's eligible share against its top-5 share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from matcher.web.admin.charts import PALETTE, Chart, _inline, render

KINDS = ["Share of eligible places", "Share of top-5 places"]


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _mean(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def group_label(group: Mapping[str, Any]) -> str:
    """A therapist or client group as a person reads it: "Gender: woman"."""
    dimension = str(group["dimension"]).replace("_", " ")
    return f"{dimension[:1].upper()}{dimension[1:]}: {str(group['value']).replace('_', ' ')}"


def exposure_audit(groups: Sequence[Mapping[str, Any]]) -> Chart:
    """Paired bars per therapist group: its share of eligible places and of top-5 places."""
    data = [
        {"group": group_label(g), "kind": kind, "share": round((share or 0.0) * 100, 2)}
        for g in groups
        for kind, share in zip(KINDS, (g["eligible_share"], g["top5_share"]), strict=True)
    ]
    order = [group_label(g) for g in groups]
    chart = (
        alt.Chart(_inline(data))
        .mark_bar()
        .encode(
            y=alt.Y("group:N", sort=order, title=None),
            x=alt.X("share:Q", title="Share (%)"),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=KINDS, range=PALETTE[:2]),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
            yOffset=alt.YOffset("kind:N", sort=KINDS),
        )
        .properties(width=420, height=alt.Step(9))
    )
    rows = [
        [
            group_label(g),
            str(g["eligible_slots"]),
            _share(g["eligible_share"]),
            str(g["top5_slots"]),
            _share(g["top5_share"]),
            "n/a" if g["exposure_ratio"] is None else f"{g['exposure_ratio']:.2f}",
            "yes" if g["under_four_fifths"] else "no",
            _mean(g["mean_alliance"]),
        ]
        for g in groups
    ]
    under = [group_label(g) for g in groups if g["under_four_fifths"]]
    said = (
        f" {len(under)} group{'s are' if len(under) != 1 else ' is'} under four fifths of its "
        f"eligible share: {', '.join(under)}."
        if under
        else " No group is under four fifths of its eligible share."
    )
    alt_text = (
        "Paired bars: each therapist group's share of eligible places and its share of top-5 "
        f"places in the recorded matches.{said} The table below gives every number."
    )
    return render(
        "exposure-audit",
        chart,
        caption="Eligible places and top-5 places by therapist group",
        alt_text=alt_text,
        columns=[
            "Group",
            "Eligible places",
            "Share of eligible",
            "Top-5 places",
            "Share of top 5",
            "Ratio",
            "Under 0.8",
            "Mean early alliance",
        ],
        rows=rows,
    )
