"""Charts for the console: one Vega-Lite spec each (Altair), rendered to SVG on the server.

vl-convert renders offline, in process, with no browser and no JavaScript on the page. Every
chart comes with a text alternative and its numbers as a table, for people who cannot see it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert as vlc
from markupsafe import Markup

from matcher.core.scoring import FEATURES

FONT = "Source Sans Pro Web, Helvetica Neue, Helvetica, Roboto, Arial, sans-serif"
INK = "#1b1b1b"
# USWDS blue and orange (colour-blind safe together), told apart by shape as well.
PALETTE = ["#005ea2", "#c05600", "#565c65"]
CONFIG: dict[str, Any] = {
    "font": FONT,
    "aria": False,  # the <svg> gets one accessible name; its marks stay out of the way
    "axis": {
        "labelFontSize": 14,
        "titleFontSize": 14,
        "labelLimit": 320,
        "labelColor": INK,
        "titleColor": INK,
        "titleFontWeight": 600,
    },
    "legend": {"labelFontSize": 13, "titleFontSize": 14, "labelColor": INK, "titleColor": INK},
    "header": {"labelFontSize": 14, "labelColor": INK, "titleFontSize": 14},
    "view": {"stroke": "#dfe1e2"},
}
_ROOT = re.compile(r"<svg\b")
# Vega gives mark groups ARIA graphics roles; inside one role="img" they are noise to axe and AT.
_INNER_ARIA = re.compile(r'\s(?:role="graphics-[a-z-]+"|aria-roledescription="[^"]*")')


@dataclass(frozen=True)
class Chart:
    """An SVG chart with its accessible name, caption, and its numbers as a table."""

    key: str
    caption: str
    alt: str
    svg: Markup
    columns: list[str]
    rows: list[list[str]]


@lru_cache(maxsize=64)
def _render(spec: str) -> str:
    """A Vega-Lite spec (JSON text) as SVG; the same spec is rendered once per process."""
    return str(vlc.vegalite_to_svg(spec))


def render(
    key: str,
    chart: alt.TopLevelMixin,
    *,
    caption: str,
    alt_text: str,
    columns: list[str],
    rows: list[list[str]],
) -> Chart:
    """Render ``chart`` and label its SVG as one image named by its text alternative."""
    spec = chart.to_dict()
    spec["config"] = CONFIG
    svg = _INNER_ARIA.sub("", _render(json.dumps(spec, sort_keys=True)))
    name = Markup.escape(alt_text)
    labelled = _ROOT.sub(f'<svg role="img" aria-label="{name}" focusable="false"', svg, count=1)
    titled = labelled.replace(">", f"><title>{name}</title>", 1)
    return Chart(key, caption, alt_text, Markup(titled), columns, rows)


def _inline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows as Vega-Lite inline data."""
    return {"values": rows}


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def weights_over_versions(versions: Sequence[Any], active: int) -> Chart:
    """Every weight across versions, one small panel per feature."""
    ordered = sorted(versions, key=lambda v: v.version)
    data = [
        {
            "version": f"v{v.version}",
            "feature": name,
            "weight": round(float(v.weights.get(name, 0.0)), 4),
            "in force": "In force" if v.version == active else "Other version",
        }
        for v in ordered
        for name in FEATURES
    ]
    order = [f"v{v.version}" for v in ordered]
    base = alt.Chart().encode(
        x=alt.X("version:O", sort=order, title="Version", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("weight:Q", title="Weight", scale=alt.Scale(zero=True)),
    )
    line = base.mark_line(color=PALETTE[2], strokeWidth=1.5)
    points = base.mark_point(size=70, filled=True).encode(
        color=alt.Color(
            "in force:N",
            scale=alt.Scale(domain=["In force", "Other version"], range=PALETTE[:1] + PALETTE[2:]),
            title=None,
            legend=alt.Legend(orient="top"),
        ),
        shape=alt.Shape(
            "in force:N",
            scale=alt.Scale(domain=["In force", "Other version"], range=["diamond", "circle"]),
            title=None,
        ),
    )
    chart = (
        alt.layer(line, points)
        .properties(width=150, height=90)
        .facet(
            facet=alt.Facet("feature:N", sort=list(FEATURES), title=None),
            columns=4,
            data=_inline(data),
        )
    )
    columns = ["Feature", *order]
    rows = [
        [name, *(f"{float(v.weights.get(name, 0.0)):.3f}" for v in ordered)] for name in FEATURES
    ]
    rows.append(["intercept", *(f"{v.intercept:.3f}" for v in ordered)])
    biggest = max(FEATURES, key=lambda n: max(float(v.weights.get(n, 0.0)) for v in ordered))
    count = f"{len(ordered)} version" + ("" if len(ordered) == 1 else "s")
    alt_text = (
        f"Small line charts, one per feature, of its weight in each of {count} "
        f"(v{ordered[0].version} to v{ordered[-1].version}); version {active} is in force. "
        f"The largest weight in any version is {biggest}. The table below gives every number."
    )
    return render(
        "weights-history",
        chart,
        caption="Every weight across versions",
        alt_text=alt_text,
        columns=columns,
        rows=rows,
    )


def intervals(evaluation: Mapping[str, Any], active: Mapping[str, float]) -> Chart:
    """Each learned weight with its uncertainty interval, beside the weight in force."""
    interval = evaluation.get("coef_interval") or {}
    data: list[dict[str, Any]] = []
    rows = []
    for name in FEATURES:
        found = interval.get(name) or {}
        learned = found.get("weight")
        low, high = found.get("low"), found.get("high")
        data.append(
            {
                "feature": name,
                "which": "Learned, with interval",
                "weight": learned,
                "low": low if low is not None else learned,
                "high": high if high is not None else learned,
            }
        )
        data.append({"feature": name, "which": "In force", "weight": active.get(name, 0.0)})
        rows.append(
            [name, _number(learned), _number(low), _number(high), _number(active.get(name, 0.0))]
        )
    kinds = ["Learned, with interval", "In force"]
    y = alt.Y("feature:N", sort=list(FEATURES), title=None)
    rule = (
        alt.Chart()
        .transform_filter(alt.datum.which == kinds[0])
        .mark_rule(color=PALETTE[0], strokeWidth=2)
        .encode(y=y, x=alt.X("low:Q", title="Weight"), x2="high:Q")
    )
    color = alt.Color(
        "which:N",
        scale=alt.Scale(domain=kinds, range=PALETTE[:2]),
        title=None,
        legend=alt.Legend(orient="top"),
    )
    shape = alt.Shape(
        "which:N", scale=alt.Scale(domain=kinds, range=["circle", "diamond"]), title=None
    )
    # The weight in force sits just below its row's interval, so neither hides the other.
    learned, in_force = (
        alt.Chart()
        .transform_filter(alt.datum.which == kind)
        .mark_point(size=90, filled=True, opacity=1, yOffset=offset)
        .encode(y=y, x="weight:Q", color=color, shape=shape)
        for kind, offset in zip(kinds, (0, 8), strict=True)
    )
    chart = alt.layer(rule, learned, in_force, data=_inline(data)).properties(width=520, height=330)
    level = float(evaluation.get("interval", 0.9)) * 100
    alt_text = (
        f"Dot plot of the {len(FEATURES)} weights: each learned weight as a circle with a line "
        f"for its {level:.0f}% uncertainty interval, and the weight in force as a diamond. "
        "The table below gives every number."
    )
    return render(
        "intervals",
        chart,
        caption=f"Learned weights with {level:.0f}% intervals, beside the weights in force",
        alt_text=alt_text,
        columns=["Feature", "Learned", "Interval low", "Interval high", "In force"],
        rows=rows,
    )


def calibration(evaluation: Mapping[str, Any]) -> Chart:
    """Predicted against observed early alliance by decile, held out, for both models."""
    names = {"learned": "Candidate (held out)", "active": "Model in force"}
    data = [
        {
            "model": names[model],
            "decile": row["decile"],
            "predicted": row["mean_predicted"],
            "observed": row["mean_observed"],
            "n": row["n"],
        }
        for model in names
        for row in (evaluation.get("calibration") or {}).get(model, [])
    ]
    values = [d[k] for d in data for k in ("predicted", "observed")] or [0.0, 1.0]
    low, high = min(values) - 0.02, max(values) + 0.02
    scale = alt.Scale(domain=[low, high], zero=False)
    diagonal = (
        alt.Chart(_inline([{"a": low}, {"a": high}]))
        .mark_line(color=PALETTE[2], strokeDash=[4, 4], clip=True)
        .encode(x=alt.X("a:Q", scale=scale), y=alt.Y("a:Q", scale=scale))
    )
    kinds = list(names.values())
    points = (
        alt.Chart(_inline(data))
        .mark_line(point=alt.OverlayMarkDef(size=70, filled=True))
        .encode(
            x=alt.X("predicted:Q", scale=scale, title="Mean predicted early alliance"),
            y=alt.Y("observed:Q", scale=scale, title="Mean observed early alliance"),
            color=alt.Color(
                "model:N",
                scale=alt.Scale(domain=kinds, range=PALETTE[:2]),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
            shape=alt.Shape(
                "model:N", scale=alt.Scale(domain=kinds, range=["circle", "diamond"]), title=None
            ),
            order="decile:Q",
        )
    )
    chart = alt.layer(diagonal, points).properties(width=420, height=360)
    rows = [
        [d["model"], str(d["decile"]), str(d["n"]), f"{d['predicted']:.3f}", f"{d['observed']:.3f}"]
        for d in data
    ]
    alt_text = (
        "Calibration plot: for each tenth of ratings by predicted score, the mean predicted "
        "against the mean observed early alliance, for the candidate (circles, predicted without "
        "each therapist's own ratings) and the model in force (diamonds). Points on the dashed "
        "diagonal are perfectly calibrated. The table below gives every number."
    )
    return render(
        "calibration",
        chart,
        caption="Calibration by decile of predicted score",
        alt_text=alt_text,
        columns=["Model", "Decile", "Ratings", "Mean predicted", "Mean observed"],
        rows=rows,
    )


def exposure(groups: Sequence[Any]) -> Chart:
    """Each therapist group's share of top-5 places under both models."""
    kinds = ["Model in force", "Candidate"]
    data = [
        {"group": f"{g.kind}: {g.group}", "model": model, "share": share * 100}
        for g in groups
        for model, share in zip(kinds, (g.active_share, g.candidate_share), strict=True)
    ]
    order = [f"{g.kind}: {g.group}" for g in groups]
    chart = (
        alt.Chart(_inline(data))
        .mark_bar()
        .encode(
            y=alt.Y("group:N", sort=order, title=None),
            x=alt.X("share:Q", title="Share of top-5 places (%)"),
            color=alt.Color(
                "model:N",
                scale=alt.Scale(domain=kinds, range=PALETTE[:2]),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
            yOffset=alt.YOffset("model:N", sort=kinds),
        )
        .properties(width=420, height=alt.Step(9))
    )
    rows = [
        [
            f"{g.kind}: {g.group}",
            str(g.therapists),
            f"{g.eligible_share:.1%}",
            f"{g.active_share:.1%}",
            f"{g.candidate_share:.1%}",
            f"{g.shift * 100:+.1f}",
        ]
        for g in groups
    ]
    moved = max(groups, key=lambda g: abs(g.shift), default=None)
    most = (
        f" The largest shift is {moved.kind.lower()} {moved.group!r}: "
        f"{moved.active_share:.1%} to {moved.candidate_share:.1%}."
        if moved is not None
        else ""
    )
    alt_text = (
        "Paired bars: each therapist group's share of top-5 places under the model in force "
        f"and under the candidate.{most} The table below gives every number."
    )
    return render(
        "exposure",
        chart,
        caption="Top-5 exposure by therapist group",
        alt_text=alt_text,
        columns=[
            "Group",
            "Therapists",
            "Share of eligible places",
            "Share of top 5, in force",
            "Share of top 5, candidate",
            "Shift (points)",
        ],
        rows=rows,
    )
