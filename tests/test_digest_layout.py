"""The digest's layout rules, checked on what each platform is sent (no network, no browser).

A digest is read in a Teams card 446 px wide, on a phone, in Slack's narrow sidebar and in the web
chat. The rules: no grid of many equal columns; every text wraps; no word (or detail held together
by no-break spaces) is wider than the space it has, at either width; no column, cell or element
left empty when scores are withheld; and the counts said the one way everywhere.

Widths are estimated, not measured: a character of Segoe UI (Teams' font) at the default size
(14 px) is taken as 7.5 px wide on average, bold as 8 px, Small (12 px) as 6.5 px, Large as 10 px.
That is wider than the true average of lower-case text (about 7 px at 14 px), so the estimate errs
towards saying a word does not fit. The card's padding is taken as 20 px a side and the space
between columns as 16 px, both more than Teams uses. ``make playground`` checks the real rendering
in the Agents Playground (docs/teams-playground.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.blocks import MAX_TEXT, render_blocks
from adapters.teams.cards import render_cards
from adapters.text import WIDTH, render
from adapters.web.html import render_html
from bot.reply import Reply
from jobs.digest import Digests, change, scorecard, spark
from jobs.digest_model import Digest, FunctionScore, Turnout
from knowledge.base import KnowledgeBase
from tests.test_slack_blocks import validated

# -- the estimate ---------------------------------------------------------------------------------

CARD_WIDTHS = {"Teams desktop": 446, "phone": 320}
CARD_PADDING = 20  # a side
COLUMN_SPACING = 16
PX_PER_CHAR = {"Default": 7.5, "Bolder": 8.0, "Small": 6.5, "Medium": 8.5, "Large": 10.0, "ExtraLarge": 12.0}
MAX_COLUMNS = 3
# Slack's sidebar, opened narrow, shows about 40 characters of a code block a line; the same
# bound is taken for any run of characters that cannot wrap.
SLACK_NARROW_CHARS = 40
# The web chat at its narrowest (a 320 px phone) has about 250 px inside a reply: 30 characters of
# the details' 0.85 rem text.
WEB_NARROW_CHARS = 30

NBSP = "\u00a0"
LONG_NAMES = (
    "Information and knowledge management",
    "Portfolio, programme and project assurance across the whole organisation",
    "Configuration management",
    "Interdepartmental coordination",  # one long word: 19 characters
    "Training and development",
    "Reporting",
    "Risk management",
    "Benefits management",
)


def function_score(n: int, name: str, *, withheld: bool = False, few: bool = False) -> FunctionScore:
    mean = None if withheld or few else round(1.4 + (n * 0.53) % 3.5, 2)
    previous = None if n == 3 else round(1.9 + (n * 0.41) % 3.0, 2)
    trend = (round(2 + n * 0.1, 2), None, previous, mean) if mean is not None else (None, None, None, None)
    return FunctionScore(
        function_id=f"f{n}",
        name=name,
        ratings=2 if few else 11 - n,
        not_used=n % 3,
        mean=mean,
        distribution=(1, 2, 3, 3, 2) if mean is not None else None,
        previous_mean=previous,
        trend=trend,
    )


def digest(*, withheld: bool) -> Digest:
    scores = tuple(
        function_score(n, name, withheld=withheld, few=(n == 5)) for n, name in enumerate(LONG_NAMES)
    )
    return Digest(
        team_id="delivery",
        team_name="Delivery and Portfolio Management Office",
        period_key="delivery/2026-W49",
        previous_period="delivery/2026-W48",
        invited=14 if not withheld else 3,
        reached=12 if not withheld else 1,
        answered=11 if not withheld else 1,
        min_responses=5,
        withheld=withheld,
        scores=scores,
        lowest=() if withheld else ("f2", "f0"),
        comments=(),
        comments_withheld=True,
    )


@pytest.fixture(params=[False, True], ids=["scores shown", "scores withheld"])
def shown(request: pytest.FixtureRequest, kb: KnowledgeBase) -> tuple[Digest, Reply]:
    built = digest(withheld=request.param)
    # The reply reads only the knowledge base: no store or teams file is needed to word it.
    return built, Digests(None, None, kb).reply(built)  # type: ignore[arg-type]


# -- Teams ------------------------------------------------------------------------------------------


def walk(element: Any) -> Iterator[dict[str, Any]]:
    if isinstance(element, dict):
        yield element
        for value in element.values():
            yield from walk(value)
    elif isinstance(element, list):
        for value in element:
            yield from walk(value)


def tokens(text: str) -> list[str]:
    """What cannot wrap: runs of characters between ordinary spaces (a no-break space holds)."""
    return re.split(r"[ \t\n\u200b]+", text.replace("\u200b", ""))


def px(text: str, block: dict[str, Any]) -> float:
    size = block.get("size", "Default")
    per = PX_PER_CHAR[size] if size != "Default" else PX_PER_CHAR[block.get("weight", "Default")]
    return len(text) * per


def widest_token(block: dict[str, Any]) -> float:
    return max(px(token, block) for token in tokens(block["text"]))


def natural(block: dict[str, Any]) -> float:
    """The width a TextBlock takes unwrapped (its widest line)."""
    return max(px(line, block) for line in block["text"].split("\n"))


def column_blocks(column: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in walk(column["items"]) if e.get("type") == "TextBlock"]


def scores_part(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if e.get("type") == "Container"]


def test_teams_card_follows_the_layout_rules(shown: tuple[Digest, Reply]) -> None:
    built, reply = shown
    cards = render_cards(reply)
    elements = [e for card in cards for e in walk(card["body"])]
    column_sets = [e for e in elements if e.get("type") == "ColumnSet"]

    # 1. No grid: no ColumnSet of more than three columns, no Table or FactSet at all.
    assert all(len(cs["columns"]) <= MAX_COLUMNS for cs in column_sets)
    assert not [e for e in elements if e.get("type") in ("Table", "FactSet")]
    # 2. Every TextBlock wraps, and none is empty.
    blocks = [e for e in elements if e.get("type") == "TextBlock"]
    assert blocks and all(b.get("wrap") is True and b["text"].strip() for b in blocks)
    # 3. Columns are "auto" or "stretch", never a fixed or weighted width, and none is empty.
    for cs in column_sets:
        assert all(c["width"] in ("auto", "stretch") for c in cs["columns"])
        assert all(column_blocks(c) for c in cs["columns"])
        assert [c["width"] for c in cs["columns"]].count("stretch") == 1
    for name, width in CARD_WIDTHS.items():
        inner = width - 2 * CARD_PADDING
        # 4. Beside its auto columns, the stretch column still has room for its widest word.
        for cs in column_sets:
            autos = [c for c in cs["columns"] if c["width"] == "auto"]
            taken = sum(max(natural(b) for b in column_blocks(c)) for c in autos)
            taken += COLUMN_SPACING * (len(cs["columns"]) - 1)
            (stretch,) = [c for c in cs["columns"] if c["width"] == "stretch"]
            room = inner - taken
            for block in column_blocks(stretch):
                assert widest_token(block) <= room, (name, block["text"], room)
        # 5. Anywhere else, no word or held-together detail is wider than the card.
        for block in blocks:
            assert widest_token(block) <= inner, (name, block["text"])

    items = scores_part(cards[0]) if len(cards) == 1 else [c for card in cards for c in scores_part(card)]
    assert len(items) == len(built.scores)
    scored = [s for s in built.scores if s.mean is not None]
    if built.withheld:
        # 6. Withheld: no score, change or trend anywhere, and no column to hold them.
        assert column_sets == []
        text = " ".join(b["text"] for b in blocks)
        assert "trend" not in text and "▲" not in text and "▼" not in text
        assert not re.search(r"\b[1-5]\.\d\b", text)
    else:
        # 6. One ColumnSet per scored service (name, score, change), none for one without a score.
        assert len(column_sets) == len(scored)
        for cs, score in zip(column_sets, scored, strict=True):
            texts = [column_blocks(c)[0]["text"] for c in cs["columns"]]
            assert texts[:2] == [score.name, f"{score.mean:.1f}"]
            assert texts[2:] == ([change(score.change)] if score.change is not None else [])
    # 7. The counts, said the shared way.
    assert Turnout.count(built.invited, built.reached or 0, built.answered).sentence() in blocks[1]["text"]


def test_teams_change_is_coloured_but_not_only_by_colour() -> None:
    reply = Reply("t", scorecards=(scorecard(digest(withheld=False)),))
    changes = [
        cs["columns"][2]["items"][0]
        for card in render_cards(reply)
        for cs in walk(card["body"])
        if cs.get("type") == "ColumnSet" and len(cs["columns"]) == 3
    ]
    assert changes
    for block in changes:
        arrow = block["text"][0]
        assert arrow in "▲▼="
        assert block["color"] == {"▲": "Good", "▼": "Attention", "=": "Default"}[arrow]


# -- Slack ----------------------------------------------------------------------------------------


def slack_texts(messages: list[list[dict[str, Any]]]) -> list[str]:
    out = []
    for blocks in messages:
        for block in blocks:
            if block["type"] == "section":
                out.append(block["text"]["text"])
                assert "fields" not in block  # side-by-side fields squeeze in a sidebar
            elif block["type"] == "context":
                assert len(block["elements"]) <= 10
                out.extend(e["text"] for e in block["elements"] if "text" in e)
    return out


def test_slack_blocks_follow_the_layout_rules(shown: tuple[Digest, Reply]) -> None:
    built, reply = shown
    messages = validated(render_blocks(reply))  # Block Kit's own limits, through slack_sdk
    texts = slack_texts(messages)
    assert all(len(text) <= MAX_TEXT for text in texts)
    joined = "\n".join(texts)
    # No code block: a fixed-width grid keeps its width and scrolls sideways in a narrow sidebar.
    assert "```" not in joined
    # Nothing that cannot wrap is wider than the sidebar.
    assert max(len(token) for text in texts for token in tokens(text)) <= SLACK_NARROW_CHARS
    # One section and one context a service: the name first, in bold.
    names = [t for t in texts if t.startswith("*") and any(t.startswith(f"*{s.name}*") for s in built.scores)]
    assert len(names) == len(built.scores)
    if built.withheld:
        assert all(t.count("*") == 2 for t in names)  # the name alone: no score beside it
        assert "trend" not in joined and not re.search(r"\b[1-5]\.\d\b", joined)
    else:
        assert re.search(r"\*\d\.\d\* [▲▼=]\d\.\d", joined)
    assert Turnout.count(built.invited, built.reached or 0, built.answered).sentence() in joined


# -- web chat -------------------------------------------------------------------------------------


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.found: list[tuple[str, str, str]] = []  # tag, class, text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br", "img", "input"):
            self.stack.append((tag, dict(attrs).get("class") or ""))
            self.found.append((tag, self.stack[-1][1], ""))

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack:
            tag, cls = self.stack[-1]
            self.found.append((tag, cls, data))


def test_web_html_follows_the_layout_rules(shown: tuple[Digest, Reply]) -> None:
    built, reply = shown
    page = render_html(reply)
    parsed = Elements()
    parsed.feed(page)
    classes = [cls for _, cls, text in parsed.found if not text]
    assert "<table" not in page  # a list, not a grid
    assert classes.count("score-row") == len(built.scores)
    assert classes.count("score-name") == len(built.scores)
    details = [text for tag, cls, text in parsed.found if tag == "span" and text and not cls]
    assert details and max(len(d) for d in details) <= WEB_NARROW_CHARS
    if built.withheld:
        assert "score-figures" not in classes and "score-value" not in classes and "score-change" not in page
    else:
        assert classes.count("score-value") == sum(s.mean is not None for s in built.scores)
    # No element is left empty.
    assert not re.search(r"<(span|p|li)[^>]*></\1>", page)
    css = (Path(__file__).parent.parent / "adapters/web/static/chat.css").read_text(encoding="utf-8")
    rule = css[css.index(".score-details span") :]
    assert "white-space: nowrap" in rule[: rule.index("}")]
    name = css[css.index(".score-name {") :]
    assert "anywhere" not in name[: name.index("}")] and "break-all" not in name[: name.index("}")]


# -- text -----------------------------------------------------------------------------------------


def test_text_keeps_to_its_width_and_details_whole(shown: tuple[Digest, Reply]) -> None:
    built, reply = shown
    out = render(reply)
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    assert NBSP not in out
    flat = " ".join(out.split())
    for score in built.scores:
        # Its score right after its name, or nothing at all after it but its details.
        after = flat[flat.index(f"• {score.name}") + len(score.name) + 2 :]
        if score.mean is None:
            assert re.match(r" (trend|no score|\d+ rated)", after), after[:40]
        else:
            assert after.startswith(f" {score.mean:.1f}")
    assert Turnout.count(built.invited, built.reached or 0, built.answered).sentence() in out.replace(
        "\n", " "
    )


# -- pieces ---------------------------------------------------------------------------------------


def test_change_and_trend_are_short_and_on_one_scale() -> None:
    assert [change(v) for v in (0.44, -0.2, 0.01, None)] == ["▲0.4", "▼0.2", "=0.0", ""]
    assert spark([1.0, None, 3.0, 5.0]) == "trend ▁·▅█ 1.0→5.0"
    assert spark([None, None, 3.2]) is None  # one score is no trend
    assert max(len(change(v / 10)) for v in range(-40, 41)) == 4


def test_turnout_is_worded_once() -> None:
    got = Turnout.count(invited=3, delivered=1, answered=1)
    assert got.sentence() == "Invited 3, reached 1, answered 1 (100% of those reached)."
    assert (got.not_reached, got.response_rate) == (2, 1.0)
    # Someone who answered was reached, whatever the outbox says; nobody answers more than invited.
    assert Turnout.count(invited=3, delivered=0, answered=2) == Turnout(3, 2, 2)
    assert Turnout.count(invited=0, delivered=0, answered=0).describe() == "invited 0, reached 0, answered 0"


# -- counts agree everywhere ----------------------------------------------------------------------


def test_close_status_and_digest_give_the_same_counts(
    database_url: str, tmp_path: Path, kb: KnowledgeBase
) -> None:
    """Issue 16: ``survey close`` said "1 of 3 answered" and the digest "1 of 1 answered (100%)".
    Three invited; one invitation delivered, one person without the app, one who blocked the bot;
    the one reached answers."""
    from bot.storage import Storage
    from bot.storage.surveys import INACTIVE, SENT, UNKNOWN, Recipient, SurveyStore
    from jobs.config import TeamsFile
    from jobs.desk import SurveyDesk
    from jobs.surveys import Surveys

    services = ("reporting", "risk_management")
    path = tmp_path / "pmo.yaml"
    path.write_text(
        "teams:\n  - id: t\n    name: Delivery PMO\n    platform: teams\n    members: [A, B, C]\n"
        f"    services: [{', '.join(services)}]\n",
        encoding="utf-8",
    )
    teams = TeamsFile(path, kb.functions.keys())
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with Storage(database_url) as storage:
        storage.upgrade()
        store = SurveyStore(storage)
        people = [Recipient(p, "tenant", "teams") for p in ("A", "B", "C")]
        run, _ = store.open_run(
            "t", "t/W45", "teams", services, opened, None, opened + timedelta(hours=72), people
        )
        claimed = store.claim("w", opened, opened + timedelta(seconds=60), 3, ("teams",))
        for message, state in zip(
            sorted(claimed, key=lambda m: m.recipient), (SENT, UNKNOWN, INACTIVE), strict=True
        ):
            store.finish(message.id, "w", state, opened)
        store.record_answer(run.id, "hash-a", {"reporting": 4, "risk_management": 3})
        store.close_run(run.id, opened + timedelta(hours=72))

        surveys = Surveys(store, teams, kb, {}, b"k" * 32, lambda: opened)
        status = surveys.status("t")
        built = Digests(store, teams, kb).build("t")
        counts = SurveyDesk(surveys, frozenset())._counts("t")  # what /pmo survey status|close say
        reply = Digests(store, teams, kb).reply(built)  # while the database is open

    said = "Invited 3, reached 1, answered 1 (100% of those reached)."
    # status, as JSON: the old keys kept, the new ones added, the rate of those reached
    assert (status["invited"], status["reached"], status["answered"]) == (3, 1, 1)
    assert (status["not_reached"], status["response_rate"]) == (2, 1.0)
    assert (status["not_installed"], status["unreachable"], status["delivered"]) == (1, 1, 1)
    assert status["turnout"] == said[0].lower() + said[1:-1]
    # the digest: the same three counts and the same rate
    assert (built.invited, built.reached, built.answered, built.response_rate) == (3, 1, 1, 1.0)
    assert Digests.as_json(built)["reached"] == 1
    # the words: chat's status and close, and the digest in every rendering
    assert counts.startswith(said)
    assert reply.sections[0].text.startswith(said)
    assert said in render(reply).replace("\n", " ")
    assert said in render_html(reply)
    assert said in str(render_cards(reply))
    assert said in str(render_blocks(reply))
