"""Charts drawn with matplotlib (its Agg backend: no display): bars and a line over days.

Used by the report document (PNG images) and the monitoring pages (SVG). Texts are drawn
as paths in SVG, so a label from a definition or a sample can never become markup. Every
caller shows the numbers a chart was drawn from in a table beside it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

Format = Literal["png", "svg"]
MAX_BARS = 30  # a longer list is shown as its table only
BAR_COLOUR = "#1f5f8b"  # dark enough against white (WCAG non-text contrast)
_LABEL_LIMIT = 45
_EPOCH = date(1970, 1, 1).toordinal()


def _figure(width: float, height: float) -> Figure:
    """A figure of its own, drawn by the Agg canvas: no pyplot, whose global state is not
    safe across the worker's threads; matplotlib is imported on first use."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.fonttype"] = "path"
    figure = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(figure)
    return figure


def _number(value: float, comma: bool, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if comma else text


def _shorten(label: str) -> str:
    return label if len(label) <= _LABEL_LIMIT else label[: _LABEL_LIMIT - 1] + "…"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    comma: bool = True,
    percent: bool = True,
    fmt: Format = "png",
) -> bytes | None:
    """Horizontal bars, one per label, with their values written beside them (None: no
    bar); None when there is nothing to draw or too many bars to read."""
    if not labels or len(labels) > MAX_BARS or all(v is None for v in values):
        return None
    heights = [0.0 if value is None else float(value) for value in values]
    figure = _figure(6.3, 0.45 * len(labels) + 0.9)
    axes = figure.subplots()
    positions = list(range(len(labels)))[::-1]
    bars = axes.barh(positions, heights, color=BAR_COLOUR)
    axes.set_yticks(positions, [_shorten(label) for label in labels])
    suffix = "%" if percent else ""
    written = ["" if v is None else _number(v, comma) + suffix for v in values]
    axes.bar_label(bars, labels=written, padding=3, fontsize=8)
    top = max(heights, default=0.0)
    axes.set_xlim(0, max(100.0 if percent else top, top, 1.0) * 1.15)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    figure.tight_layout()
    return _save(figure, fmt)


def line_chart(
    days: Sequence[date], values: Sequence[float], *, fmt: Format = "svg"
) -> bytes | None:
    """A line over days (e.g. complete responses so far); None with fewer than two days."""
    if len(days) < 2:
        return None
    figure = _figure(6.3, 2.6)
    axes = figure.subplots()
    # matplotlib's day numbers (days since 1970-01-01), then the axis reads them as dates
    numbers = [float(day.toordinal() - _EPOCH) for day in days]
    axes.plot(numbers, list(values), color=BAR_COLOUR, linewidth=2, marker="o")
    axes.xaxis_date()
    axes.set_ylim(bottom=0)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _save(figure, fmt)


def _save(figure: Figure, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()
