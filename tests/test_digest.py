"""Digests from answers in a real database (SQLite, and PostgreSQL when configured): the figures
against hand computations, and the anonymity rules tried with hostile cases."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import Storage
from bot.storage.surveys import SENT, Recipient, Run, SurveyStore
from jobs.config import TeamsFile
from jobs.digest import Digests
from knowledge.base import KnowledgeBase

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SERVICES = ("reporting", "risk_management", "governance")


def teams_file(path: Path, min_responses: int = 5, min_comments: int = 10) -> TeamsFile:
    path.write_text(
        "teams:\n  - id: t\n    name: Delivery PMO\n    platform: slack\n    members: [U1]\n"
        "    digest_channel: C0DIGEST01\n"
        f"    services: [{', '.join(SERVICES)}]\n"
        f"    survey: {{min_responses: {min_responses}, min_comments: {min_comments}}}\n",
        encoding="utf-8",
    )
    return TeamsFile(path, SERVICES)


@pytest.fixture
def store(database_url: str) -> Iterator[SurveyStore]:
    with Storage(database_url) as storage:
        storage.upgrade()
        yield SurveyStore(storage)


class World:
    def __init__(self, store: SurveyStore, teams: TeamsFile, kb: KnowledgeBase) -> None:
        self.store = store
        self.digests = Digests(store, teams, kb, shuffle=lambda items: items.reverse())
        self.week = 0

    def run(
        self, answers: list[dict[str, int | None]], invited: int = 20, comments: list[str] | None = None
    ) -> Run:
        """A closed run: ``invited`` people reached, the first ones answering as given."""
        self.week += 1
        opened = T0 + timedelta(weeks=self.week)
        people = [Recipient(f"U{n:03d}", "W") for n in range(invited)]
        run, _ = self.store.open_run(
            "t", f"t/W{self.week}", "slack", SERVICES, opened, None, opened + timedelta(hours=72), people
        )
        for message in self.store.claim("w", opened, opened + timedelta(seconds=60), invited, ("slack",)):
            self.store.finish(message.id, "w", SENT, opened, ref="D/1")
        texts = comments or []
        for n, ratings in enumerate(answers):
            self.store.record_answer(
                run.id, f"hash-{self.week}-{n}", ratings, texts[n] if n < len(texts) else None
            )
        self.store.close_run(run.id, opened + timedelta(hours=72))
        closed = self.store.run(run.id)
        assert closed is not None
        return closed


@pytest.fixture
def world(store: SurveyStore, tmp_path: Path, kb: KnowledgeBase) -> World:
    return World(store, teams_file(tmp_path / "pmo.yaml"), kb)


def test_fifteen_of_twenty_with_means_as_computed_by_hand(world: World) -> None:
    world.run([{"reporting": 2, "risk_management": 2, "governance": 3}] * 6)  # last week
    answers: list[dict[str, int | None]] = (
        [{"reporting": 4, "risk_management": 2, "governance": None}] * 7
        + [{"reporting": 5, "risk_management": 3, "governance": 4}] * 5
        + [{"reporting": 1, "risk_management": 1, "governance": 5}] * 3
    )
    digest = world.digests.build("t")
    assert digest.period_key == "t/W1" and digest.previous_period is None
    assert (digest.answered, digest.invited, digest.response_rate) == (6, 20, 0.3)
    world.run(answers)
    digest = world.digests.build("t")
    assert digest.period_key == "t/W2" and digest.previous_period == "t/W1"
    assert (digest.answered, digest.invited, digest.response_rate, digest.withheld) == (15, 20, 0.75, False)
    by_id = {s.function_id: s for s in digest.scores}
    reporting = by_id["reporting"]
    assert reporting.mean == round((7 * 4 + 5 * 5 + 3 * 1) / 15, 2)  # 3.73
    assert reporting.distribution == (3, 0, 0, 7, 5)
    assert reporting.previous_mean == 2.0 and reporting.change == round(3.73 - 2.0, 2)
    governance = by_id["governance"]
    assert (governance.ratings, governance.not_used) == (8, 7)
    assert governance.mean == round((5 * 4 + 3 * 5) / 8, 2)
    assert digest.lowest == ("risk_management", "reporting")  # 1.93 and 3.73
    reply = world.digests.reply(digest)
    assert reply.sections[0].text.startswith("Invited 20, reached 20, answered 15 (75% of those reached).")
    first = reply.scorecards[0].rows[0]
    assert (first.name, first.score, first.change) == ("Reporting", "3.7", "▲1.7")
    assert first.details == ("trend ▃▆ 2.0→3.7", "1–5: 3 0 0 7 5", "15 rated", "0 didn't use")


def test_two_answers_give_no_scores_at_all(world: World) -> None:
    world.run([{"reporting": 5, "risk_management": 1, "governance": 3}] * 2)
    digest = world.digests.build("t")
    assert digest.withheld and digest.answered == 2
    assert all(s.mean is None and s.distribution is None for s in digest.scores)
    reply = world.digests.reply(digest)
    assert "Scores are withheld: fewer than 5 people answered" in reply.sections[1].text
    # No score, change or trend where scores are withheld: only the counts.
    assert all((row.score, row.change) == ("", "") for row in reply.scorecards[0].rows)
    assert all(row.details[0].endswith(" rated") for row in reply.scorecards[0].rows)
    assert digest.lowest == ()


@pytest.mark.parametrize(("answered", "shown"), [(4, False), (5, True)])
def test_the_threshold_holds_at_its_edge(world: World, answered: int, shown: bool) -> None:
    world.run([{"reporting": 4, "risk_management": 4, "governance": 4}] * answered)
    digest = world.digests.build("t")
    assert (digest.scores[0].mean is not None) is shown and digest.withheld is not shown


def test_a_service_rated_by_two_of_fifteen_gets_no_score(world: World) -> None:
    answers: list[dict[str, int | None]] = [{"reporting": 4, "risk_management": None}] * 13
    answers += [{"reporting": 4, "risk_management": 1}] * 2
    world.run(answers)
    digest = world.digests.build("t")
    risk = next(s for s in digest.scores if s.function_id == "risk_management")
    assert (risk.mean, risk.distribution, risk.ratings, risk.not_used) == (None, None, 2, 13)
    assert "risk_management" not in digest.lowest
    row = next(r for r in world.digests.reply(digest).scorecards[0].rows if r.name == "Risk management")
    assert (row.score, row.change) == ("", "")
    assert row.details == ("no score: too few ratings", "2 rated", "13 didn't use")


def test_comments_only_from_ten_answers_and_in_no_order(world: World) -> None:
    said = [f"comment {n}" for n in range(10)]
    world.run([{"reporting": 3}] * 9, comments=said[:9])
    digest = world.digests.build("t")
    assert digest.comments == () and digest.comments_withheld
    world.run([{"reporting": 3}] * 10, comments=said)
    digest = world.digests.build("t")
    assert sorted(digest.comments) == sorted(said) and not digest.comments_withheld
    assert list(digest.comments) != said  # shuffled (reversed by the test's shuffle)


def test_a_four_run_trend_skips_withheld_runs(world: World) -> None:
    world.run([{"reporting": 2}] * 5)
    world.run([{"reporting": 5}] * 2)  # too few: withheld in the trend too
    world.run([{"reporting": 3}] * 5)
    world.run([{"reporting": 4}] * 5)
    world.run([{"reporting": 5}] * 5)
    reporting = world.digests.build("t").scores[0]
    assert reporting.trend == (None, 3.0, 4.0, 5.0)
    assert reporting.previous_mean == 4.0 and reporting.change == 1.0


def test_the_csv_holds_aggregates_only_and_no_formula(
    world: World, tmp_path: Path, kb: KnowledgeBase
) -> None:
    world.run([{"reporting": 2, "risk_management": 4, "governance": 4}] * 5)
    world.run([{"reporting": 1, "risk_management": 4, "governance": 5}] * 5, comments=['=HYPERLINK("x")'] * 5)
    digest = world.digests.build("t")
    rows = list(csv.reader(io.StringIO(world.digests.csv(digest))))
    assert rows[0][:6] == ["team", "period", "service", "ratings", "didnt_use", "mean"]
    assert rows[1][2:7] == ["Reporting", "5", "0", "1.00", "-1.00"]  # a negative number stays a number
    assert "HYPERLINK" not in world.digests.csv(digest)  # comments are not exported
    from jobs.digest import _neutral

    assert [_neutral(c) for c in ("=1+1", "+cmd", "-x", "@SUM(A1)", "-1.5", "plain")] == [
        "'=1+1", "'+cmd", "'-x", "'@SUM(A1)", "-1.5", "plain",
    ]  # fmt: skip


def test_coaching_pointers_come_from_the_knowledge_base(world: World, kb: KnowledgeBase) -> None:
    world.run([{"reporting": 4, "risk_management": 1, "governance": 2}] * 5)
    reply = world.digests.reply(world.digests.build("t"))
    look = [s for s in reply.sections if s.heading.startswith("Look at:")]
    assert [s.heading for s in look] == ["Look at: Risk management (1.0)", "Look at: Governance (2.0)"]
    assert look[0].bullets[0].startswith("What it should deliver: ")
    assert any(b.startswith("Ask: ") for b in look[0].bullets)
    assert [b.action.slots["function"] for b in reply.buttons] == ["risk_management", "governance"]
