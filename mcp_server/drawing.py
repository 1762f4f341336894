"""Drawing a price chart as a PNG: candles or closes, lines over them, volume below.

matplotlib is imported on the first chart, never at start: it and what it pulls in (numpy,
fonts, pillow) would raise an idle server's memory for a tool most sessions never call
(tests/test_lazy_imports.py holds the start path to that). It draws through its Agg canvas on a
`Figure` of its own, never pyplot: no global figure state, so charts may render in worker
threads side by side. Candles, wicks and volume bars are three collections, not one patch per
bar, which keeps five years (about 1,200 bars) well under a second (bench/chart.py).

The image's text is ASCII: the server ships no CJK font, and a missing glyph would draw a box;
names in Chinese go in the caption beside the image.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

UP, DOWN = "#e03030", "#1f9a4c"  # A-share colours: red rises, green falls
CLOSE_LINE = "#1f4e9c"
WIDTH, HEIGHT, DPI = 10.0, 6.0, 100  # inches at DPI: 1000 x 600 pixels
_TICKS = 8
VOLUME_SCALE = 10_000  # the volume panel counts in 10k lots: five digits at most, no offset text


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]  # one per bar; None where undefined (an MA's first bars)
    color: str
    about: str = ""  # what the line is, for the caption


@dataclass(frozen=True)
class Picture:
    title: str
    dates: Sequence[str]  # YYYY-MM-DD, one per bar, oldest first
    open: Sequence[float]
    high: Sequence[float]
    low: Sequence[float]
    close: Sequence[float]
    volume: Sequence[float]
    kind: str  # kline (candles) or line (closes)
    price_label: str
    volume_label: str
    lines: Sequence[Line] = field(default_factory=tuple)


def _nan(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def render(picture: Picture) -> bytes:
    """The chart as PNG bytes (blocking, CPU-bound: run it in a worker thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
    price = figure.add_subplot(grid[0])
    volume = figure.add_subplot(grid[1], sharex=price)
    n = len(picture.dates)
    rising = [c >= o for o, c in zip(picture.open, picture.close, strict=True)]
    colors = [UP if r else DOWN for r in rising]
    half = 0.35
    if picture.kind == "kline":
        wicks = [((i, lo), (i, hi)) for i, (lo, hi) in enumerate(zip(picture.low, picture.high, strict=True))]
        price.add_collection(LineCollection(wicks, colors=colors, linewidths=0.7))
        bodies = [
            ((i - half, o), (i - half, c), (i + half, c), (i + half, o))
            for i, (o, c) in enumerate(zip(picture.open, picture.close, strict=True))
        ]
        price.add_collection(PolyCollection(bodies, facecolors=colors, edgecolors=colors, linewidths=0.3))
        price.set_ylim(min(picture.low) * 0.98, max(picture.high) * 1.02)
    else:
        price.plot(range(n), picture.close, color=CLOSE_LINE, linewidth=1.2, label="close")
    for line in picture.lines:
        price.plot(range(n), _nan(line.values), color=line.color, linewidth=1.4, label=line.label)
    scaled = [v / VOLUME_SCALE for v in picture.volume]
    bars = [((i - half, 0), (i - half, v), (i + half, v), (i + half, 0)) for i, v in enumerate(scaled)]
    volume.add_collection(PolyCollection(bars, facecolors=colors, edgecolors="none"))
    volume.set_ylim(0, max(scaled, default=1) * 1.1 or 1)
    price.set_xlim(-1, n)
    price.set_title(picture.title, fontsize=11, loc="left")
    price.set_ylabel(picture.price_label)
    volume.set_ylabel(picture.volume_label)
    price.grid(True, alpha=0.25)
    volume.grid(True, alpha=0.25)
    if picture.lines or picture.kind == "line":
        price.legend(loc="upper left", fontsize=9, frameon=False)
    step = max(1, n // _TICKS)
    ticks = [i for i in range(0, n, step) if i + step // 2 < n or i == 0]  # no label cut by the right edge
    volume.set_xticks(ticks, [picture.dates[i] for i in ticks], fontsize=8)
    price.tick_params(labelbottom=False)
    figure.subplots_adjust(left=0.08, right=0.97, top=0.94, bottom=0.07)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
