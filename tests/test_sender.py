"""The outbox sender against a fake Slack on loopback, through the real Slack adapter.

Time is injected: the sender's ``now``, the pacer's clock and every sleep are one fake clock, which
only the sleeps move. The fake Slack stamps messages 1700000000.xxxxxx (14 November 2023, 22:13
UTC), so runs here open earlier that day: a crashed sender's check looks for messages since the run
opened.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.slack.app import SlackAdapter
from adapters.slack.courier import MARKER_EVENT
from bot.core import Bot
from bot.ports import Courier, Outcome
from bot.reply import Reply, Section
from bot.storage import Storage
from bot.storage.models import OutboxMessage
from bot.storage.surveys import (
    CANCELLED,
    FAILED,
    INACTIVE,
    PENDING,
    SENDING,
    SENT,
    UNCHECKED,
    Message,
    Recipient,
    Run,
    SurveyStore,
)
from jobs.pacing import Limits, Pacer
from jobs.sender import Sender, SenderSettings, SendingHalted, marker_of
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_TOKEN, FakeSlack

T0 = datetime(2023, 11, 14, 12, 0, tzinfo=UTC)
RATE = 50 * 0.97  # the default Slack workspace rate, with its headroom
WORKSPACE = "workspace"  # what the Slack adapter answers for everyone: one token, one workspace


class Now:
    """The one fake clock: the sender's ``now``, the pacer's monotonic clock, and the sleeps."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return (self.at - T0).total_seconds()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        # Never less than a microsecond, like any real sleep (a float remainder must not spin).
        self.slept.append(seconds)
        self.advance(max(seconds, 1e-6))

    @property
    def elapsed(self) -> float:
        return (self.at - T0).total_seconds()


def build(run: Run, message: Message) -> Reply:
    word = "Reminder: " if message.kind == "reminder" else ""
    return Reply(f"{word}{run.team_id} pulse", (Section(text="Rate the PMO this week."),))


@dataclass
class Rig:
    fake: FakeSlack
    slack: SlackAdapter
    storage: Storage
    store: SurveyStore
    now: Now
    pacer: Pacer
    senders: list[Sender] = field(default_factory=list)

    def sender(
        self, worker: str = "sender-1", couriers: dict[str, Courier] | None = None, **settings: Any
    ) -> Sender:
        made = Sender(
            self.store,
            couriers if couriers is not None else {"slack": self.slack},
            build,
            self.pacer,
            self.now,
            SenderSettings(**settings),
            worker=worker,
        )
        self.senders.append(made)
        return made

    def open(self, n: int, key: str = "alpha/2023-W46", platform: str = "slack") -> Run:
        run, created = self.store.open_run(
            "alpha",
            key,
            platform,
            ("reporting",),
            T0,
            T0 + timedelta(hours=48),
            T0 + timedelta(hours=72),
            [Recipient(user, WORKSPACE) for user in users(n)],
        )
        assert created
        return run

    def row(self, message_id: int) -> Any:
        with self.storage.engine.connect() as connection:
            return (
                connection.execute(select(OutboxMessage.__table__).where(OutboxMessage.id == message_id))
                .mappings()
                .one()
            )

    def posts(self) -> int:
        return len(self.fake.of("chat.postMessage"))


def users(n: int) -> list[str]:
    return [f"U0PPL{i:04d}" for i in range(n)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
async def rig(fake: FakeSlack, kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Rig]:
    with Storage(f"sqlite:///{tmp_path / 'pmo.db'}") as storage:
        storage.upgrade()
        now = Now(T0)
        slack = SlackAdapter(Bot(kb), BOT_TOKEN, "signing-secret", fake.api_url)
        yield Rig(fake, slack, storage, SurveyStore(storage), now, Pacer(Limits(), now.monotonic, now.sleep))
        await slack.close()


# -- the usual case ---------------------------------------------------------------------------------


async def test_a_run_of_thirty_is_delivered_once_each(rig: Rig) -> None:
    run = rig.open(30)
    progress: list[int] = []
    assert await rig.sender().drain(sleep=rig.now.sleep, progress=progress.append) == 30
    assert sum(progress) == 30
    messages = rig.store.messages(run.id, "invite")
    delivered = rig.fake.delivered()
    assert len(delivered) == rig.posts() == 30  # no retries, nothing twice
    assert rig.fake.of("conversations.open") == []  # posted to the user id, straight into the DM
    # Each DM carries its outbox marker in Slack's metadata, for a crashed sender to find.
    by_marker = {meta["event_payload"]["outbox"]: (channel, ts) for channel, ts, meta in delivered if meta}
    assert {meta["event_type"] for _, _, meta in delivered if meta} == {MARKER_EVENT}
    assert set(by_marker) == {marker_of(m) for m in messages}
    for message in messages:
        channel, ts = by_marker[marker_of(message)]
        assert channel == rig.fake.dm_channel(message.recipient)
        assert (message.state, message.attempts, message.message_ref) == (SENT, 1, f"{channel}/{ts}")
        assert rig.store.message_ref(run.id, "invite", message.recipient) == f"{channel}/{ts}"
        assert [m.ts for m in rig.fake.messages(message.recipient)] == [ts]
        stored = rig.row(message.id)
        assert stored["error"] is None and stored["lease_until"] is None
        assert T0 <= stored["sent_at"] <= rig.now.at
    # Paced: one token a 1/48.5 s after the first, and no more waiting than that.
    assert rig.now.elapsed == pytest.approx(29 / RATE, abs=1e-3)
    assert rig.store.work_left() == 0


async def test_a_second_sender_finds_nothing_left_to_send(rig: Rig) -> None:
    rig.open(5)
    assert await rig.sender("a").send_due() == 5
    assert await rig.sender("b").send_due() == 0
    assert rig.posts() == 5


# -- rate limits and server errors ---------------------------------------------------------------------


async def test_a_rate_limited_send_waits_as_long_as_slack_asks(rig: Rig) -> None:
    run = rig.open(1)
    rig.fake.fail("chat.postMessage", 429, times=2, retry_after=3)
    sender = rig.sender()
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    stored = rig.row(message.id)
    assert rig.now.at == T0  # the first token was free: no time passed
    assert (message.state, message.attempts, stored["error"]) == (PENDING, 1, "rate limited")
    assert stored["due_at"] == T0 + timedelta(seconds=3)
    # The whole workspace waits, and sends a quarter slower from then on.
    bucket = rig.pacer.bucket("slack", WORKSPACE)
    assert bucket.paused_until == pytest.approx(3.0)
    assert bucket.rate == pytest.approx(RATE * 0.75)
    # Not before it is due.
    rig.now.advance(2.9)
    assert await sender.send_due() == 0
    assert rig.posts() == 1
    rig.now.advance(0.1)
    assert await sender.send_due() == 1
    assert rig.posts() == 2
    posted_at = rig.now.at  # after the pacer's wait for a token at the lowered rate
    assert rig.now.elapsed == pytest.approx(3 + 1 / (RATE * 0.75))
    assert rig.row(message.id)["due_at"] == posted_at + timedelta(seconds=3)
    assert bucket.rate == pytest.approx(RATE * 0.75 * 0.75)  # refused again after the pause
    rig.now.at = posted_at + timedelta(seconds=3)
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts) == (SENT, 3)
    assert rig.posts() == 3
    assert len(rig.fake.delivered()) == 1
    # A success creeps back towards the configured rate.
    assert bucket.rate == pytest.approx(RATE * 0.75 * 0.75 + RATE / 20_000)


async def test_rate_limited_sends_are_all_delivered_once_in_the_end(rig: Rig) -> None:
    run = rig.open(12)
    rig.fake.fail("chat.postMessage", 429, times=2, retry_after=3)
    # Twelve sends and the two refused ones again.
    assert await rig.sender(concurrency=4).drain(sleep=rig.now.sleep) == 14
    messages = rig.store.messages(run.id, "invite")
    assert {m.state for m in messages} == {SENT}
    assert rig.posts() == 14
    markers = [meta["event_payload"]["outbox"] for _, _, meta in rig.fake.delivered() if meta]
    assert sorted(markers) == sorted(marker_of(m) for m in messages)
    assert sorted(m.attempts for m in messages) == [1] * 10 + [2] * 2
    # The refused sends waited at least the 3 s asked.
    assert rig.now.elapsed >= 3.0
    assert max(rig.now.slept) <= 5.0


async def test_server_errors_are_retried_with_backoff(rig: Rig) -> None:
    run = rig.open(1)
    rig.fake.fail("chat.postMessage", 500, times=2)
    sender = rig.sender()
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    # A 500 may come after Slack took the message: it is marked to be looked for before a resend.
    assert (message.state, rig.row(message.id)["error"]) == (PENDING, "unsure: fatal_error")
    assert rig.row(message.id)["due_at"] == T0 + timedelta(seconds=2)
    rig.now.advance(2)
    assert await sender.send_due() == 1
    assert rig.row(message.id)["due_at"] == T0 + timedelta(seconds=2 + 4)
    rig.now.advance(4)
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts, rig.row(message.id)["error"]) == (SENT, 3, None)
    assert rig.posts() == 3 and len(rig.fake.delivered()) == 1
    # A server error is not a rate limit: the pace is unchanged.
    assert rig.pacer.bucket("slack", WORKSPACE).rate == pytest.approx(RATE)


async def test_a_server_error_that_never_ends_fails_after_max_attempts(rig: Rig) -> None:
    run = rig.open(1)
    rig.fake.fail("chat.postMessage", 500, times=1000)
    await rig.sender().drain(sleep=rig.now.sleep)
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts) == (FAILED, 6)
    assert rig.row(message.id)["error"] == "gave up after 6 attempts: fatal_error"
    assert rig.posts() == 6
    assert rig.fake.delivered() == []
    # Waits of 2, 4, 8, 16 and 32 s between the six attempts.
    assert rig.now.elapsed == pytest.approx(62.0, abs=1e-3)
    assert rig.store.work_left() == 0


async def test_backoff_is_capped(rig: Rig) -> None:
    run = rig.open(1)
    rig.fake.fail("chat.postMessage", 500, times=1000)
    await rig.sender(max_attempts=5, backoff_s=2, backoff_cap_s=5).drain(sleep=rig.now.sleep)
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts, rig.posts()) == (FAILED, 5, 5)
    assert rig.now.elapsed == pytest.approx(2 + 4 + 5 + 5, abs=1e-3)


async def test_a_person_slack_cannot_reach_is_inactive_and_a_refusal_is_final(rig: Rig) -> None:
    run = rig.open(3)
    gone, refused, fine = users(3)
    rig.fake.refuse(gone, "user_not_found")
    rig.fake.refuse(refused, "msg_too_long")
    assert await rig.sender().drain(sleep=rig.now.sleep) == 3
    states = {m.recipient: (m.state, m.attempts) for m in rig.store.messages(run.id, "invite")}
    assert states == {gone: (INACTIVE, 1), refused: (FAILED, 1), fine: (SENT, 1)}
    errors = {m.recipient: rig.row(m.id)["error"] for m in rig.store.messages(run.id, "invite")}
    assert errors == {gone: "user_not_found", refused: "msg_too_long", fine: None}
    assert rig.posts() == 3  # neither refusal is tried again
    assert [channel for channel, _, _ in rig.fake.delivered()] == [rig.fake.dm_channel(fine)]


# -- crashes -------------------------------------------------------------------------------------------


async def test_a_stranded_message_slack_already_has_is_recorded_not_sent_again(rig: Rig) -> None:
    run = rig.open(2)
    # A sender claims the first message, delivers it, and dies before recording that it did.
    (mine,) = rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("slack",))
    first = await rig.slack.deliver(mine.recipient, build(run, mine), marker_of(mine))
    assert first.status == "sent"
    sender = rig.sender("survivor")
    rig.now.advance(10)
    assert await sender.send_due() == 1  # the other message; the claimed one's lease still runs
    assert rig.fake.of("conversations.history") == []
    assert rig.row(mine.id)["state"] == SENDING
    rig.now.at = T0 + timedelta(seconds=61)
    assert await sender.send_due() == 1
    message = next(m for m in rig.store.messages(run.id, "invite") if m.id == mine.id)
    assert (message.state, message.message_ref, message.attempts) == (SENT, first.ref, 2)
    assert rig.row(mine.id)["claimed_by"] == "survivor"
    assert rig.posts() == 2
    assert len(rig.fake.messages(mine.recipient)) == 1
    (history,) = rig.fake.of("conversations.history")
    assert history.body["channel"] == rig.fake.dm_channel(mine.recipient)
    assert float(history.body["oldest"]) == (T0 - timedelta(minutes=5)).timestamp()
    # The dead sender, were it to come back, cannot overwrite the outcome.
    assert not rig.store.finish(mine.id, "dead", FAILED, rig.now.at, error="late")


async def test_a_stranded_message_slack_never_got_is_sent_once(rig: Rig) -> None:
    run = rig.open(1)
    (mine,) = rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("slack",))
    sender = rig.sender("survivor")
    assert await sender.send_due() == 0  # still leased to the dead sender
    rig.now.at = T0 + timedelta(seconds=60, microseconds=1)
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts) == (SENT, 2)  # the check after a crash counts as an attempt
    assert len(rig.fake.of("conversations.history")) == 1
    assert rig.posts() == 1
    (post,) = rig.fake.delivered()
    assert post[2] == {"event_type": MARKER_EVENT, "event_payload": {"outbox": marker_of(mine)}}
    assert message.message_ref == f"{post[0]}/{post[1]}"


async def test_a_stranded_message_is_not_sent_while_slack_cannot_be_asked(rig: Rig) -> None:
    run = rig.open(1)
    (mine,) = rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("slack",))
    rig.fake.fail("conversations.history", 500, times=1)
    sender = rig.sender("survivor")
    rig.now.at = T0 + timedelta(seconds=61)
    assert await sender.send_due() == 1
    # Not known either way: no post; the claim is left to lapse and the check made again.
    assert rig.posts() == 0
    stored = rig.row(mine.id)
    assert (stored["state"], stored["claimed_by"]) == (SENDING, "survivor")
    assert stored["lease_until"] == rig.now.at + timedelta(seconds=60)
    rig.now.advance(30)
    assert await sender.send_due() == 0
    await sender.drain(sleep=rig.now.sleep, run_id=run.id)
    (message,) = rig.store.messages(run.id, "invite")
    assert message.state == SENT
    assert rig.posts() == 1
    assert len(rig.fake.of("conversations.history")) == 2


async def test_a_stranded_message_that_can_never_be_checked_is_settled_once_not_sent_again(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    # A token without the history scope: every check fails. The message may have gone out, so the
    # rule is not to send it again; it ends "unchecked", counted apart, and logged once.
    run = rig.open(1)
    assert len(rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("slack",))) == 1
    rig.fake.fail("conversations.history", 500, times=100)
    sender = rig.sender("survivor")
    rig.now.at = T0 + timedelta(seconds=61)
    with caplog.at_level(logging.DEBUG, logger="jobs.sender"):
        await sender.drain(sleep=rig.now.sleep, run_id=run.id)
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts) == (UNCHECKED, SenderSettings().max_attempts)
    assert rig.posts() == 0
    assert len(rig.fake.of("conversations.history")) == SenderSettings().max_attempts - 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "a stranded message could not be checked; settled as unchecked, not re-sent"
    ]
    assert rig.store.work_left(run.id) == 0


async def test_a_sender_that_lost_its_claim_while_waiting_does_not_send(rig: Rig) -> None:
    run = rig.open(1)
    rig.pacer.slow_down("slack", WORKSPACE, 40.0)  # every send waits 40 s for the workspace
    taken: list[Message] = []

    async def sleep_and_lose_the_claim(seconds: float) -> None:
        await rig.now.sleep(seconds)
        if not taken:
            # Meanwhile the lease (30 s) ran out, and another sender took the message over.
            taken.extend(
                rig.store.claim_stranded(
                    "other", rig.now.at, rig.now.at + timedelta(seconds=30), 5, ("slack",)
                )
            )

    rig.pacer.sleep = sleep_and_lose_the_claim
    slow = rig.sender("slow", lease_s=30)
    assert await slow.send_due() == 1
    assert [m.id for m in taken] == [m.id for m in rig.store.messages(run.id, "invite")]
    assert rig.posts() == 0
    stored = rig.row(taken[0].id)
    assert (stored["state"], stored["claimed_by"]) == (SENDING, "other")


async def test_a_long_wait_for_a_token_renews_the_lease(rig: Rig) -> None:
    run = rig.open(1)
    rig.pacer.slow_down("slack", WORKSPACE, 40.0)
    sender = rig.sender("slow", lease_s=30)
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.attempts) == (SENT, 1)
    assert rig.posts() == 1
    assert rig.now.elapsed == pytest.approx(40 + 1 / (RATE * 0.75))


# -- closed runs ----------------------------------------------------------------------------------------


async def test_messages_of_a_closed_run_are_cancelled_not_sent(rig: Rig) -> None:
    run = rig.open(3)
    assert rig.store.close_run(run.id, T0)
    assert await rig.sender().drain(sleep=rig.now.sleep) == 0
    assert {m.state for m in rig.store.messages(run.id, "invite")} == {CANCELLED}
    assert rig.posts() == 0


async def test_a_claimed_message_of_a_run_closed_since_is_cancelled(rig: Rig) -> None:
    run = rig.open(2)
    (stranded,) = rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("slack",))
    sender = rig.sender("survivor")
    assert await sender.send_due() == 1  # the other one, sent while the run is open
    rig.now.advance(30)
    assert rig.store.close_run(run.id, rig.now.at)
    rig.now.at = T0 + timedelta(seconds=61)
    assert await sender.send_due() == 1
    stored = rig.row(stranded.id)
    assert (stored["state"], stored["error"], stored["sent_at"]) == (
        CANCELLED,
        "the survey closed before this was sent",
        None,
    )
    assert rig.posts() == 1
    # It was looked for first: had it gone out before the crash, it would count as delivered.
    assert len(rig.fake.of("conversations.history")) == 1


# -- other couriers -------------------------------------------------------------------------------------


@dataclass
class TeamsLikeCourier:
    """A courier that cannot look a message up (as Teams), failing the first ``fail`` attempts."""

    platform: str = "teams"
    fail: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def deliver(self, user_id: str, reply: Reply, marker: str) -> Outcome:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("connection reset")
        self.sent.append((user_id, marker))
        return Outcome("sent", ref=f"conv/{len(self.sent)}")

    async def find_delivery(self, user_id: str, marker: str, since: datetime) -> str | None:
        raise NotImplementedError

    async def members_of(self, channel_id: str) -> list[str]:
        return []

    async def workspace_of(self, user_id: str) -> str:
        return "tenant"


async def test_a_courier_that_raises_is_retried_and_other_platforms_are_left_alone(rig: Rig) -> None:
    teams_run = rig.open(1, key="t/2023-W46", platform="teams")
    slack_run = rig.open(1)
    courier = TeamsLikeCourier(fail=1)
    sender = rig.sender("teams-only", couriers={"teams": courier})
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(teams_run.id, "invite")
    assert (message.state, rig.row(message.id)["error"]) == (
        PENDING,
        "unsure: RuntimeError: connection reset",
    )
    assert rig.row(message.id)["due_at"] == T0 + timedelta(seconds=2)
    rig.now.advance(2)
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(teams_run.id, "invite")
    assert (message.state, message.message_ref) == (SENT, "conv/1")
    assert courier.sent == [(message.recipient, marker_of(message))]
    # The Slack run is not this sender's to send.
    assert {m.state for m in rig.store.messages(slack_run.id, "invite")} == {PENDING}
    assert rig.posts() == 0


async def test_a_stranded_message_on_a_platform_that_cannot_be_asked_is_sent_again(rig: Rig) -> None:
    run = rig.open(1, key="t/2023-W46", platform="teams")
    rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("teams",))
    courier = TeamsLikeCourier()
    sender = rig.sender("survivor", couriers={"teams": courier})
    rig.now.at = T0 + timedelta(seconds=61)
    assert await sender.send_due() == 1
    (message,) = rig.store.messages(run.id, "invite")
    assert (message.state, message.message_ref) == (SENT, "conv/1")
    assert len(courier.sent) == 1


# -- what the review found ------------------------------------------------------------------------


class PostsThenTimesOut:
    """Slack takes the message, but the answer never comes back (a timeout after the post)."""

    platform = "slack"

    def __init__(self, slack: SlackAdapter) -> None:
        self.slack = slack
        self.calls = 0

    async def deliver(self, user_id: str, reply: Reply, marker: str) -> Outcome:
        self.calls += 1
        outcome = await self.slack.deliver(user_id, reply, marker)
        return Outcome("retry", error="network: TimeoutError") if self.calls == 1 else outcome

    async def find_delivery(self, user_id: str, marker: str, since: datetime) -> str | None:
        return await self.slack.find_delivery(user_id, marker, since)

    async def members_of(self, channel_id: str) -> list[str]:
        return []

    async def workspace_of(self, user_id: str) -> str:
        return WORKSPACE


async def test_a_timeout_after_slack_took_the_message_does_not_send_it_twice(rig: Rig) -> None:
    run = rig.open(1)
    courier = PostsThenTimesOut(rig.slack)
    sender = rig.sender(couriers={"slack": courier})
    assert await sender.drain(sleep=rig.now.sleep) == 2  # the try, then the check that finds it
    (message,) = rig.store.messages(run.id, "invite")
    assert message.state == SENT and message.message_ref is not None
    assert rig.posts() == 1 and courier.calls == 1
    assert len(rig.fake.of("conversations.history")) == 1


async def test_a_revoked_token_stops_the_sender_and_keeps_every_message(rig: Rig, kb: KnowledgeBase) -> None:
    run = rig.open(3)
    revoked = SlackAdapter(Bot(kb), "xoxb-revoked", "signing-secret", rig.fake.api_url)
    try:
        sender = rig.sender(couriers={"slack": revoked})
        with pytest.raises(SendingHalted, match="Slack refused the bot: invalid_auth"):
            await sender.send_due()
    finally:
        await revoked.close()
    assert {m.state for m in rig.store.messages(run.id, "invite")} == {PENDING}
    rig.now.advance(61)
    assert await rig.sender("fixed").drain(sleep=rig.now.sleep) == 3  # nothing was lost
    assert {m.state for m in rig.store.messages(run.id, "invite")} == {SENT}


async def test_a_stranded_message_to_someone_gone_ends_instead_of_looping(rig: Rig) -> None:
    run = rig.open(1)
    rig.store.claim("dead", T0, T0 + timedelta(seconds=60), 1, ("slack",))
    (person,) = users(1)
    rig.fake.refuse(person, "user_not_found")
    rig.now.at = T0 + timedelta(seconds=61)
    assert await rig.sender("survivor").drain(sleep=rig.now.sleep) == 1
    (message,) = rig.store.messages(run.id, "invite")
    assert message.state == INACTIVE
    assert rig.fake.delivered() == []


def test_reminding_twice_keeps_the_first_reminder_time(rig: Rig) -> None:
    run = rig.open(2)
    (first, second) = users(2)
    assert rig.store.queue_reminders(run.id, [Recipient(first, WORKSPACE)], T0 + timedelta(hours=1)) == 1
    assert rig.store.queue_reminders(run.id, [Recipient(second, WORKSPACE)], T0 + timedelta(hours=5)) == 1
    assert rig.store.run(run.id).reminded_at == T0 + timedelta(hours=1)  # type: ignore[union-attr]


async def test_a_reminder_to_someone_who_answered_meanwhile_is_not_sent(rig: Rig) -> None:
    run = rig.open(2)
    answered = users(2)[0]
    rig.store.queue_reminders(run.id, [Recipient(u, WORKSPACE) for u in users(2)], T0)
    for message in rig.store.messages(run.id, "invite"):
        rig.store.claim("x", T0, T0 + timedelta(seconds=1), 10, ("slack",))
        rig.store.finish(message.id, "x", SENT, T0, ref="D/1")

    def wanted(run_: Run, message: Message) -> bool:
        return message.kind != "reminder" or message.recipient != answered

    sender = Sender(rig.store, {"slack": rig.slack}, build, rig.pacer, rig.now, wanted=wanted)
    await sender.drain(sleep=rig.now.sleep)
    states = {m.recipient: m.state for m in rig.store.messages(run.id, "reminder")}
    assert states == {answered: CANCELLED, users(2)[1]: SENT}
    assert [c.body["channel"] for c in rig.fake.of("chat.postMessage")] == [users(2)[1]]
