"""How much one person may ask of the bot at once, so that one person's flood (a script, a stuck
client, a held-down key) cannot starve everyone else of answers.

A token bucket per person: a burst, then a steady pace. Messages and clicks share one budget; file
reviews, which cost far more, have a tighter one of their own. A person is known by
:attr:`bot.turn.Turn.person` ("slack:U123", "web:<browser id>"); a turn with no person (the
terminal, ``pmo-bot ask``) is never limited. The defaults are far above what anyone typing or
clicking reaches; the settings (``PMO_TURN_BURST`` and the others) change them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.reply import Reply
from bot.turn import Turn

log = logging.getLogger(__name__)

LIMITED = "limited"  # the intent of a refusal, which the web chat answers with 429
MAX_PEOPLE = 10_000


@dataclass(frozen=True)
class Budget:
    """``burst`` at once, then ``per_s`` a second."""

    burst: float
    per_s: float


# A survey of many services answered quickly is some twenty clicks in a few seconds.
TURNS = Budget(burst=20, per_s=1.0)
# A handful of registers shared together; a review of a large workbook takes seconds of CPU.
FILES = Budget(burst=3, per_s=3 / 60)


@dataclass
class _Bucket:
    tokens: float
    at: float
    refused: bool = False  # refused since last allowed: the log says so once, not per request


class Buckets:
    """One budget's buckets, one a person. A bucket that has filled up again is as good as none,
    so it is dropped; and there are never more than ``limit``: past that the bucket used longest
    ago goes, which can only let its owner off lightly."""

    def __init__(
        self, name: str, budget: Budget, clock: Callable[[], float], limit: int = MAX_PEOPLE
    ) -> None:
        if budget.burst < 1 or budget.per_s <= 0 or limit < 1:
            raise ValueError(f"a {name} budget needs a burst of 1 or more and a rate above 0")
        self.name = name
        self.budget = budget
        self.clock = clock
        self.limit = limit
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # the one used longest ago first
        self._lock = threading.Lock()  # turns are answered in worker threads

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, person: str) -> float:
        """0 when ``person`` may go on (and one is taken from their budget); else the seconds
        until they may."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.pop(person, None)
            if bucket is None:
                bucket = _Bucket(float(self.budget.burst), now)
            else:
                # A clock stepped back gives nothing, and takes nothing either.
                earned = max(0.0, now - bucket.at) * self.budget.per_s
                bucket.tokens = min(float(self.budget.burst), bucket.tokens + earned)
                bucket.at = now
            self._buckets[person] = bucket
            wait, first = 0.0, False
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                bucket.refused = False
            else:
                wait = (1 - bucket.tokens) / self.budget.per_s
                first, bucket.refused = not bucket.refused, True
            self._forget_idle(now)
        if first:
            log.warning("a person is over their limit", extra={"person": person, "budget": self.name})
        return wait

    def _forget_idle(self, now: float) -> None:
        while self._buckets:
            person, oldest = next(iter(self._buckets.items()))
            full_at = oldest.at + (self.budget.burst - oldest.tokens) / self.budget.per_s
            if len(self._buckets) <= self.limit and full_at > now:
                return
            del self._buckets[person]


class Limits:
    """The two budgets a person has: ``turns`` (messages and clicks) and ``files`` (reviews)."""

    def __init__(
        self,
        turns: Budget = TURNS,
        files: Budget = FILES,
        clock: Callable[[], float] | None = None,
        limit: int = MAX_PEOPLE,
    ) -> None:
        now = clock or time.monotonic
        self.turns = Buckets("turns", turns, now, limit)
        self.files = Buckets("files", files, now, limit)

    def turn(self, turn: Turn, answer: bool = False) -> Reply | None:
        """None when ``turn`` may be answered, else the reply that says when to try again;
        ``answer``: the turn is a survey answer, and the reply must say it was not kept."""
        wait = self.turns.take(turn.person) if turn.person else 0.0
        if not wait:
            return None
        if answer:
            line = "That was a lot of clicks at once, so your answer was not recorded"
            return refusal(f"{line}: {_again(wait)}", wait)
        return refusal(f"You're going faster than I can keep up with: {_again(wait)}", wait)

    def file(self, turn: Turn) -> Reply | None:
        """None when ``turn`` may have a file reviewed, else the reply that says when to send it again."""
        wait = self.files.take(turn.person) if turn.person else 0.0
        if not wait:
            return None
        return refusal(f"That's more files than I review at once: please send it again {_when(wait)}.", wait)


def refusal(line: str, wait: float) -> Reply:
    """One line; the seconds to wait, rounded up, go with it for an adapter that can say them."""
    return Reply(line, intent=LIMITED, slots={"retry_after": str(math.ceil(wait))})


def _again(wait: float) -> str:
    return f"please try again {_when(wait)}."


def _when(wait: float) -> str:
    seconds = math.ceil(wait)
    if seconds <= 1:
        return "in a second"
    if seconds < 90:
        return f"in {seconds} seconds"
    return f"in {math.ceil(seconds / 60)} minutes"
