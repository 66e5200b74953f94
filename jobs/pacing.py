"""Pacing outgoing messages: token buckets per platform and workspace (or tenant).

Platforms limit how fast a bot may post (Slack: about one message a second into one channel, and an
unpublished cap for the workspace; Teams: about 50 a second for a tenant). Each survey DM is a
channel of its own, so the workspace or tenant cap is the one a fan-out meets. Sending just under
the limit is faster than sending flat out and being told to wait, so every send takes a token
first, and a 429 pauses the whole bucket for the time the platform asks.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

MIN_SAMPLE = 5  # sends in the last second needed to estimate a platform's limit from them
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Bucket:
    """``rate`` tokens a second, holding at most ``burst``; starts full."""

    rate: float
    burst: float
    ceiling: float = 0.0  # the configured rate; after a 429 the rate drops and climbs back to it
    tokens: float = -1.0
    stamp: float = 0.0
    paused_until: float = 0.0
    _successes: deque[float] = field(default_factory=lambda: deque(maxlen=4096))

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a bucket needs a rate above 0 and a burst of at least 1")
        if self.tokens < 0:
            self.tokens = self.burst
        self.ceiling = self.ceiling or self.rate

    def wait_time(self, now: float) -> float:
        """Seconds until a token is free (0: take one now)."""
        self._refill(now)
        if now < self.paused_until:
            return self.paused_until - now
        # A hair short of a token (float arithmetic) counts as a token: a wait of 1e-18 s would
        # never move a clock forward.
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
        self.tokens = min(self.tokens, 0.0)  # start slowly after the pause, not with a burst

    def slow_down(self, now: float, seconds: float) -> None:
        """A 429: wait as asked, and send slower from then on (a configured rate above what the
        platform allows would otherwise hit the limit again every second). Platforms count over
        the last second, so what got through in the second before the refusal is the limit's
        best estimate; with too few sends to tell, a quarter slower."""
        if now >= self.paused_until:  # one cut per pause, however many sends were refused
            recent = sum(1 for t in self._successes if t > now - 1.0)
            cut = recent * 0.95 if recent >= MIN_SAMPLE else self.rate * 0.75
            self.rate = max(self.ceiling / 50, min(cut, self.rate * 0.95))
        self.pause(now, seconds)

    def speed_up(self, now: float = 0.0) -> None:
        """A success: creep back towards the configured rate, slowly (a tenth of it takes two
        thousand sends), so that a rate found too high is not tried again at once."""
        self.rate = min(self.ceiling, self.rate + self.ceiling / 20_000)
        self._successes.append(now)

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            start = (
                max(self.stamp, min(now, self.paused_until)) if self.paused_until > self.stamp else self.stamp
            )
            self.tokens = min(self.burst, self.tokens + (now - start) * self.rate)
            self.stamp = now


@dataclass(frozen=True)
class Limits:
    """Messages a second. Slack's per-channel limit matters for channel posts (digests); each DM
    is its own channel."""

    slack_workspace: float = 50.0
    slack_channel: float = 1.0
    teams_tenant: float = 50.0
    # Evenly spaced sends a little under the limit: a platform counting over any one-second window
    # refuses the send that a burst, or a late timer, would squeeze in.
    headroom: float = 0.97

    def bucket(self, platform: str) -> Bucket:
        rate = self.slack_workspace if platform == "slack" else self.teams_tenant
        return Bucket(rate * self.headroom, 1.0)


@dataclass
class Pacer:
    limits: Limits
    clock: Clock
    sleep: Sleep = asyncio.sleep
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    _locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)

    def bucket(self, platform: str, workspace: str) -> Bucket:
        key = (platform, workspace)
        if key not in self.buckets:
            self.buckets[key] = self.limits.bucket(platform)
        return self.buckets[key]

    async def acquire(self, platform: str, workspace: str, channel: str = "") -> None:
        """Waits for a token of the channel's bucket (Slack), then of the workspace's. Waiters queue
        on a lock, so that tokens go in turn rather than to whoever wakes first."""
        if channel and platform == "slack":
            await self._take(("slack#", channel), lambda: Bucket(self.limits.slack_channel, 3.0))
        await self._take((platform, workspace), lambda: self.limits.bucket(platform))

    async def _take(self, key: tuple[str, str], make: Callable[[], Bucket]) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = make()
            now = self.clock()
            while (wait := bucket.wait_time(now)) > 0:
                due = now + wait
                await self.sleep(wait)
                # Timers fire late (asyncio rounds a wait up to the millisecond, and the loop has
                # other sends to run). The bucket holds one token, so a token taken when the timer
                # fired would lose that lateness on every send: 1.2 ms of 20.6 at 48.5/s, 6 % of the
                # pace. Take it when it fell due instead (the clock when that is no step forward).
                fired = self.clock()
                now = min(fired, due) if due > now else fired
            bucket.take(now)

    def slow_down(self, platform: str, workspace: str, seconds: float) -> None:
        self.bucket(platform, workspace).slow_down(self.clock(), seconds)

    def speed_up(self, platform: str, workspace: str) -> None:
        self.bucket(platform, workspace).speed_up(self.clock())
