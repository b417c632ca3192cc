"""Geometry of the charts the pages draw as inline SVG: plain numbers in, coordinates out, no Django."""

from typing import Any

CHART_WIDTH = 720
CHART_LABEL_WIDTH = 200
CHART_ROW = 30
CHART_PAD = 20
# The agreement chart's labels are field names, longer than model names.
ALPHA_LABEL_WIDTH = 230
ALPHA_PAD = 24


def leaderboard_chart(ratings: list[dict]) -> dict[str, Any]:
    """Geometry of a dot-and-whisker chart of Elo ratings with their CIs, for an inline SVG.

    Ratings without a finite value are listed with their status instead of a dot; an unbounded side
    of an interval runs to the plot's edge with an open end."""
    finite = [
        v for r in ratings for v in (r.get("rating"), r.get("ci_low"), r.get("ci_high")) if isinstance(v, int | float)
    ]
    low, high = (min(finite), max(finite)) if finite else (900.0, 1100.0)
    span = max(high - low, 50.0)
    low, high = low - span * 0.08, high + span * 0.08
    step = next(s for s in (10, 25, 50, 100, 200, 500, 1000, 5000) if (high - low) / s <= 8)
    plot_left, plot_right = CHART_LABEL_WIDTH, CHART_WIDTH - CHART_PAD

    def x(value: float) -> float:
        return round(plot_left + (value - low) / (high - low) * (plot_right - plot_left), 1)

    rows = []
    for i, rating in enumerate(ratings):
        top = CHART_PAD + i * CHART_ROW
        row: dict[str, Any] = {"label": rating["model"], "mid": top + CHART_ROW / 2, "text_y": top + CHART_ROW / 2 + 4}
        if rating.get("rating") is None:
            row["status"] = rating.get("status", "undefined").replace("_", " ")
        else:
            row["x"] = x(rating["rating"])
            row["value"] = rating["rating"]
            ci_low, ci_high = rating.get("ci_low"), rating.get("ci_high")
            row["ci_x1"] = x(ci_low) if ci_low is not None else plot_left
            row["ci_x2"] = x(ci_high) if ci_high is not None else plot_right
            row["open_low"], row["open_high"] = ci_low is None, ci_high is None
        rows.append(row)
    height = CHART_PAD * 2 + CHART_ROW * max(len(rows), 1)
    ticks = []
    tick = (int(low // step) + 1) * step
    while tick < high:
        ticks.append({"x": x(tick), "label": f"{tick:g}"})
        tick += step
    return {
        "width": CHART_WIDTH,
        "height": height,
        "rows": rows,
        "ticks": ticks,
        "plot_left": plot_left,
        "label_x": plot_left - 8,
        "axis_y": height - CHART_PAD + 4,
        "tick_label_y": height - CHART_PAD + 18,
    }


def alpha_chart(rows: list[tuple[str, dict]]) -> dict:
    """Geometry of a horizontal bar chart of estimates with CI whiskers, for an inline SVG."""
    lows = [e[k] for _, e in rows for k in ("value", "ci_low") if e[k] is not None]
    low = min([0.0, *lows])
    low = -1.0 if low < -0.6 else (-0.5 if low < -0.2 else (-0.2 if low < 0 else 0.0))
    plot_left, plot_right = ALPHA_LABEL_WIDTH, CHART_WIDTH - ALPHA_PAD

    def x(value: float) -> float:
        return round(plot_left + (value - low) / (1 - low) * (plot_right - plot_left), 1)

    bars = []
    for i, (label, estimate) in enumerate(rows):
        top = ALPHA_PAD + i * CHART_ROW
        value = estimate["value"]
        bar = {"label": label, "y": top, "mid": top + CHART_ROW / 2, "text_y": top + CHART_ROW / 2 + 4}
        if value is None:
            bar["undefined"] = estimate["undefined"]
        else:
            start, end = sorted((x(0.0), x(value)))
            bar.update(
                value=value,
                bar_x=start,
                bar_width=max(end - start, 1),
                bar_y=top + 6,
                bar_height=CHART_ROW - 12,
                negative=value < 0,
            )
            if estimate["ci_low"] is not None:
                bar.update(ci_x1=x(estimate["ci_low"]), ci_x2=x(estimate["ci_high"]))
        bars.append(bar)
    height = ALPHA_PAD * 2 + CHART_ROW * len(rows)
    ticks = []
    step = 0.2 if low >= -0.2 else 0.5
    tick = low
    while tick <= 1.0001:
        ticks.append({"x": x(tick), "label": f"{tick:.1f}"})
        tick = round(tick + step, 6)
    return {
        "width": CHART_WIDTH,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "zero_x": x(0.0),
        "plot_left": plot_left,
        "plot_right": plot_right,
        "axis_y": height - ALPHA_PAD + 4,
        "tick_label_y": height - ALPHA_PAD + 18,
    }
