"""Scheduling surveys: what is due (``Surveys.due_opens``, ``close_and_remind_due``) and the clock
that acts on it (``SurveyClock.tick``, ``reschedule``), with time injected and the real Slack adapter
talking to a fake Slack on loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from adapters.slack.app import SlackAdapter
from bot.core import Bot
from bot.reply import Action
from bot.storage import Storage
from bot.storage.surveys import CANCELLED, INACTIVE, PENDING, SENT, Run, SurveyStore
from jobs.clock import SurveyClock, job_id
from jobs.config import TeamsFile
from jobs.pacing import Limits, Pacer
from jobs.sender import Sender
from jobs.surveys import Surveys
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_TOKEN, BOT_USER, FakeSlack

LONDON = ZoneInfo("Europe/London")
# 30 November 2026 is the Monday of ISO week 49; London is on UTC in winter.
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
MEMBERS = ("U0AAA0001", "U0AAA0002", "U0AAA0003", "U0AAA0004")
FUNCTIONS = ("reporting", "risk_management", "planning")


class Now:
    """The injected clock: a settable instant, and a monotonic reading of it for the pacer."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=max(seconds, 1e-6))


def team_yaml(
    team_id: str = "alpha",
    platform: str = "slack",
    members: tuple[str, ...] = MEMBERS,
    extra: str = "",
    survey: str = "",
) -> str:
    text = (
        f"  - id: {team_id}\n    platform: {platform}\n    services: [reporting, risk_management]\n"
        + (f"    members: [{', '.join(members)}]\n" if members else "")
        + extra
    )
    return text + (f"    survey: {survey}\n" if survey else "")


def write(path: Path, *teams: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text("teams:\n" + "".join(teams) if teams else "teams: []\n", encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


@dataclass
class World:
    fake: FakeSlack
    slack: SlackAdapter
    storage: Storage
    store: SurveyStore
    config: Path
    teams: TeamsFile
    now: Now
    surveys: Surveys
    sender: Sender
    clock: SurveyClock
    closed: list[Run]

    def make_surveys(self, storage: Storage) -> Surveys:
        """Another process's view: its own Storage, store, teams file reader and adapter state."""
        return Surveys(
            SurveyStore(storage),
            TeamsFile(self.config, FUNCTIONS),
            self.surveys.kb,
            {"slack": self.slack},
            self.surveys.secret,
            self.now,
        )


def sender_for(surveys: Surveys, now: Now) -> Sender:
    pacer = Pacer(Limits(), now.monotonic, now.sleep)
    return Sender(surveys.store, surveys.couriers, surveys.message, pacer, now, worker="test-sender")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


def _world(fake: FakeSlack, kb: KnowledgeBase, storage: Storage, config: Path) -> World:
    if not config.exists():
        write(config, team_yaml())
    slack = SlackAdapter(Bot(kb), BOT_TOKEN, "signing-secret", fake.api_url)
    store = SurveyStore(storage)
    teams = TeamsFile(config, FUNCTIONS)
    now = Now(MONDAY_9 + timedelta(minutes=5))
    surveys = Surveys(store, teams, kb, {"slack": slack}, b"k" * 32, now)
    sender = sender_for(surveys, now)
    closed: list[Run] = []

    async def on_close(run: Run) -> None:
        closed.append(run)

    clock = SurveyClock(surveys, sender, on_close)
    return World(fake, slack, storage, store, config, teams, now, surveys, sender, clock, closed)


@pytest.fixture
async def world(fake: FakeSlack, kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[World]:
    with Storage(f"sqlite:///{tmp_path / 'pmo.db'}") as storage:
        storage.upgrade()
        world = _world(fake, kb, storage, tmp_path / "pmo.yaml")
        yield world
        await world.slack.close()


def at(world: World, moment: datetime) -> None:
    world.now.at = moment


def keys(world: World, moment: datetime) -> list[tuple[str, str, datetime]]:
    return [(team.id, key, fired) for team, key, fired in world.surveys.due_opens(moment)]


# -- what is due ----------------------------------------------------------------------------------


def test_a_monday_survey_is_due_from_its_time_until_its_window_closes(world: World) -> None:
    due = [("alpha", "alpha/2026-W49", MONDAY_9)]
    assert keys(world, MONDAY_9 - timedelta(minutes=1)) == []
    assert keys(world, MONDAY_9) == due
    assert keys(world, MONDAY_9 + timedelta(minutes=5)) == due
    # A clock that was down on Monday catches up on Wednesday: the 72 h window is still open.
    assert keys(world, datetime(2026, 12, 2, 15, 0, tzinfo=LONDON)) == due
    assert keys(world, MONDAY_9 + timedelta(hours=72) - timedelta(minutes=1)) == due
    # Once the window has passed, the week is gone: never opened late on Thursday or Friday.
    assert keys(world, MONDAY_9 + timedelta(hours=72, minutes=1)) == []
    assert keys(world, datetime(2026, 12, 4, 9, 0, tzinfo=LONDON)) == []
    # Sunday night: last Monday's window closed on Thursday.
    assert keys(world, datetime(2026, 11, 29, 23, 0, tzinfo=LONDON)) == []
    fired = keys(world, MONDAY_9 + timedelta(minutes=5))[0][2]
    assert fired.utcoffset() == timedelta(0)
    assert fired == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_a_survey_already_opened_is_not_due_again(world: World) -> None:
    world.store.open_run(
        "alpha", "alpha/2026-W49", "slack", ("reporting",), MONDAY_9, None, MONDAY_9 + timedelta(hours=72), []
    )
    assert keys(world, MONDAY_9 + timedelta(hours=1)) == []
    # Next Monday is another period.
    next_monday = MONDAY_9 + timedelta(days=7)
    assert keys(world, next_monday) == [("alpha", "alpha/2026-W50", next_monday)]


def test_the_schedule_runs_in_the_team_time_zone_across_daylight_saving(world: World) -> None:
    write(world.config, team_yaml(survey="{timezone: Europe/London}"))
    # 1 June 2026 is a Monday; 09:00 in London is 08:00 UTC in summer.
    june = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert keys(world, june - timedelta(minutes=5)) == []
    assert keys(world, june + timedelta(minutes=5)) == [("alpha", "alpha/2026-W23", june)]
    write(world.config, team_yaml(survey="{timezone: America/New_York, schedule: '30 8 * * tue'}"))
    # Tuesday 8:30 in New York is 13:30 UTC in winter.
    tuesday = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert keys(world, tuesday - timedelta(seconds=1)) == []
    assert keys(world, tuesday) == [("alpha", "alpha/2026-W49", tuesday)]


def test_each_team_follows_its_own_schedule(world: World) -> None:
    write(
        world.config,
        team_yaml("alpha"),
        team_yaml("beta", survey="{schedule: '0 14 * * mon', open_hours: 4, reminder_after_hours: 2}"),
    )
    assert keys(world, MONDAY_9 + timedelta(hours=1)) == [("alpha", "alpha/2026-W49", MONDAY_9)]
    afternoon = MONDAY_9 + timedelta(hours=5)
    assert keys(world, afternoon + timedelta(minutes=1)) == [
        ("alpha", "alpha/2026-W49", MONDAY_9),
        ("beta", "beta/2026-W49", afternoon),
    ]
    # Beta's window is four hours.
    assert [k for k, _, _ in keys(world, afternoon + timedelta(hours=4, minutes=1))] == ["alpha"]


def test_period_keys_are_iso_weeks_in_the_team_time_zone(world: World) -> None:
    write(world.config, team_yaml("kiwi", survey="{timezone: Pacific/Auckland}"), team_yaml("alpha"))
    kiwi, alpha = world.teams.load().teams
    # Monday 09:00 in Auckland is still Sunday in UTC (week 48 there): the team's week counts.
    auckland_monday = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert world.surveys.period_key(kiwi, auckland_monday) == "kiwi/2026-W49"
    assert world.surveys.period_key(alpha, auckland_monday) == "alpha/2026-W48"
    assert world.surveys.period_key(alpha, MONDAY_9) == "alpha/2026-W49"
    # ISO years: 2026 has 53 weeks, and 1 January 2027 belongs to the last of them.
    assert world.surveys.period_key(alpha, datetime(2027, 1, 1, 12, tzinfo=UTC)) == "alpha/2026-W53"
    assert world.surveys.period_key(alpha, datetime(2027, 1, 4, 12, tzinfo=UTC)) == "alpha/2027-W01"


# -- the tick -------------------------------------------------------------------------------------


async def test_a_tick_opens_the_due_run_once(world: World) -> None:
    await world.clock.tick()
    await world.clock.tick()
    at(world, MONDAY_9 + timedelta(hours=30))
    await world.clock.tick()
    runs = world.store.open_runs()
    assert len(runs) == 1
    run = runs[0]
    assert (run.team_id, run.period_key, run.platform, run.services) == (
        "alpha",
        "alpha/2026-W49",
        "slack",
        ("reporting", "risk_management"),
    )
    # Times follow the scheduled moment, not the tick that noticed it.
    assert (run.opened_at, run.remind_at, run.closes_at) == (
        MONDAY_9,
        MONDAY_9 + timedelta(hours=48),
        MONDAY_9 + timedelta(hours=72),
    )
    assert [r.user for r in world.store.recipients(run.id)] == list(MEMBERS)
    assert {r.workspace for r in world.store.recipients(run.id)} == {"workspace"}
    assert world.store.delivery_counts(run.id) == {("invite", PENDING): 4}
    # Members listed by id need no Slack call to be invited.
    assert world.fake.calls == []


async def test_members_of_a_channel_are_invited_with_the_listed_ones(world: World) -> None:
    world.fake.channel_members["C0TEAM0001"] = ["U0AAA0002", BOT_USER, "U0CHAN0001", "U0CHAN0002"]
    write(
        world.config,
        team_yaml(members=("U0AAA0001", "U0AAA0002"), extra="    members_from_channel: C0TEAM0001\n"),
    )
    await world.clock.tick()
    (run,) = world.store.open_runs()
    # Listed people first, then the channel's, each once, and never the bot itself.
    assert [r.user for r in world.store.recipients(run.id)] == [
        "U0AAA0001",
        "U0AAA0002",
        "U0CHAN0001",
        "U0CHAN0002",
    ]
    assert [c.method for c in world.fake.calls] == ["auth.test", "conversations.members"]
    assert world.fake.calls[1].body["channel"] == "C0TEAM0001"


async def test_nothing_opens_before_the_schedule(world: World) -> None:
    at(world, MONDAY_9 - timedelta(seconds=1))
    await world.clock.tick()
    assert world.store.open_runs() == []
    assert world.store.latest_run("alpha") is None


async def test_two_clocks_sharing_a_database_open_one_run(
    fake: FakeSlack, kb: KnowledgeBase, database_url: str, tmp_path: Path
) -> None:
    with Storage(database_url) as first, Storage(database_url) as second:
        first.upgrade()
        world = _world(fake, kb, first, tmp_path / "pmo.yaml")
        other = world.make_surveys(second)
        other_clock = SurveyClock(other, sender_for(other, world.now))
        for _ in range(3):
            await asyncio.gather(world.clock.tick(), other_clock.tick())
        runs = world.store.open_runs()
        assert [r.period_key for r in runs] == ["alpha/2026-W49"]
        assert world.store.delivery_counts(runs[0].id) == {("invite", PENDING): 4}
        assert SurveyStore(second).open_runs() == runs


async def test_a_run_opened_at_the_same_time_by_two_processes_is_one(world: World) -> None:
    with Storage(world.storage.engine.url.render_as_string(hide_password=False)) as second:
        other = world.make_surveys(second)
        opened = await asyncio.gather(
            *(s.open("alpha", opened_at=MONDAY_9) for s in [world.surveys, other] * 3)
        )
    assert [o.created for o in opened].count(True) == 1
    assert {o.run.id for o in opened} == {opened[0].run.id}
    assert {o.invited for o in opened} == {4}
    assert len(world.store.messages(opened[0].run.id, "invite")) == 4


async def test_reminders_go_once_to_those_who_have_not_answered(world: World) -> None:
    world.fake.refuse("U0AAA0003", "user_not_found")
    await world.clock.tick()
    (run,) = world.store.open_runs()
    assert await world.sender.drain(sleep=world.now.sleep) == 4
    assert {m.recipient: m.state for m in world.store.messages(run.id, "invite")} == {
        "U0AAA0001": SENT,
        "U0AAA0002": SENT,
        "U0AAA0003": INACTIVE,
        "U0AAA0004": SENT,
    }
    # U0AAA0001 rates a service; U0AAA0002 only leaves a comment.
    rated = world.surveys.answer(
        Action("survey_answer", {"run": str(run.id), "q": "reporting", "v": "4"}), "slack:U0AAA0001"
    )
    commented = world.surveys.answer(
        Action("survey_submit", {"run": str(run.id), "comment": "More notice, please"}), "slack:U0AAA0002"
    )
    assert rated.replace and commented.replace
    assert len(world.store.respondents(run.id)) == 2

    at(world, MONDAY_9 + timedelta(hours=48) - timedelta(seconds=1))
    await world.clock.tick()
    assert world.store.recipients(run.id, "reminder") == []
    assert world.store.run(run.id).reminded_at is None  # type: ignore[union-attr]

    remind_at = MONDAY_9 + timedelta(hours=48)
    at(world, remind_at)
    assert world.surveys.close_and_remind_due(remind_at) == ([], 1)
    # Only U0AAA0004: answered (rating or comment) and unreachable people are left alone.
    assert [r.user for r in world.store.recipients(run.id, "reminder")] == ["U0AAA0004"]
    assert world.store.run(run.id).reminded_at == remind_at  # type: ignore[union-attr]
    at(world, remind_at + timedelta(hours=1))
    await world.clock.tick()
    assert world.surveys.close_and_remind_due(remind_at + timedelta(hours=2)) == ([], 0)
    assert [r.user for r in world.store.recipients(run.id, "reminder")] == ["U0AAA0004"]

    # The reminder is sent, as a reminder.
    assert await world.sender.drain(sleep=world.now.sleep) == 1
    (reminder,) = world.store.messages(run.id, "reminder")
    assert reminder.state == SENT
    channel, ts = reminder.message_ref.split("/")  # type: ignore[union-attr]
    (posted,) = [m for m in world.fake.messages(channel) if m.ts == ts]
    assert posted.text.startswith("Reminder: alpha weekly PMO pulse")


async def test_a_run_closes_at_its_time_and_cancels_what_was_not_sent(world: World) -> None:
    await world.clock.tick()
    (run,) = world.store.open_runs()
    closes = MONDAY_9 + timedelta(hours=72)
    at(world, closes - timedelta(seconds=1))
    await world.clock.tick()
    assert world.store.run(run.id).is_open  # type: ignore[union-attr]
    assert world.closed == []
    at(world, closes)
    await world.clock.tick()
    closed = world.store.run(run.id)
    assert closed is not None and (closed.state, closed.closed_at) == ("closed", closes)
    # Nothing was sent (no sender ran): every invitation is cancelled, none goes out late, and
    # nobody was reminded of an invitation that never reached them.
    assert world.store.delivery_counts(run.id) == {("invite", CANCELLED): 4}
    assert world.store.work_left() == 0
    # The close hook hears of it once, with the run as closed.
    assert [(r.id, r.state, r.closed_at) for r in world.closed] == [(run.id, "closed", closes)]
    at(world, closes + timedelta(hours=1))
    await world.clock.tick()
    assert len(world.closed) == 1
    assert world.store.open_runs() == []


async def test_a_run_closing_before_its_reminder_time_is_not_reminded(world: World) -> None:
    await world.clock.tick()
    (run,) = world.store.open_runs()
    # The clock was down from Monday until after the close: it closes, and reminds nobody.
    at(world, MONDAY_9 + timedelta(hours=80))
    await world.clock.tick()
    assert world.store.run(run.id).state == "closed"  # type: ignore[union-attr]
    assert world.store.recipients(run.id, "reminder") == []


async def test_a_team_on_a_platform_not_connected_does_not_hold_up_the_others(world: World) -> None:
    # "beta" is on Teams, which this process cannot reach; alpha, after it in the file, still opens,
    # and alpha's earlier run still closes.
    world.store.open_run(
        "alpha", "alpha/2026-W48", "slack", ("reporting",), MONDAY_9 - timedelta(days=7), None, MONDAY_9, []
    )
    write(world.config, team_yaml("beta", platform="teams", members=("29:x",)), team_yaml("alpha"))
    await world.clock.tick()
    assert [r.period_key for r in world.store.open_runs()] == ["alpha/2026-W49"]
    assert world.store.run_for_period("alpha/2026-W48").state == "closed"  # type: ignore[union-attr]
    assert world.store.run_for_period("beta/2026-W49") is None


async def test_a_run_opened_late_does_not_remind_with_its_invitations(world: World) -> None:
    at(world, MONDAY_9 + timedelta(hours=50))  # Wednesday 11:00: catch-up after a clock outage
    await world.clock.tick()
    (run,) = world.store.open_runs()
    await world.sender.drain(sleep=world.now.sleep)
    assert world.store.recipients(run.id, "reminder") == []
    # The reminder moves to halfway through what is left of the window (22 h left: 11 h on).
    assert run.remind_at == MONDAY_9 + timedelta(hours=61)
    at(world, MONDAY_9 + timedelta(hours=61, minutes=1))
    await world.clock.tick()
    assert len(world.store.recipients(run.id, "reminder")) > 0


async def test_a_run_opened_with_little_time_left_is_not_reminded(world: World) -> None:
    at(world, MONDAY_9 + timedelta(hours=70))  # 2 h before it closes
    await world.clock.tick()
    (run,) = world.store.open_runs()
    assert run.remind_at is None


async def test_a_broken_teams_file_opens_nothing_and_raises_nothing(world: World) -> None:
    world.config.write_text("teams:\n  - id: [\n", encoding="utf-8")
    await world.clock.tick()
    assert world.store.open_runs() == []
    assert world.teams.error is not None and "not valid YAML" in world.teams.error


# -- the scheduler's jobs -------------------------------------------------------------------------


@pytest.fixture
async def scheduler(world: World) -> AsyncIterator[AsyncIOScheduler]:
    # Started paused: jobs are stored (and replaced) as in a running clock, but none fires.
    world.clock.scheduler = AsyncIOScheduler(timezone="Europe/London")
    world.clock.scheduler.start(paused=True)
    yield world.clock.scheduler
    world.clock.scheduler.shutdown(wait=False)


async def test_reschedule_adds_one_cron_job_per_team_in_its_time_zone(
    world: World, scheduler: AsyncIOScheduler
) -> None:
    write(
        world.config,
        team_yaml("alpha"),
        team_yaml("beta", survey="{timezone: Asia/Tokyo, open_hours: 24, reminder_after_hours: 20}"),
    )
    world.clock.reschedule()
    assert sorted(j.id for j in scheduler.get_jobs()) == ["survey:alpha", "survey:beta"]
    alpha = scheduler.get_job(job_id("alpha"))
    assert alpha is not None
    assert isinstance(alpha.trigger, CronTrigger)
    assert str(alpha.trigger) == "cron[month='*', day='*', day_of_week='mon', hour='9', minute='0']"
    assert str(alpha.trigger.timezone) == "Europe/London"  # PMO_TIMEZONE's default
    assert (alpha.coalesce, alpha.max_instances, alpha.misfire_grace_time) == (True, 1, 72 * 3600)
    assert alpha.args == ("alpha",)
    assert alpha.func == world.clock.open_scheduled
    local = alpha.next_run_time.astimezone(LONDON)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    beta = scheduler.get_job(job_id("beta"))
    assert beta is not None
    assert str(beta.trigger.timezone) == "Asia/Tokyo"
    assert beta.misfire_grace_time == 24 * 3600
    local = beta.next_run_time.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.weekday(), local.hour) == (0, 9)


async def test_reschedule_follows_the_teams_file(world: World, scheduler: AsyncIOScheduler) -> None:
    world.clock.reschedule()
    first = scheduler.get_job("survey:alpha")
    assert first is not None
    world.clock.reschedule()  # nothing changed: the job is left as it was
    assert scheduler.get_job("survey:alpha").next_run_time == first.next_run_time  # type: ignore[union-attr]
    # A new schedule and zone replace the job under the same id.
    write(world.config, team_yaml(survey="{schedule: '15 10 * * fri', timezone: America/New_York}"))
    world.clock.reschedule()
    assert [j.id for j in scheduler.get_jobs()] == ["survey:alpha"]
    changed = scheduler.get_job("survey:alpha")
    assert str(changed.trigger) == "cron[month='*', day='*', day_of_week='fri', hour='10', minute='15']"  # type: ignore[union-attr]
    assert str(changed.trigger.timezone) == "America/New_York"  # type: ignore[union-attr]
    # A broken edit keeps the last good file, and so the job.
    world.config.write_text("teams: [\n", encoding="utf-8")
    world.clock.reschedule()
    assert [j.id for j in scheduler.get_jobs()] == ["survey:alpha"]
    # A team removed from the file loses its job; a new one gains one.
    write(world.config, team_yaml("gamma"))
    world.clock.reschedule()
    assert [j.id for j in scheduler.get_jobs()] == ["survey:gamma"]
    write(world.config)
    world.clock.reschedule()
    assert scheduler.get_jobs() == []


async def test_reschedule_with_a_file_that_never_was_good_schedules_nothing(
    world: World, scheduler: AsyncIOScheduler
) -> None:
    world.config.write_text("teams: [\n", encoding="utf-8")
    world.clock.reschedule()
    assert scheduler.get_jobs() == []


async def test_start_schedules_the_tick_and_the_teams_and_stop_ends_it(world: World) -> None:
    await world.clock.start()
    try:
        scheduler = world.clock.scheduler
        assert scheduler is not None and scheduler.running
        assert sorted(j.id for j in scheduler.get_jobs()) == ["pmo:tick", "survey:alpha"]
        tick = scheduler.get_job("pmo:tick")
        assert tick is not None
        assert tick.func == world.clock.tick
        assert (tick.coalesce, tick.max_instances, tick.misfire_grace_time) == (True, 1, 60)
        assert tick.trigger.interval == timedelta(seconds=60)
    finally:
        await world.clock.stop()
    assert not world.clock.scheduler.running
    assert world.clock._sending is not None and world.clock._sending.done()
