"""The scheduler: APScheduler 3's AsyncIOScheduler, inside ``serve`` (``PMO_SCHEDULER=embedded``)
or alone in ``pmo-bot clock``.

Jobs have stable ids: ``survey:<team>`` (the team's cron, in its time zone) and ``pmo:tick`` (every
minute: re-read the teams file, open runs missed while no clock ran, remind, close). APScheduler
keeps its jobs in memory, so the database, not the scheduler, decides whether a run is due: a run
opens once per period however many clocks run or restart. A sender task sends what is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.errors import ConfigError
from bot.storage.surveys import Run
from jobs.sender import Sender
from jobs.surveys import Surveys
from jobs.worker import OutboxWorker

log = logging.getLogger(__name__)

TICK_ID = "pmo:tick"
TICK_S = 60
FIRST_TICK_S = 1
Closed = Callable[[Run], Awaitable[None]]


def job_id(team_id: str) -> str:
    return f"survey:{team_id}"


class SurveyClock:
    def __init__(
        self,
        surveys: Surveys,
        sender: Sender,
        on_close: Closed | None = None,
        tick_s: float = TICK_S,
        sweep: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.surveys = surveys
        # Each tick also runs ``sweep``: the digests nobody posted (their poster died).
        self.sweep = sweep
        self.tick_s = tick_s
        self.sender = sender
        self.on_close = on_close
        self.scheduler: AsyncIOScheduler | None = None
        self.outbox = OutboxWorker(sender, surveys.store, surveys.now)
        self._sending: asyncio.Task[None] | None = None
        self._scheduled: dict[str, tuple[str, str]] = {}

    # -- life -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=self.surveys.default_timezone)
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.tick_s),
            id=TICK_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(max(1, self.tick_s)),
            # Soon after start, once the server holds its port.
            next_run_time=datetime.now(self.scheduler.timezone) + timedelta(seconds=FIRST_TICK_S),
        )
        self.reschedule()
        self.scheduler.start()
        self._sending = asyncio.ensure_future(self.outbox.run())
        log.info("scheduler started", extra={"jobs": [j.id for j in self.scheduler.get_jobs()]})

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._sending is not None:
            self._sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sending

    def kick(self) -> None:
        """Something was queued: send now rather than at the next poll."""
        self.outbox.kick()

    # -- jobs -------------------------------------------------------------------------------------

    def reschedule(self) -> None:
        """One cron job per team, kept in step with the teams file (added, changed, removed)."""
        if self.scheduler is None:
            return
        try:
            teams = self.surveys.teams.load().teams
        except ConfigError as exc:
            log.error("no survey schedules: the teams file is broken", extra={"problem": str(exc)})
            return
        wanted = {}
        for team in teams:
            zone = self.surveys.zone(team)
            wanted[job_id(team.id)] = (team, (team.survey.schedule, zone.key))
        for stale in set(self._scheduled) - set(wanted):
            self.scheduler.remove_job(stale)
            del self._scheduled[stale]
        for jid, (team, signature) in wanted.items():
            if self._scheduled.get(jid) == signature:
                continue
            self.scheduler.add_job(
                self.open_scheduled,
                CronTrigger.from_crontab(team.survey.schedule, timezone=self.surveys.zone(team)),
                args=[team.id],
                id=jid,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                # Late by less than the survey's window (a busy loop, a restart): still open it.
                misfire_grace_time=int(team.survey.open_hours * 3600),
            )
            self._scheduled[jid] = signature

    async def open_scheduled(self, team_id: str) -> None:
        await self.tick()

    async def tick(self) -> None:
        """Opens due runs (catching up on missed ones), closes and reminds, then wakes the sender."""
        try:
            # Teams set up or paused from chat in any process: read from a worker thread.
            await asyncio.to_thread(self.surveys.teams.refresh)
            self.reschedule()
            now = self.surveys.now()
            for team, period, fired in await asyncio.to_thread(self.surveys.due_opens, now):
                try:
                    opened = await self.surveys.open(team.id, period=period, opened_at=fired)
                except Exception:
                    # One team's failure (its platform not connected, its channel gone) must not
                    # stop the other teams opening, nor runs closing and reminding below.
                    log.exception("opening a scheduled survey failed", extra={"team": team.id})
                    continue
                if opened.created:
                    log.info("scheduled survey opened", extra={"team": team.id, "period": period})
            closed, reminded = await asyncio.to_thread(self.surveys.close_and_remind_due, now)
            for run in closed:
                if self.on_close is not None:
                    await self.on_close(run)
            if self.sweep is not None:
                await self.sweep()
            if reminded:
                log.info("reminders queued", extra={"count": reminded})
        except asyncio.CancelledError:
            # The process is stopping (or never got its port): the next clock finishes the work.
            log.info("scheduler tick stopped by shutdown")
            return
        except Exception:
            log.exception("scheduler tick failed")
        self.kick()
