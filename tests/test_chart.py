"""The digest chart: a small, deterministic PNG of the scores that may be shown, and nothing else."""

from __future__ import annotations

import gc
import hashlib
import struct
import subprocess
import sys
import weakref
from pathlib import Path

from jobs.chart import build_figure, chart_png
from jobs.digest_model import Digest, FunctionScore

ROOT = Path(__file__).resolve().parent.parent
NAMES = (
    "Governance",
    "Reporting",
    "Administration",
    "Risk management",
    "Communications",
    "PMO management",
    "Configuration management",
    "Resource management",
    "Change control",
    "Financial management",
    "Information management",
    "Issue management",
    "Planning",
    "Benefits management",
    "Quality management",
    "Stakeholder management",
    "Knowledge management",
    "Portfolio management",
    "Assurance",
    "Training and development",
    "Performance management",
    "Tools and methods",
)


def score(
    name: str,
    mean: float | None = 3.8,
    previous: float | None = 3.5,
    trend: tuple[float | None, ...] | None = None,
) -> FunctionScore:
    if trend is None:
        trend = (3.1, None, previous, mean)
    return FunctionScore(
        function_id=name.lower().replace(" ", "_"),
        name=name,
        ratings=9 if mean is not None else 2,
        not_used=1,
        mean=mean,
        distribution=(0, 1, 2, 4, 2) if mean is not None else None,
        previous_mean=previous,
        trend=trend,
    )


def digest(*scores: FunctionScore, team: str = "Delivery PMO", withheld: bool = False) -> Digest:
    return Digest(
        team_id="delivery",
        team_name=team,
        period_key="2025-W23",
        previous_period="2025-W21",
        invited=18,
        answered=14,
        min_responses=5,
        withheld=withheld,
        scores=scores,
        lowest=(),
        comments=(),
        comments_withheld=False,
    )


def many(count: int) -> Digest:
    """Every service with a full trend, long names included: the largest chart a digest draws."""
    scores = []
    for i, name in enumerate(NAMES[:count]):
        mean = round(1.3 + (i * 0.37) % 3.6, 2)
        previous = round(1.5 + (i * 0.53) % 3.4, 2)
        scores.append(score(name, mean, previous, (round(5 - mean / 2, 2), 2.25, previous, mean)))
    scores[2] = score("Portfolio, programme and project assurance across the whole organisation", 4.1, 3.9)
    return digest(*scores)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def drawn_text(d: Digest) -> list[str]:
    """Every string the chart draws: title, legend, names, values, footnote."""
    from matplotlib.text import Text

    figure = build_figure(d)
    assert figure is not None
    figure.canvas.draw()  # tick labels get their text when drawn
    return [t.get_text() for t in figure.findobj(Text) if t.get_visible() and t.get_text()]


def test_a_png_800_px_wide_that_grows_with_the_services() -> None:
    small = chart_png(many(3))
    large = chart_png(many(22))
    assert small is not None and large is not None
    (w3, h3), (w22, h22) = png_size(small), png_size(large)
    assert w3 == w22 == 800
    assert 200 <= h3 < 350
    assert h3 < h22 <= 950


def test_the_same_digest_gives_the_same_bytes_in_any_process() -> None:
    d = many(5)
    png = chart_png(d)
    assert png is not None and png == chart_png(d)
    # A fresh interpreter, which also shows that importing the module does not import matplotlib
    # and that drawing never goes through pyplot.
    script = (
        "import hashlib, sys\n"
        "import jobs.chart\n"
        "assert 'matplotlib' not in sys.modules\n"
        "from tests.test_chart import many\n"
        "png = jobs.chart.chart_png(many(5))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "print(hashlib.sha256(png).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == hashlib.sha256(png).hexdigest()


def test_no_chart_when_every_score_is_withheld() -> None:
    assert chart_png(digest()) is None
    hidden = digest(score("Governance", None, None, (None,)), score("Reporting", None, 3.2), withheld=True)
    assert chart_png(hidden) is None


def test_withheld_services_are_not_drawn_only_named_in_a_footnote() -> None:
    shown = (score("Governance", 3.8, 3.5), score("Reporting", 2.4, 2.9))
    with_hidden = digest(shown[0], score("Planning", None, 4.0), shown[1])
    text = drawn_text(with_hidden)
    assert "Planning" not in text
    assert "Not shown, fewer than 5 ratings: Planning." in text
    assert "Governance" in text and "Reporting" in text
    # Apart from the footnote, the chart is the one drawn without the withheld service.
    without = drawn_text(digest(*shown))
    assert [t for t in text if not t.startswith("Not shown")] == without
    assert not any(t.startswith("Not shown") for t in without)


def test_values_are_labelled_to_one_decimal_with_the_change() -> None:
    text = drawn_text(
        digest(score("Governance", 3.84, 3.5), score("Reporting", 2.4, 2.93), score("Planning", 3.0, None))
    )
    assert {"3.8", "▲ 0.3", "2.4", "▼ 0.5", "3.0"} <= set(text)
    assert "Delivery PMO · PMO pulse, week 23 of 2025" in text
    assert "Previous run (week 21)" in text


def test_22_services_stay_under_60_kb_for_a_teams_card() -> None:
    with_footnote = many(22)
    with_footnote = digest(*with_footnote.scores[:20], score("Assurance", None), score("Planning", None))
    for d in (many(22), with_footnote):
        png = chart_png(d)
        assert png is not None
        assert len(png) < 60_000, len(png)


def test_non_ascii_and_dollar_signs_in_names() -> None:
    d = digest(
        score("Gouvernance – équipe"),
        score("Budget $ and $ forecasts $\\frac"),
        team="Gouvernance – équipe",
    )
    png = chart_png(d)
    assert png is not None and png_size(png)[0] == 800
    text = drawn_text(d)
    assert "Gouvernance – équipe · PMO pulse, week 23 of 2025" in text
    assert "Gouvernance – équipe" in text
    assert "Budget $ and $ forecasts $\\frac" in text


def test_a_service_with_no_earlier_score_still_draws() -> None:
    d = digest(score("Governance", 4.0, None, (4.0,)), score("Reporting", 1.0, None, ()))
    text = drawn_text(d)
    assert "4.0" in text and "1.0" in text
    assert chart_png(d) is not None


def test_nothing_keeps_the_figure_alive() -> None:
    figure = build_figure(many(3))
    assert figure is not None
    alive = weakref.ref(figure)
    del figure
    gc.collect()
    assert alive() is None
