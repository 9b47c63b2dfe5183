"""The labs' charts: SVG files drawn with matplotlib, the same bytes for the same figures.

Only matplotlib's object API is used (no pyplot, so no global figure state and
no GUI backend); text stays text in the SVG (``svg.fonttype = none``), so a
chart is small, searchable and sharp at any size, and the ids and the date
that would change every run are fixed, so a chart drawn again from the same
rows is the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "sns-lab",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)


def _save(figure: Figure, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    return path


def bars(
    path: Path | str,
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    unit: str,
    log: bool = False,
    colors: Sequence[str] | None = None,
    legend: dict[str, str] | None = None,
) -> Path:
    """Horizontal bars: one group per label, one bar per series (a missing value is no bar).

    ``colors`` colours a single series bar by bar (say, before and after a fix),
    and ``legend`` names those colours.
    """
    height = max(2.0, 0.32 * len(labels) * max(1, len(series)) + 1.2)
    figure = Figure(figsize=(8, height))
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    for n, (name, values) in enumerate(series.items()):
        ys = [i + (n - (len(series) - 1) / 2) * width for i in range(len(labels))]
        drawn = [(y, v) for y, v in zip(ys, values, strict=True) if v is not None]
        if not drawn:
            continue
        ys, vs = zip(*drawn, strict=True)
        color = None
        if colors is not None and len(series) == 1:
            color = [c for c, v in zip(colors, values, strict=True) if v is not None]
        rects = axes.barh(
            ys, vs, height=width * 0.9, label=name if len(series) > 1 else None, color=color
        )
        axes.bar_label(rects, labels=[_short(v) for v in vs], padding=2, fontsize=7)
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()  # the first label on top, as in the table
    axes.set_xlabel(unit + (" (log scale)" if log else ""))
    if log:
        axes.set_xscale("log")
    axes.set_title(title, loc="left")
    if len(series) > 1:
        axes.legend(loc="lower right", fontsize=7)
    elif legend:
        handles = [Patch(color=color, label=label) for label, color in legend.items()]
        axes.legend(handles=handles, loc="lower right", fontsize=7)
    axes.grid(axis="y", visible=False)
    return _save(figure, path)


def lines(
    path: Path | str,
    *,
    title: str,
    series: dict[str, Sequence[tuple[float, float]]],
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """One line per series over ``(x, y)`` points, marked, optionally on log axes."""
    figure = Figure(figsize=(8, 4.2))
    axes = figure.add_subplot()
    for name, points in series.items():
        points = [(x, y) for x, y in points if y is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", markersize=3.5, label=name)
    if logx:
        axes.set_xscale("log")
    if logy:
        axes.set_yscale("log")
    axes.set_xlabel(xlabel + (" (log scale)" if logx else ""))
    axes.set_ylabel(ylabel + (" (log scale)" if logy else ""))
    axes.set_title(title, loc="left")
    axes.legend(fontsize=7)
    return _save(figure, path)


BEFORE, AFTER = "#d62728", "#2ca02c"  # a pitfall's bar, and its fix's


def _short(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
