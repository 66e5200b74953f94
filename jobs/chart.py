"""The digest chart: one PNG that shows each service's score of this run against the previous run,
with the last runs as a sparkline, small enough for a Teams card (inline base64) and legible at
the ~800 px a Slack or Teams message shows.

matplotlib is imported inside the functions: it takes about half a second to import, and most
processes that import ``jobs`` never draw a chart. The figure is built with ``Figure`` and the Agg
canvas, never with pyplot, so nothing is registered globally (no figure to close, nothing to leak)
and drawing from a worker thread is safe. No rcParams are changed either: every font and size is
passed explicitly.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import TYPE_CHECKING, Any

from jobs.digest_model import Digest, FunctionScore, week

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe-Ito colours: told apart with every common colour-vision deficiency. The previous run also
# differs by shape (a diamond against a bar), so colour is never the only cue.
THIS_RUN = "#0072B2"  # blue
PREVIOUS_RUN = "#E69F00"  # orange
EARLIER_RUNS = "#999999"
INK = "#222222"
MUTED = "#666666"
GRID = "#DDDDDD"
BAND = "#F3F3F3"
FONT = "DejaVu Sans"  # ships with matplotlib, so the bytes do not depend on the machine's fonts

DPI = 100
WIDTH = 8.0  # inches: 800 px, about what Slack and Teams show without scaling
ROW = 0.34  # inches a service: room for a name on two lines at 9 pt
HEAD = 1.1  # title, subtitle and legend
TOP_TICKS = 0.2  # the 1-5 scale repeated above a long chart
TICKS = 0.3  # the 1-5 scale below
MARGIN = 0.12
NOTE_LINE = 0.17  # a line of the footnote
LEFT = 0.15
# Columns, in inches from the left: names | bars on 1-5 | value and change | sparkline.
BARS = (2.55, 5.85)
TREND = (6.85, 7.8)
NAME_CHARS = 34  # about what fits left of the bars at 9 pt
NOTE_CHARS = 125
TEAM_CHARS = 48  # leaves the title room for the period on one line
NOTE_LINES = 3
COLOURS = 64  # in the PNG's palette
# The previous run: an orange diamond with a dark edge, in the bars and in the sparklines alike.
DIAMOND: dict[str, Any] = {
    "marker": "D",
    "markersize": 7,
    "markerfacecolor": PREVIOUS_RUN,
    "markeredgecolor": INK,
    "markeredgewidth": 0.6,
}
# parse_math off: a "$" in a team or service name is a dollar sign, not the start of a formula.
TEXT: dict[str, Any] = {"fontfamily": FONT, "color": INK, "parse_math": False}
SMALL: dict[str, Any] = {"fontfamily": FONT, "color": MUTED, "parse_math": False}


def chart_png(digest: Digest) -> bytes | None:
    """The digest chart as PNG bytes, or None when no service has a score to show."""
    figure = build_figure(digest)
    if figure is None:
        return None
    from PIL import Image  # a dependency of matplotlib, which writes its own PNGs with it

    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)  # drawn by the Agg canvas that build_figure attached
    image = Image.frombytes("RGBA", figure.canvas.get_width_height(), raw.getvalue())
    # A full-colour PNG of 22 services is ~110 KB; the chart is a few flat colours plus the
    # anti-aliased edges of text, so a 64-colour palette looks the same at under a third of the
    # size (Teams carries the image inline, base64, in a card). No dithering: it would speckle the
    # flat areas and cost bytes. Pillow writes no date and no software chunk, so the same digest
    # gives the same bytes.
    palette = image.convert("RGB").quantize(
        COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def build_figure(digest: Digest) -> Figure | None:
    """The chart as a matplotlib Figure on the Agg canvas, or None when no service has a score."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shown = [s for s in digest.scores if s.mean is not None]
    if not shown:
        return None
    note = _note([s.name for s in digest.scores if s.mean is None], digest.min_responses)
    long = len(shown) > 10
    head = HEAD + (TOP_TICKS if long else 0.0)
    foot = MARGIN + len(note) * NOTE_LINE + TICKS
    height = round((head + len(shown) * ROW + foot) * DPI) / DPI  # whole pixels: the raw buffer's size
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)

    def top(inches: float) -> float:  # a figure y for a distance from the top edge
        return 1 - inches / height

    def columns(left: float, right: float) -> tuple[float, float, float, float]:
        return (left / WIDTH, foot / height, (right - left) / WIDTH, len(shown) * ROW / height)

    team = (
        digest.team_name if len(digest.team_name) <= TEAM_CHARS else digest.team_name[: TEAM_CHARS - 1] + "…"
    )
    title = f"{team} · PMO pulse, {week(digest.period_key)}"
    figure.text(LEFT / WIDTH, top(0.32), title, fontsize=14, fontweight="bold", **TEXT)
    # The counts in the words every other place uses (Turnout), so that the chart agrees with them.
    subtitle = f"Mean per service, 1 (poor) to 5 (excellent) · {digest.turnout.describe()}"
    figure.text(LEFT / WIDTH, top(0.56), subtitle, fontsize=9, **SMALL)
    # The week alone ("week 49", not "delivery/2026-W49"): the title names the team and the year,
    # and anything longer runs the legend into the trend column's heading.
    handles: list[Artist] = [Patch(facecolor=THIS_RUN, label=f"This run ({_short(digest.period_key)})")]
    if digest.previous_period:
        previous = _short(digest.previous_period)
        handles.append(Line2D([], [], linestyle="none", label=f"Previous run ({previous})", **DIAMOND))
    figure.legend(
        handles=handles,
        loc="center left",
        bbox_to_anchor=(BARS[0] / WIDTH - 0.012, top(0.86)),
        ncols=2,
        frameon=False,
        prop={"family": FONT, "size": 9},
        handlelength=1.2,
        columnspacing=1.6,
    )
    figure.text(TREND[0] / WIDTH, top(0.86) + 0.05 / height, "Last 4 runs", fontsize=9, va="bottom", **TEXT)

    _draw_bars(figure.add_axes(columns(*BARS)), shown, long)
    scale = _draw_trend(figure.add_axes(columns(*TREND)), shown)
    figure.text(TREND[0] / WIDTH, top(0.86) - 0.02 / height, scale, fontsize=7.5, va="top", **SMALL)

    for i, line in enumerate(reversed(note)):
        figure.text(LEFT / WIDTH, (MARGIN + i * NOTE_LINE) / height, line, fontsize=8, **SMALL)
    return figure


def _short(period_key: str) -> str:
    return week(period_key).split(" of ", 1)[0]


def _draw_bars(ax: Axes, shown: list[FunctionScore], long: bool) -> None:
    rows = list(range(len(shown)))
    # Bars start at 1, the lowest rating: a bar from 0 would make a 1 look like a score.
    ax.barh(rows, [(s.mean or 1.0) - 1 for s in shown], left=1, height=0.62, color=THIS_RUN, zorder=2)
    previous = [(s.previous_mean, i) for i, s in enumerate(shown) if s.previous_mean is not None]
    if previous:
        xs, ys = zip(*previous, strict=True)
        ax.plot(xs, ys, linestyle="none", zorder=3, **DIAMOND)
    ax.set_xlim(1, 5)
    ax.set_ylim(len(shown) - 0.5, -0.5)  # the digest's order, first at the top
    ax.set_xticks([1, 2, 3, 4, 5])
    ax.set_yticks(rows, [_wrap(s.name) for s in shown], parse_math=False)
    ax.tick_params(axis="y", length=0, pad=8, labelsize=9, labelcolor=INK, labelfontfamily=FONT)
    ax.tick_params(axis="x", length=0, labelsize=9, labelcolor=MUTED, labelfontfamily=FONT, labeltop=long)
    ax.grid(axis="x", color=GRID, linewidth=0.8, zorder=0)
    # Every other row on a faint band from the name to the sparkline, so the eye keeps its row
    # across the gap between the bars and the trend.
    left, right = (LEFT - BARS[0]) / (BARS[1] - BARS[0]), (TREND[1] - BARS[0]) / (BARS[1] - BARS[0])
    for i in rows[1::2]:
        ax.axhspan(i - 0.5, i + 0.5, left, right, color=BAND, zorder=-1, clip_on=False, linewidth=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    # The value and its change go in a column right of the axis, not at the bar's end, where they
    # would collide with the previous run's diamond whenever the two scores are close.
    for i, s in enumerate(shown):
        at: dict[str, Any] = {"xycoords": ("axes fraction", "data"), "va": "center", "annotation_clip": False}
        ax.annotate(f"{s.mean:.1f}", (1.02, i), fontsize=9.5, fontweight="bold", **at, **TEXT)
        ax.annotate(_change(s), (1.12, i), fontsize=8.5, **at, **SMALL)


def _draw_trend(ax: Axes, shown: list[FunctionScore]) -> str:
    """One sparkline a row, this run on the right; returns the scale's caption. The rows share a
    scale zoomed to the scores at hand (on 1-5, a row 25 px high would flatten every change), and
    the caption says which, so nobody reads it as 1-5."""
    from matplotlib.collections import LineCollection

    lo, hi = _trend_scale(shown)
    half = 0.32  # of a row: the sparkline's half-height, leaving a gap between rows

    def y_of(row: int, value: float) -> float:
        return row + half - 2 * half * (value - lo) / (hi - lo)

    segments: list[list[tuple[float, float]]] = []
    dots: dict[str, list[tuple[float, float]]] = {"this": [], "previous": [], "earlier": []}
    for row, s in enumerate(shown):
        points = s.trend or (s.mean,)
        start = 4 - len(points)  # right-aligned: a column is the same run in every row
        for k, value in enumerate(points):
            if value is None:
                continue
            xy = (start + k, y_of(row, value))
            kind = "this" if k == len(points) - 1 else "previous" if k == len(points) - 2 else "earlier"
            dots[kind].append(xy)
            following = points[k + 1] if k + 1 < len(points) else None
            if following is not None:  # a withheld run leaves a gap, not a line across it
                segments.append([xy, (start + k + 1, y_of(row, following))])
    ax.add_collection(LineCollection(segments, colors=EARLIER_RUNS, linewidths=1.2, zorder=1))
    styles: tuple[tuple[str, dict[str, Any]], ...] = (
        ("earlier", {"marker": "o", "markersize": 3.5, "color": EARLIER_RUNS}),
        ("previous", {**DIAMOND, "markersize": 4.5, "markeredgewidth": 0.4}),
        ("this", {"marker": "o", "markersize": 5, "color": THIS_RUN}),
    )
    for kind, style in styles:
        if dots[kind]:
            xs, ys = zip(*dots[kind], strict=True)
            ax.plot(xs, ys, linestyle="none", zorder=2, **style)
    ax.set_xlim(-0.3, 3.3)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.axis("off")
    return f"shared scale {lo:.1f}–{hi:.1f}"


def _trend_scale(shown: list[FunctionScore]) -> tuple[float, float]:
    """Half-point bounds around every trend value, at least one point apart, within 1-5."""
    values = [v for s in shown for v in (s.trend or (s.mean,)) if v is not None]
    lo, hi = math.floor(min(values) * 2) / 2, math.ceil(max(values) * 2) / 2
    while hi - lo < 1:
        hi = min(5.0, hi + 0.5)
        if hi - lo < 1:
            lo = max(1.0, lo - 0.5)
    return lo, hi


def _change(s: FunctionScore) -> str:
    """The change against the previous run as the reply shows it, to one decimal; blank when the
    previous run has no score for the service."""
    if s.change is None:
        return ""
    step = round(s.change, 1)
    if step > 0:
        return f"▲ {step:.1f}"
    if step < 0:
        return f"▼ {-step:.1f}"
    return "= 0.0"


def _wrap(name: str) -> str:
    """At most two lines; longer names are cut with an ellipsis rather than overlap the next row."""
    lines = textwrap.wrap(name, NAME_CHARS, max_lines=2, placeholder="…")
    return "\n".join(lines) or name


def _note(hidden: list[str], min_responses: int) -> list[str]:
    if not hidden:
        return []
    text = f"Not shown, fewer than {min_responses} ratings: {', '.join(hidden)}."
    return textwrap.wrap(text, NOTE_CHARS, max_lines=NOTE_LINES, placeholder=" …")
