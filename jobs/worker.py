"""The outbox loop: send what is due, then wait for the next message to fall due, a kick, or the
poll. ``pmo-bot worker`` runs one (any number of workers share the outbox through their claims);
the clock runs one too, so that a single clock is a whole deployment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from bot.storage.surveys import SurveyStore
from jobs.sender import Sender, SendingHalted

log = logging.getLogger(__name__)

IDLE_POLL_S = 5.0
HALTED_WAIT_S = 30.0


class OutboxWorker:
    def __init__(
        self, sender: Sender, store: SurveyStore, now: Callable[[], datetime], poll_s: float = IDLE_POLL_S
    ) -> None:
        self.sender = sender
        self.store = store
        self.now = now
        self.poll_s = poll_s
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Something was queued here: send now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            wait = await self.once()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def once(self) -> float:
        """Sends what is due; returns how long to wait before looking again."""
        try:
            await self.sender.send_due()
            due = await asyncio.to_thread(self.store.next_due)
        except SendingHalted as halted:
            # Credentials or scopes: nothing goes until someone fixes them; say so, and look again.
            log.error("sending stopped: the platform refuses the bot", extra={"problem": str(halted)})
            return HALTED_WAIT_S
        except Exception:
            log.exception("sending survey messages failed; trying again shortly")
            return self.poll_s
        if due is None:
            return self.poll_s
        return min(self.poll_s, max(0.05, (due - self.now()).total_seconds()))
