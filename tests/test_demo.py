"""The web chat's demo team, from jobs.demo up: its weeks made on a real SurveyStore (SQLite, and
PostgreSQL when PMO_TEST_POSTGRES_URL is set) with a clock the test sets, at the moments a week turns
(Monday 09:00, the ISO week 53, the clocks going back and forward), made again without change, mended
when a week was left half made, started again without touching a real team, and the same numbers on
every machine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app.surveys import SurveyParts, build_surveys
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.models import SurveyRun
from bot.storage.surveys import Recipient, Run, SurveyStore
from jobs import demo
from jobs.demo import Demo
from knowledge.base import KnowledgeBase

LONDON = ZoneInfo("Europe/London")  # PMO_TIMEZONE's default, and the demo team names none
VISITOR = "web:" + "cd" * 16


def london(*when: int) -> datetime:
    return datetime(*when, tzinfo=LONDON)  # type: ignore[misc]


@dataclass
class Clock:
    """The demo's ``now``: a moment in London, handed out in UTC as the server's clock does."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at.astimezone(UTC)


@dataclass
class World:
    parts: SurveyParts
    clock: Clock
    demo: Demo

    @property
    def store(self) -> SurveyStore:
        return self.parts.store

    def weeks(self) -> list[Run]:
        """Every demo run in the database, oldest first."""
        ids = select(SurveyRun.id).where(SurveyRun.team_id == demo.TEAM_ID).order_by(SurveyRun.opened_at)
        with self.store.storage.engine.connect() as connection:
            found = [self.store.run(run_id) for (run_id,) in connection.execute(ids)]
        return [run for run in found if run is not None]

    def snapshot(self) -> list[tuple[int, str, str, int]]:
        return [(r.id, r.period_key, r.state, self.store.answered_count(r.id)) for r in self.weeks()]


@contextlib.contextmanager
def demo_in(kb: KnowledgeBase, url: str, tmp_path: Path) -> Iterator[World]:
    """The demo as ``serve`` builds it (bot.app.surveys.build_surveys, no teams file, no platform),
    on the database at ``url``, with its clock in the test's hands."""
    with Storage(url) as storage:
        storage.upgrade()
        settings = Settings.model_validate({"DATABASE_URL": url, "PMO_CONFIG": str(tmp_path / "none.yaml")})
        parts = build_surveys(settings, kb, storage, {})
        clock = Clock(london(2026, 12, 9, 12, 0))
        # No chart: matplotlib is the chart test's business, and slow to import.
        yield World(parts, clock, Demo(parts.surveys, parts.digests, clock, chart=lambda _: None))


@pytest.fixture
def world(kb: KnowledgeBase, database_url: str, tmp_path: Path) -> Iterator[World]:
    with demo_in(kb, database_url, tmp_path) as made:
        yield made


def monday(when: datetime) -> datetime:
    """09:00 on the Monday of ``when``'s week, in London."""
    local = when.astimezone(LONDON)
    return datetime.combine(local.date() - timedelta(days=local.weekday()), time(9), tzinfo=LONDON)


def calendar_keys(when: datetime) -> list[str]:
    """The period keys of the six weeks before ``when``'s and of its own, oldest first, counted on
    the calendar (not in hours, which a change of the clocks makes 167 or 169 a week)."""
    first = monday(when).date()
    weeks = [(first - timedelta(weeks=n)).isocalendar() for n in range(demo.PAST_WEEKS, -1, -1)]
    return [f"{demo.TEAM_ID}/{year}-W{week:02d}" for year, week, _ in weeks]


# -- the week, whenever it is asked for -----------------------------------------------------------

MOMENTS = [
    pytest.param(london(2026, 12, 7, 8, 59), id="monday-08:59"),
    pytest.param(london(2026, 12, 7, 9, 0), id="monday-09:00"),
    pytest.param(london(2026, 12, 13, 23, 59), id="sunday-23:59"),
    pytest.param(london(2026, 12, 31, 12, 0), id="in-iso-week-53"),
    pytest.param(london(2027, 1, 4, 8, 59), id="week-53-to-week-1"),
    pytest.param(london(2027, 1, 4, 9, 30), id="week-1-under-way"),
    pytest.param(london(2026, 10, 25, 12, 0), id="the-sunday-the-clocks-go-back"),
    pytest.param(london(2026, 10, 28, 12, 0), id="the-week-after-the-clocks-go-back"),
    pytest.param(london(2026, 11, 1, 23, 30), id="sunday-night-after-the-clocks-go-back"),
    pytest.param(london(2027, 3, 29, 0, 30), id="monday-night-after-the-clocks-go-forward"),
]


@pytest.mark.parametrize("when", MOMENTS)
def test_the_demo_has_six_past_weeks_and_this_one_at_any_moment(world: World, when: datetime) -> None:
    world.clock.at = when
    current = world.demo.ensure()
    *past, this_week = world.weeks()
    assert [r.period_key for r in [*past, this_week]] == calendar_keys(when)
    assert all(r.state == "closed" and world.store.answered_count(r.id) > 0 for r in past)
    # This week's run is open until next Monday 09:00, and never starts later than now (before
    # 09:00 on a Monday it starts at once rather than later that morning).
    assert this_week == current and current.is_open
    assert current.opened_at == min(monday(when), when)
    assert current.closes_at == monday(when) + timedelta(weeks=1) and current.closes_at > when
    assert world.store.answered_count(current.id) == demo.ANSWERED_THIS_WEEK
    assert len(world.store.recipients(current.id)) == len(demo.PEOPLE)


def test_the_iso_week_53_is_a_week_of_its_own() -> None:
    # The calendar the other tests count on: 2026 has 53 ISO weeks.
    assert calendar_keys(london(2027, 1, 4, 9, 0))[-2:] == ["web-demo/2026-W53", "web-demo/2027-W01"]


def test_making_the_weeks_again_changes_nothing(world: World) -> None:
    world.demo.ensure()
    made = world.snapshot()
    assert len(made) == demo.PAST_WEEKS + 1
    world.demo.ensure()
    assert world.snapshot() == made
    world.clock.at += timedelta(hours=30)  # later the same week
    world.demo.ensure()
    assert world.snapshot() == made


def test_a_past_week_left_open_is_finished_and_closed(
    world: World, kb: KnowledgeBase, tmp_path: Path
) -> None:
    # A week whose making stopped after its run was opened: no invitations, no answers, open.
    key = calendar_keys(world.clock.at)[-3]
    start = monday(world.clock.at) - timedelta(weeks=2)
    left, _ = world.store.open_run(
        demo.TEAM_ID, key, "web", demo.TEAM.services, start, None, start + timedelta(hours=72), []
    )
    world.demo.ensure()
    mended = world.store.run(left.id)
    assert mended is not None and mended.state == "closed" and mended.closed_at is not None
    assert mended.closed_at < world.clock.at
    assert len(world.store.recipients(left.id)) == len(demo.PEOPLE)
    # ... with the answers that week has wherever it is made in one go.
    with demo_in(kb, f"sqlite:///{tmp_path / 'in-one-go.db'}", tmp_path) as other:
        other.clock.at = world.clock.at
        other.demo.ensure()
        whole = other.store.run_for_period(key)
        assert whole is not None
        assert world.store.answered_count(left.id) == other.store.answered_count(whole.id) > 0
        counts = world.store.score_counts([left.id])[left.id]
        assert counts == other.store.score_counts([whole.id])[whole.id]


def test_open_demo_weeks_from_before_are_closed(world: World) -> None:
    first = world.demo.ensure()
    # A week on, last week's open run is one of the past weeks: made whole and closed.
    world.clock.at += timedelta(weeks=1)
    second = world.demo.ensure()
    assert second.id != first.id
    last_week = world.store.run(first.id)
    assert last_week is not None and last_week.state == "closed"
    # Months on (no server ran meanwhile), the open run is far behind the past weeks: closed now.
    world.clock.at += timedelta(weeks=10)
    third = world.demo.ensure()
    forgotten = world.store.run(second.id)
    assert forgotten is not None and forgotten.state == "closed" and forgotten.closed_at == world.clock()
    assert [r.id for r in world.store.open_runs() if r.team_id == demo.TEAM_ID] == [third.id]
    keys = [r.period_key for r in world.weeks()]
    assert len(keys) == len(set(keys)) and keys[-demo.PAST_WEEKS - 1 :] == calendar_keys(world.clock.at)


def test_starting_again_forgets_this_weeks_demo_run_only(world: World) -> None:
    current = world.demo.ensure()
    world.demo.pulse(VISITOR)
    respondent = world.parts.surveys.respondent(current.id, VISITOR)
    world.store.record_answer(current.id, respondent, {"reporting": 1}, "Mine.")
    # A real team's run of the same week, with its own invitations and answers.
    people = [Recipient(f"U{n}", "T1") for n in range(5)]
    real, _ = world.store.open_run(
        "delivery",
        "delivery/2026-W50",
        "slack",
        ("reporting",),
        world.clock(),
        None,
        current.closes_at,
        people,
    )
    for person in people:
        world.store.record_answer(real.id, f"hash-{person.user}", {"reporting": 4}, f"From {person.user}.")

    def real_team() -> object:
        store = world.store
        counts = (
            store.delivery_counts(real.id),
            store.score_counts([real.id]),
            sorted(store.comments(real.id)),
        )
        return store.run(real.id), store.answered_count(real.id), counts

    real_before = real_team()
    past_before = world.snapshot()[:-1]
    survey = world.demo.restart(VISITOR)
    assert world.store.run(current.id) is None
    *past, again = world.weeks()
    assert again.id != current.id and again.period_key == current.period_key and again.is_open
    # The week is as it was first made, and the visitor is in it with nothing chosen.
    assert world.store.answered_count(again.id) == demo.ANSWERED_THIS_WEEK
    assert world.store.is_invited(again.id, VISITOR.removeprefix("web:"), "web")
    assert survey.questions and not any(q.selected for q in survey.questions)
    assert [(r.id, r.period_key, r.state, world.store.answered_count(r.id)) for r in past] == past_before
    assert real_team() == real_before


def figures(world: World) -> tuple[object, ...]:
    """What a digest shows of the demo's latest closed week: no run ids, no people."""
    digest = world.parts.digests.build(demo.TEAM_ID)
    scores = [(s.function_id, s.mean, s.distribution, s.trend, s.not_used) for s in digest.scores]
    assert any(s.mean is not None for s in digest.scores)
    return digest.period_key, digest.invited, digest.answered, scores, sorted(digest.comments)


def test_two_databases_get_the_same_numbers(world: World, kb: KnowledgeBase, tmp_path: Path) -> None:
    with demo_in(kb, f"sqlite:///{tmp_path / 'elsewhere.db'}", tmp_path) as elsewhere:
        for made in (world, elsewhere):
            made.demo.ensure()
        assert figures(world) == figures(elsewhere)
        # This week too, once closed.
        for made in (world, elsewhere):
            made.demo.close()
        assert figures(world) == figures(elsewhere)
        assert figures(world)[0] == calendar_keys(world.clock.at)[-1]
