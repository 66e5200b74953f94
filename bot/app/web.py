"""The web process's aiohttp application: Slack, Teams and the local web chat on one port.

Built over the parts (:mod:`bot.app.parts`). Without any credentials it still serves ``/healthz``
and the web chat, and says in its log how to connect Slack.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app.parts import Parts, attach_surveys, build_slack, build_teams
from bot.core import CONVERSATION_TTL_S
from bot.limits import Budget, Limits
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from bot.app.surveys import SurveyParts

__all__ = ["Parts", "build_app", "web_chat_on"]

log = logging.getLogger("pmo_bot.server")

EVENT_MEMORY = dt.timedelta(days=1)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
CLEAN_EVERY_S = 3600.0

SLACK_KEY: web.AppKey[SlackAdapter | None] = web.AppKey("slack")


def _one_drain_at_a_time(survey: SurveyParts) -> Callable[[], None]:
    """A kick that sends what is queued, with one drain running at a time (it sends what is
    queued meanwhile too); a kick while it runs starts another once it ends."""
    running: list[asyncio.Future[int]] = []
    again = [False]

    def ended(task: asyncio.Future[int]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("sending survey messages stopped", exc_info=task.exception())
        running.clear()
        if again[0]:
            kick()

    def kick() -> None:
        if running:
            again[0] = True
            return
        again[0] = False
        task = asyncio.ensure_future(survey.sender.drain())
        running.append(task)
        task.add_done_callback(ended)

    return kick


def _survey_hooks(app: web.Application, parts: Parts) -> None:
    survey = attach_surveys(parts)
    if survey is None:
        return

    async def start(app: web.Application) -> None:
        survey.desk.attach(asyncio.get_running_loop())
        survey.desk.on_close = survey.digest_on_close
        if parts.settings.pmo_scheduler != "embedded":
            log.info("scheduler off (PMO_SCHEDULER=off): run `pmo-bot clock` for surveys")
            # What an admin starts from chat is still sent from here, at once; the clock
            # process retries whatever is left.
            survey.desk.kick = _one_drain_at_a_time(survey)
            return
        from jobs.clock import SurveyClock

        clock = SurveyClock(
            survey.surveys,
            survey.sender,
            survey.digest_on_close,
            parts.settings.pmo_clock_tick_s,
            sweep=survey.post_due_digests,
        )
        survey.desk.kick = clock.kick
        parts.extra["clock"] = clock
        await clock.start()

    async def stop(app: web.Application) -> None:
        clock = parts.extra.get("clock")
        if clock is not None:
            await clock.stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)


async def web_chat_closed(request: web.Request) -> web.Response:
    from adapters.web.guard import notice_page

    return notice_page(
        "the web chat is off on this address",
        "pmo-bot listens beyond this machine here (PMO_HOST), so its web chat opens only with "
        "PMO_WEB_TOKEN set.",
        403,
    )


def web_chat_on(settings: Settings) -> bool:
    """On loopback always; on any other address only behind a token."""
    return settings.pmo_host in LOOPBACK or settings.pmo_web_token is not None


def _web_chat(app: web.Application, parts: Parts) -> None:
    settings = parts.settings
    if not web_chat_on(settings):
        app.router.add_get("/", web_chat_closed)
        log.info("the web chat is off: PMO_HOST is not loopback and PMO_WEB_TOKEN is not set")
        return
    from adapters.web.app import WebChat

    demo = parts.survey.demo if parts.survey is not None else None
    token = settings.pmo_web_token.get_secret_value() if settings.pmo_web_token else None
    parts.bot.demo = demo
    WebChat(parts.bot, token, operator=settings.pmo_host in LOOPBACK and token is None).add_routes(app)
    if demo is None:
        return

    async def seed(app: web.Application) -> None:
        # The first start makes the demo's past weeks; later starts find them and do nothing.
        try:
            run = await asyncio.to_thread(demo.ensure)
            log.info("demo team ready", extra={"period": run.period_key})
        except Exception:
            log.exception("could not make the demo team's weeks")

    app.on_startup.append(seed)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def teams_not_configured(request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "Teams is not configured: set MICROSOFT_APP_ID and its password"}, status=503
    )


async def slack_not_configured(request: web.Request) -> web.Response:
    # Answer, rather than 404: a half-configured app should say what is missing.
    return web.json_response(
        {"error": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"}, status=503
    )


def _shared_context(parts: Parts) -> None:
    """On PostgreSQL, where several web processes may answer one person, follow-ups are kept in
    the database; on SQLite, one process, memory is enough and costs no query a turn."""
    storage = parts.storage
    if storage is None or storage.engine.dialect.name != "postgresql":
        return
    from bot.storage.context import ContextStore

    contexts = ContextStore(storage)
    parts.bot.conversations.attach(contexts, parts.bot.kb.has)
    parts.extra["contexts"] = contexts


def _limits(parts: Parts) -> None:
    settings = parts.settings
    parts.bot.limits = Limits(
        Budget(settings.pmo_turn_burst, settings.pmo_turns_per_minute / 60),
        Budget(settings.pmo_file_burst, settings.pmo_files_per_minute / 60),
        clock=parts.bot.now,
    )


def build_app(parts: Parts) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_get("/healthz", healthz)
    _limits(parts)
    _shared_context(parts)
    parts.slack = parts.slack or build_slack(parts)
    app[SLACK_KEY] = parts.slack
    if parts.slack is not None:
        app.router.add_post("/slack/events", parts.slack.handle)
        log.info("Slack over HTTP is on at /slack/events")
    else:
        app.router.add_post("/slack/events", slack_not_configured)
        log.info(
            "Slack is not connected: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
            "(see README, 'Connect Slack'), or SLACK_APP_TOKEN with --socket-mode"
        )

    async def forget_old_events(app: web.Application) -> None:
        # Slack retries within minutes; a day of event ids is plenty to answer each event once.
        async def loop() -> None:
            while parts.storage is not None:
                cutoff = dt.datetime.now(dt.UTC) - EVENT_MEMORY
                try:
                    await asyncio.to_thread(parts.storage.forget_events_before, cutoff)
                    contexts = parts.extra.get("contexts")
                    if contexts is not None:
                        await asyncio.to_thread(contexts.forget_before, time.time() - CONVERSATION_TTL_S)
                except Exception:
                    log.exception("could not forget old event ids and conversation contexts")
                await asyncio.sleep(CLEAN_EVERY_S)

        parts.extra["cleaner"] = asyncio.ensure_future(loop())

    async def stop_cleaner(app: web.Application) -> None:
        cleaner = parts.extra.get("cleaner")
        if cleaner is not None:
            cleaner.cancel()

    app.on_startup.append(forget_old_events)
    app.on_shutdown.append(stop_cleaner)

    async def on_shutdown(app: web.Application) -> None:
        slack = app[SLACK_KEY]
        if slack is not None:
            await slack.drain()
            await slack.close()
        if parts.storage is not None:
            parts.storage.close()
        log.info("stopped")

    # Teams: with MICROSOFT_APP_ID every request must carry a valid token. Without one it runs in
    # local mode (no authentication, for the Agents Playground or a test connector), and only on a
    # loopback address: open to the network, anyone could have it fetch and post where they like.
    settings = parts.settings
    if settings.microsoft_app_id or settings.pmo_host in LOOPBACK:
        parts.teams = parts.teams or build_teams(parts)
        app.router.add_post("/api/messages", parts.teams.handle)
        if not settings.microsoft_app_id:
            log.info("Teams runs in local mode (no MICROSOFT_APP_ID): for testing on this machine only")
    else:
        app.router.add_post("/api/messages", teams_not_configured)
    _survey_hooks(app, parts)
    _web_chat(app, parts)
    app.on_shutdown.append(on_shutdown)
    for hook in ("on_startup", "on_shutdown"):
        if hook in parts.extra:
            getattr(app, hook).insert(0, parts.extra[hook])
    return app
