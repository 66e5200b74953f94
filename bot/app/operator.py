"""The operator's survey commands (``pmo-bot survey open|close|remind|status``) and ``pmo-bot clock``.

Each command sets up what it needs from settings (database, the platforms that have credentials),
does its work, and reports in a line or two; sending shows a progress bar on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

from bot.app.surveys import SurveyParts
from bot.errors import ConfigError, PmoBotError, SurveyError
from bot.settings import Settings
from jobs.surveys import member_platform
from jobs.teams import TeamDirectory

log = logging.getLogger(__name__)
T = TypeVar("T")
CLOCK_LOCK = "pmo-bot clock"
# How often a standby clock asks for the lock, and the active one checks it still has it: a
# clock that dies is replaced within this (plus the server noticing, at once for a killed process).
STANDBY_POLL_S = 5.0


@contextmanager
def survey_parts(settings: Settings, every_platform: bool = False) -> Iterator[SurveyParts]:
    """Storage migrated, the adapters that can send, and the survey parts over them. A one-off
    command loads the platforms the teams file uses; the clock, which lives on while the file
    changes, loads every platform."""
    from bot.app.parts import Parts, attach_surveys, build_slack, build_teams
    from bot.core import Bot
    from bot.storage import Storage
    from bot.storage.teams import TeamStore
    from knowledge.base import KnowledgeBaseError

    try:
        bot = Bot.from_settings(settings.pmo_knowledge_dir)  # the knowledge snapshot, when it matches
    except KnowledgeBaseError as exc:
        raise ConfigError(str(exc)) from exc
    kb = bot.kb
    storage = Storage(settings.database_url)
    try:
        storage.upgrade()
        # A broken teams file is said before anything else; only the platforms it uses are loaded
        # (botbuilder alone takes a second to import).
        directory = TeamDirectory(settings.pmo_config, kb.functions.keys(), store=TeamStore(storage))
        teams = directory.load().teams  # the file's and those set up from chat
        platforms = {t.platform for t in teams} | {
            member_platform(m, t.platform)[0] for t in teams for m in t.members
        }
        if every_platform:
            platforms |= {"slack", "teams"}
        parts = Parts(settings, bot, storage)
        parts.slack = build_slack(parts, sending_only=True) if "slack" in platforms else None
        parts.teams = build_teams(parts) if "teams" in platforms else None
        survey = attach_surveys(parts)
        assert survey is not None
        yield survey
    finally:
        storage.close()


class Progress:
    """A one-line bar on a terminal; on a pipe, a line at each tenth."""

    def __init__(self, total: int, label: str, out: TextIO = sys.stderr) -> None:
        self.total, self.label, self.out = total, label, out
        self.done = 0
        self._tty = out.isatty()
        self._shown = -1

    def __call__(self, step: int) -> None:
        self.done += step
        self.show()

    def show(self) -> None:
        if self.total <= 0:
            return
        share = min(1.0, self.done / self.total)
        if self._tty:
            filled = int(share * 30)
            self.out.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            if self.done >= self.total:
                self.out.write("\n")
            self.out.flush()
        elif int(share * 10) > self._shown:
            self._shown = int(share * 10)
            self.out.write(f"{self.label}: {self.done}/{self.total}\n")
            self.out.flush()


async def _send(survey: SurveyParts, run_id: int, label: str) -> None:
    left = await asyncio.to_thread(survey.store.work_left, run_id)
    if left:
        progress = Progress(left, label)
        progress.show()
        await survey.sender.drain(progress=progress, run_id=run_id)


async def _close_couriers(survey: SurveyParts) -> None:
    for courier in survey.surveys.couriers.values():
        close = getattr(courier, "close", None)
        if close is not None:
            await close()


def open_survey(settings: Settings, team_id: str, period: str | None) -> str:
    with survey_parts(settings) as survey:
        return asyncio.run(_closing(survey, _open(survey, team_id, period)))


async def _closing(survey: SurveyParts, work: Awaitable[T]) -> T:
    """Runs ``work``, then closes the couriers' connections, whatever happened."""
    try:
        return await work
    finally:
        await _close_couriers(survey)


async def _open(survey: SurveyParts, team_id: str, period: str | None) -> str:
    opened = await survey.surveys.open(team_id, period=period)
    run = opened.run
    if not run.is_open:
        when = run.closed_at.date().isoformat() if run.closed_at else "earlier"
        raise SurveyError(
            f"the survey {run.period_key} already ran and closed ({when}); give --period to open another"
        )
    if not opened.created:
        print(f"{run.period_key} is already open: sending what is left.", file=sys.stderr)
        await asyncio.to_thread(survey.store.hurry, run.id, survey.surveys.now())
    await _send(survey, run.id, "Sending invitations")
    return _summary(survey, team_id, "Opened" if opened.created else "Resumed")


def remind(settings: Settings, team_id: str) -> str:
    with survey_parts(settings) as survey:
        return asyncio.run(_closing(survey, _remind(survey, team_id)))


async def _remind(survey: SurveyParts, team_id: str) -> str:
    run, queued = await asyncio.to_thread(survey.surveys.remind, team_id)
    await _send(survey, run.id, "Sending reminders")
    status = survey.surveys.status(team_id)
    sent = status["reminders"].get("sent", 0) if isinstance(status["reminders"], dict) else 0
    return (
        f"Reminded {queued} of {status['invited']} people (those who have not answered); "
        f"{sent} reminders delivered in all."
    )


def close(settings: Settings, team_id: str) -> str:
    with survey_parts(settings) as survey:
        run = survey.surveys.close(team_id)
        status = survey.surveys.status(team_id)
        line = f"Closed {run.period_key}: {status['turnout']}."
        team = survey.surveys.teams.team(team_id)
        if not team.digest_channel:
            return line + " No digest_channel is set, so no digest was posted."
        try:
            # (post_digest_once reads the run as closed itself.)
            posted = asyncio.run(_closing(survey, survey.post_digest_once(run)))
            return line + " " + (posted or "Another process is posting the digest.")
        except PmoBotError as exc:
            # The survey is closed all the same; the digest can be posted later with --post.
            later = f"pmo-bot digest --team {team_id} --post"
            return f"{line} The digest was not posted: {exc}. Post it later with `{later}`."


def digest(settings: Settings, team_id: str, form: str, post: bool) -> str:
    """The latest closed run's digest as text, JSON or CSV; with ``post``, posted too."""
    with survey_parts(settings) as survey:
        built = survey.digests.build(team_id)
        if form == "json":
            shown = json.dumps(survey.digests.as_json(built), ensure_ascii=False)
        elif form == "csv":
            shown = survey.digests.csv(built).rstrip("\n")
        else:
            from adapters.text import render

            shown = render(survey.digests.reply(built))
        if post:
            posted = asyncio.run(_closing(survey, survey.post_digest(team_id)))
            print(posted, file=sys.stderr)
        return shown


def status(settings: Settings, team_id: str) -> dict[str, object]:
    with survey_parts(settings) as survey:
        return survey.surveys.status(team_id)


def _summary(survey: SurveyParts, team_id: str, verb: str) -> str:
    s = survey.surveys.status(team_id)
    parts = [f"{verb} {s['run']}: {s['delivered']} of {s['invited']} invitations delivered."]
    if s["not_installed"]:
        parts.append(f"{s['not_installed']} people have not installed the app yet.")
    if s["unreachable"]:
        parts.append(f"{s['unreachable']} people blocked or removed the bot.")
    if s["failed"]:
        parts.append(f"{s['failed']} could not be delivered (see the log).")
    if s["unchecked"]:
        parts.append(f"{s['unchecked']} may have been delivered but could not be checked (not sent again).")
    if s["waiting"]:
        parts.append(f"{s['waiting']} are still queued.")
    return " ".join(parts)


def run_clock(settings: Settings) -> None:
    """``pmo-bot clock``: the scheduler and a sender, until SIGTERM or SIGINT. Several may start;
    one is active (it holds the clock lock), the others stand by and take over when it stops."""
    with survey_parts(settings, every_platform=True) as survey:
        asyncio.run(_clock(survey))


def run_worker(settings: Settings) -> None:
    """``pmo-bot worker``: an outbox sender, until SIGTERM or SIGINT. Any number may run."""
    with survey_parts(settings, every_platform=True) as survey:
        asyncio.run(_worker(survey))


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _clock(survey: SurveyParts) -> None:
    from bot.storage.lock import SingleLock
    from jobs.clock import SurveyClock

    stop = _stop_event()
    lock = SingleLock(survey.store.storage, CLOCK_LOCK)
    log.info("clock started; waiting for the clock lock")
    try:
        while not stop.is_set():
            if not await asyncio.to_thread(lock.take):
                await _wait(stop, STANDBY_POLL_S)  # another clock is active
                continue
            clock = SurveyClock(
                survey.surveys,
                survey.sender,
                survey.digest_on_close,
                survey.clock_tick_s,
                sweep=survey.post_due_digests,
            )
            survey.desk.kick = clock.kick
            await clock.start()
            log.info("clock running (this one holds the clock lock)")
            try:
                while not stop.is_set() and await asyncio.to_thread(lock.held):
                    await _wait(stop, STANDBY_POLL_S)
            finally:
                await clock.stop()
            if not stop.is_set():
                log.warning("the clock lock was lost (the database restarted?): standing by")
    finally:
        await asyncio.to_thread(lock.release)
        await _close_couriers(survey)
        log.info("clock stopped")


async def _worker(survey: SurveyParts) -> None:
    from jobs.worker import OutboxWorker

    stop = _stop_event()
    worker = OutboxWorker(survey.sender, survey.store, survey.surveys.now)
    survey.desk.kick = worker.kick
    task = asyncio.ensure_future(worker.run())
    log.info("worker running", extra={"worker": survey.sender.worker})
    try:
        await stop.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await _close_couriers(survey)
        log.info("worker stopped")
