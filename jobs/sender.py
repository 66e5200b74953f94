"""The outbox sender: claims queued survey messages, sends each through its platform's courier at
the pace the platform allows, and records what happened.

Crash safety comes from the claim. A message is "sending" only under a lease; a sender that dies
leaves it stranded, and whoever claims it next first asks the platform whether it went out (Slack
keeps the outbox id in the message's metadata) before sending it again. Teams cannot be asked, so
there a message stranded at the very moment of a crash may arrive twice; nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import DeliveryError
from bot.ports import Courier, Outcome
from bot.reply import Reply
from bot.storage.surveys import (
    CANCELLED,
    FAILED,
    INACTIVE,
    SENT,
    UNCHECKED,
    UNKNOWN,
    Message,
    Run,
    SurveyStore,
)
from jobs.pacing import Pacer

log = logging.getLogger(__name__)

Now = Callable[[], datetime]
Build = Callable[[Run, Message], Reply]
Progress = Callable[[int], None]
RUN_RECHECK = timedelta(seconds=2)
UNSURE = "unsure: "  # the error of a message that may have been delivered despite it
HALT_RETRY_S = 60.0
UNCHECKED_NOTE = "could not check whether it was delivered (after every check allowed); not sent again"
Wanted = Callable[[Run, Message], bool]


class SendingHalted(DeliveryError):
    """The platform refuses the bot itself (credentials, scopes, unreachable): nothing can be
    sent until that is fixed. Messages stay queued."""


@dataclass(frozen=True)
class SenderSettings:
    lease_s: float = 60.0  # far longer than one send, rate-limit pauses included
    batch: int = 50
    concurrency: int = 16
    max_attempts: int = 6
    backoff_s: float = 2.0
    backoff_cap_s: float = 300.0


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def marker_of(message: Message) -> str:
    return f"pmo-outbox-{message.id}"


class Sender:
    def __init__(
        self,
        store: SurveyStore,
        couriers: Mapping[str, Courier],
        build: Build,
        pacer: Pacer,
        now: Now,
        settings: SenderSettings | None = None,
        worker: str | None = None,
        wanted: Wanted | None = None,
    ) -> None:
        self.store = store
        self.couriers = couriers
        self.build = build
        self.pacer = pacer
        self.now = now
        self.settings = settings or SenderSettings()
        self.worker = worker or worker_name()
        self.wanted = wanted
        self.halted: str | None = None
        self._runs: dict[int, tuple[Run, datetime]] = {}

    async def send_due(self, progress: Progress | None = None) -> int:
        """Sends everything due now (stranded messages first); returns how many were settled.
        Raises SendingHalted when the platform refuses the bot itself."""
        done = 0
        limit = asyncio.Semaphore(self.settings.concurrency)
        self.halted = None
        while True:
            batch = await self._claim()
            if not batch:
                return done

            async def one(message: Message) -> None:
                async with limit:
                    await self._settle(message)
                if progress is not None:
                    progress(1)

            await asyncio.gather(*(one(m) for m in batch))
            done += len(batch)
            if self.halted is not None:
                raise SendingHalted(self.halted)

    async def drain(
        self,
        sleep: Callable[[float], object] = asyncio.sleep,
        progress: Progress | None = None,
        run_id: int | None = None,
    ) -> int:
        """Sends until nothing is left to send (of one run, or of all), waiting for messages put
        back for later and for leases of dead senders to run out."""
        done = 0
        while True:
            done += await self.send_due(progress)
            # Only what this sender can send: another platform's messages wait for its sender.
            if await asyncio.to_thread(self.store.work_left, run_id, tuple(self.couriers)) == 0:
                return done
            due = await asyncio.to_thread(self.store.next_due)
            wait = 0.05 if due is None else max(0.05, (due - self.now()).total_seconds())
            result = sleep(min(wait, 5.0))
            if asyncio.iscoroutine(result):
                await result

    # -- one message ----------------------------------------------------------------------------

    async def _claim(self) -> list[Message]:
        now = self.now()
        until = now + timedelta(seconds=self.settings.lease_s)
        stranded = await asyncio.to_thread(
            self.store.claim_stranded, self.worker, now, until, self.settings.batch, tuple(self.couriers)
        )
        fresh = await asyncio.to_thread(
            self.store.claim, self.worker, now, until, self.settings.batch, tuple(self.couriers)
        )
        return stranded + fresh

    async def _settle(self, message: Message) -> None:
        try:
            await self._send(message)
        except Exception:
            # A bug or a database failure: leave the claim to lapse, so that the message is
            # checked and sent again later rather than lost.
            log.exception("sending a survey message failed", extra={"message_id": message.id})

    async def _send(self, message: Message) -> None:
        run = await self._run(message.run_id)
        if run is None:
            await self._finish(message, CANCELLED, error="the survey is gone")
            return
        courier = self.couriers[message.platform]
        if message.stranded or (message.error or "").startswith(UNSURE):
            # It may have gone out (a sender died mid-send, or the platform failed after taking
            # it): look before sending again, even if the survey has closed since.
            found, known = await self._look_for(courier, run, message)
            if found is not None:
                await self._finish(message, SENT, ref=found)
                return
            if not known:
                if message.attempts >= self.settings.max_attempts:
                    # The rule: a message that may have gone out is not sent again, since a second
                    # copy is worse than one that never came (the reminder covers that person).
                    await self._finish(message, UNCHECKED, error=UNCHECKED_NOTE)
                    log.warning(
                        "a stranded message could not be checked; settled as unchecked, not re-sent",
                        extra={"message_id": message.id, "checks": message.attempts},
                    )
                return  # the lease lapses and the check is made again
        if not await self._wanted(run, message):
            return
        await self.pacer.acquire(message.platform, message.workspace, message.recipient)
        run = await self._run(message.run_id)
        if run is None or not await self._wanted(run, message) or not await self._still_mine(message):
            return  # closed, or answered, while waiting for a token; or someone else has it
        try:
            reply = self.build(run, message)
            outcome = await courier.deliver(message.recipient, reply, marker_of(message))
        except Exception as exc:
            log.exception("courier failed", extra={"message_id": message.id})
            outcome = Outcome("retry", error=f"{type(exc).__name__}: {exc}"[:200])
        await self._record(run, message, outcome)

    async def _wanted(self, run: Run, message: Message) -> bool:
        """Whether the message should still go: not for a closed survey, nor a reminder to someone
        who has answered since it was queued."""
        if not run.is_open:
            await self._finish(message, CANCELLED, error="the survey closed before this was sent")
            return False
        if self.wanted is not None and not await asyncio.to_thread(self.wanted, run, message):
            await self._finish(message, CANCELLED, error="answered before the reminder went")
            return False
        return True

    async def _look_for(self, courier: Courier, run: Run, message: Message) -> tuple[str | None, bool]:
        since = run.reminded_at if message.kind == "reminder" and run.reminded_at else run.opened_at
        try:
            ref = await courier.find_delivery(
                message.recipient, marker_of(message), since - timedelta(minutes=5)
            )
        except NotImplementedError:
            return None, True
        except Exception as exc:
            # Logged once, when the checks run out (see _send), not at every check.
            problem = {"message_id": message.id, "error": str(exc)}
            log.debug("could not check a stranded message", extra=problem)
            return None, False
        return ref, True

    async def _record(self, run: Run, message: Message, outcome: Outcome) -> None:
        if outcome.status == "sent":
            self.pacer.speed_up(message.platform, message.workspace)
            await self._finish(message, SENT, ref=outcome.ref)
        elif outcome.status == "unknown":
            await self._finish(
                message, UNKNOWN, error=outcome.error or "not reachable: the app is not installed"
            )
        elif outcome.status == "inactive":
            await self._finish(
                message, INACTIVE, error=outcome.error or "the person blocked or removed the bot"
            )
        elif outcome.status == "failed":
            await self._finish(message, FAILED, error=outcome.error)
        elif outcome.status == "halt":
            # Our own set-up is wrong (a revoked token, Slack unreachable): keep the message,
            # and stop sending until someone fixes it.
            self.halted = outcome.error or "the platform refused the bot's credentials"
            await self._later(message, HALT_RETRY_S, outcome.error)
        elif outcome.rate_limited:
            wait = outcome.retry_after if outcome.retry_after is not None else 1.0
            self.pacer.slow_down(message.platform, message.workspace, wait)
            await self._later(message, wait, outcome.error or "rate limited")
        elif message.attempts >= self.settings.max_attempts:
            await self._finish(
                message, FAILED, error=f"gave up after {message.attempts} attempts: {outcome.error}"
            )
        else:
            # A server error or a timeout may come after the platform took the message: marked
            # unsure, it is looked for before it is sent again.
            backoff = min(self.settings.backoff_cap_s, self.settings.backoff_s * 2 ** (message.attempts - 1))
            await self._later(
                message, outcome.retry_after or backoff, UNSURE + (outcome.error or "server error")
            )

    async def _run(self, run_id: int) -> Run | None:
        now = self.now()
        cached = self._runs.get(run_id)
        if cached is None or (cached[0].is_open and now - cached[1] > RUN_RECHECK):
            # Re-read open runs now and then: one may have closed since.
            run = await asyncio.to_thread(self.store.run, run_id)
            if run is None:
                return None
            cached = (run, now)
            self._runs[run_id] = cached
        return cached[0]

    async def _still_mine(self, message: Message) -> bool:
        # A long wait for a token can outlast the lease: renew it when half gone, or let go if
        # someone took over.
        now = self.now()
        half = timedelta(seconds=self.settings.lease_s / 2)
        if message.lease_until is not None and now < message.lease_until - half:
            return True
        until = now + timedelta(seconds=self.settings.lease_s)
        return await asyncio.to_thread(self.store.renew, message.id, self.worker, until)

    async def _finish(self, message: Message, state: str, ref: str | None = None, error: str = "") -> None:
        kept = await asyncio.to_thread(
            self.store.finish, message.id, self.worker, state, self.now(), ref, error
        )
        if not kept:
            log.warning("a claim was lost before its outcome was recorded", extra={"message_id": message.id})

    async def _later(self, message: Message, seconds: float, error: str) -> None:
        due = self.now() + timedelta(seconds=seconds)
        await asyncio.to_thread(self.store.retry_later, message.id, self.worker, due, error)
