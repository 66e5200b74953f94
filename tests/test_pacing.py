"""Pacing: token buckets per platform and workspace, on a fake clock that only the fake sleep moves.

Nothing here waits in real time: ``FakeTime.sleep`` records what was asked and advances the clock.
"""

from __future__ import annotations

import asyncio

import pytest

from jobs.pacing import Bucket, Limits, Pacer

TICK = 1e-6


class FakeTime:
    """A monotonic clock and an async sleep that advances it instead of waiting.

    Like a real sleep, one never takes less than a microsecond: the bucket may ask for a wait of
    1e-18 s (a float remainder), which added to a clock near 1000 s would change nothing and spin.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0, seconds
        self.sleeps.append(seconds)
        self.now += max(seconds, TICK)


def pacer(time_: FakeTime, limits: Limits | None = None) -> Pacer:
    return Pacer(limits or Limits(), time_.clock, time_.sleep)


# -- the bucket ---------------------------------------------------------------------------------


def test_a_bucket_starts_full_then_refills_at_its_rate() -> None:
    bucket = Bucket(rate=10.0, burst=3.0, stamp=0.0)
    for _ in range(3):
        assert bucket.wait_time(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.1)
    assert bucket.wait_time(0.05) == pytest.approx(0.05)
    assert bucket.wait_time(0.1) == pytest.approx(0.0, abs=1e-12)
    # A long idle refills to the burst, never beyond it.
    bucket.take(0.1)
    assert bucket.wait_time(100.0) == 0.0
    assert bucket.tokens == pytest.approx(3.0)


def test_a_bucket_refuses_a_zero_rate_or_a_burst_below_one() -> None:
    with pytest.raises(ValueError, match="rate above 0"):
        Bucket(rate=0.0, burst=1.0)
    with pytest.raises(ValueError, match="burst of at least 1"):
        Bucket(rate=5.0, burst=0.5)


def test_the_default_limits_keep_three_percent_under_the_platform_rate() -> None:
    limits = Limits()
    slack, teams = limits.bucket("slack"), limits.bucket("teams")
    assert (slack.rate, slack.burst, slack.ceiling) == (pytest.approx(48.5), 1.0, pytest.approx(48.5))
    assert teams.rate == pytest.approx(48.5)
    assert Limits(slack_workspace=10, teams_tenant=20).bucket("teams").rate == pytest.approx(19.4)
    assert Limits(slack_workspace=10, teams_tenant=20).bucket("slack").rate == pytest.approx(9.7)


# -- the pacer ----------------------------------------------------------------------------------


async def test_a_thousand_sends_take_a_thousand_over_the_paced_rate() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    start = time_.now
    for _ in range(1000):
        await paced.acquire("slack", "T1")
    took = time_.now - start
    expected = 1000 / (50 * 0.97)  # 20.6 s
    assert took == pytest.approx(expected, rel=0.02)
    # Evenly spaced, not bursts: the bucket holds one token, so no gap is shorter than a period
    # (one wait per send after the first; the float remainder may add a negligible extra wait).
    assert max(time_.sleeps) == pytest.approx(1 / 48.5)
    assert sum(1 for s in time_.sleeps if s > 1e-6) == 999


async def test_teams_tenants_are_paced_at_their_own_rate() -> None:
    time_ = FakeTime()
    paced = pacer(time_, Limits(teams_tenant=20.0))
    for _ in range(101):
        await paced.acquire("teams", "tenant-1", channel="29:conversation")
    assert time_.now - 1000.0 == pytest.approx(100 / (20 * 0.97), rel=0.01)
    # A channel is a Slack notion: Teams sends take the tenant's bucket only.
    assert set(paced.buckets) == {("teams", "tenant-1")}


async def test_repeated_sends_into_one_slack_channel_go_about_once_a_second() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    stamps = []
    for _ in range(10):
        await paced.acquire("slack", "T1", channel="C0DIGEST")
        stamps.append(time_.now - 1000.0)
    # A burst of three (spaced by the workspace's 48.5/s), then one a second: the channel's limit.
    assert stamps[:3] == pytest.approx([0.0, 1 / 48.5, 2 / 48.5])
    assert stamps[3:] == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert set(paced.buckets) == {("slack#", "C0DIGEST"), ("slack", "T1")}


async def test_sends_into_different_slack_channels_are_paced_by_the_workspace_only() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    for n in range(50):
        await paced.acquire("slack", "T1", channel=f"D{n:08d}")
    assert time_.now - 1000.0 == pytest.approx(49 / 48.5)


async def test_slow_down_pauses_for_the_time_asked_and_cuts_the_rate() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    await paced.acquire("slack", "T1")
    paced.slow_down("slack", "T1", 3.0)
    bucket = paced.bucket("slack", "T1")
    assert bucket.paused_until == pytest.approx(1003.0)
    assert bucket.rate == pytest.approx(48.5 * 0.75)
    await paced.acquire("slack", "T1")
    # The whole pause, then one token's worth at the lower rate: no burst saved up while paused.
    assert time_.now - 1000.0 == pytest.approx(3.0 + 1 / (48.5 * 0.75))
    assert sum(time_.sleeps) == pytest.approx(3.0 + 1 / (48.5 * 0.75))


async def test_several_refusals_within_one_pause_cut_the_rate_once() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    paced.slow_down("slack", "T1", 2.0)
    paced.slow_down("slack", "T1", 2.0)
    time_.now += 1.0
    paced.slow_down("slack", "T1", 5.0)  # still paused: the pause grows, the rate does not drop
    bucket = paced.bucket("slack", "T1")
    assert bucket.rate == pytest.approx(48.5 * 0.75)
    assert bucket.paused_until == pytest.approx(1006.0)
    time_.now = 1006.0
    paced.slow_down("slack", "T1", 1.0)  # a refusal after the pause: a second cut
    assert bucket.rate == pytest.approx(48.5 * 0.75 * 0.75)


def test_the_rate_never_drops_below_a_fiftieth_of_the_ceiling() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    for _ in range(40):
        paced.slow_down("slack", "T1", 1.0)
        time_.now += 1.0
    assert paced.bucket("slack", "T1").rate == pytest.approx(48.5 / 50)


def test_speed_up_climbs_back_to_the_ceiling_and_never_above() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    paced.speed_up("slack", "T1")
    assert paced.bucket("slack", "T1").rate == pytest.approx(48.5)  # already at the ceiling
    paced.slow_down("slack", "T1", 1.0)
    bucket = paced.bucket("slack", "T1")
    assert bucket.rate == pytest.approx(36.375)
    # Each success adds a twenty-thousandth of the ceiling: a quarter back takes five thousand.
    for _ in range(4999):
        paced.speed_up("slack", "T1")
    assert bucket.rate == pytest.approx(48.5 - 48.5 / 20_000)
    assert bucket.rate < 48.5
    paced.speed_up("slack", "T1")
    assert bucket.rate == pytest.approx(48.5)
    for _ in range(100):
        paced.speed_up("slack", "T1")
    assert bucket.rate == bucket.ceiling


async def test_a_paused_workspace_does_not_hold_up_another() -> None:
    time_ = FakeTime()
    gate = asyncio.Event()
    asked: list[float] = []

    async def blocking_sleep(seconds: float) -> None:
        asked.append(seconds)
        await gate.wait()
        time_.now += seconds

    paced = Pacer(Limits(), time_.clock, blocking_sleep)
    paced.slow_down("slack", "T-busy", 30.0)
    waiting = asyncio.ensure_future(paced.acquire("slack", "T-busy"))
    await asyncio.sleep(0)  # let it start waiting for the pause to end
    assert asked == [30.0]
    # Another workspace, and a Teams tenant, take their tokens at once while T-busy waits.
    await asyncio.wait_for(paced.acquire("slack", "T-quiet"), 1.0)
    await asyncio.wait_for(paced.acquire("teams", "T-busy"), 1.0)
    assert asked == [30.0]
    assert time_.now == 1000.0
    assert not waiting.done()
    gate.set()
    await asyncio.wait_for(waiting, 1.0)
    assert time_.now >= 1030.0


async def test_concurrent_waiters_on_one_workspace_take_tokens_in_turn() -> None:
    time_ = FakeTime()
    paced = pacer(time_)
    order: list[int] = []

    async def send(n: int) -> None:
        await paced.acquire("slack", "T1")
        order.append(n)

    await asyncio.gather(*(send(n) for n in range(20)))
    assert order == list(range(20))
    assert time_.now - 1000.0 == pytest.approx(19 / 48.5)


def test_a_refusal_cuts_to_what_got_through_in_the_second_before() -> None:
    # Told 80 a second where the platform takes 50: the 51st send in a second is refused, and the
    # rate drops straight to just under the 50 that got through, not by a blind quarter.
    time_ = FakeTime()
    paced = Pacer(Limits(slack_workspace=80), time_.clock, time_.sleep)
    for _ in range(50):
        paced.speed_up("slack", "T1")
        time_.now += 1 / 80
    paced.slow_down("slack", "T1", 1.0)
    assert paced.bucket("slack", "T1").rate == pytest.approx(50 * 0.95)
