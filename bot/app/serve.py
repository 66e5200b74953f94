"""Running ``pmo-bot serve``: settings, logs, database, then the aiohttp server until SIGTERM."""

from __future__ import annotations

import gc
import logging

from aiohttp import web

from bot import logs
from bot.app.parts import Parts, build_slack
from bot.app.web import build_app, web_chat_on
from bot.core import Bot
from bot.errors import ConfigError
from bot.settings import Settings, read_settings

log = logging.getLogger("pmo_bot.serve")

SHUTDOWN_GRACE_S = 10.0


def run(port: int | None = None, socket_mode: bool = False) -> None:
    from bot.storage import Storage
    from knowledge.base import KnowledgeBaseError

    settings = read_settings()
    logs.configure(secrets=settings.secret_values)
    try:
        bot = Bot.from_settings(settings.pmo_knowledge_dir)  # the knowledge snapshot, when it matches
    except KnowledgeBaseError as exc:
        raise ConfigError(str(exc)) from exc
    storage = Storage(settings.database_url)
    storage.upgrade()
    parts = Parts(settings, bot, storage)
    if socket_mode:
        _socket_mode(parts)
    app = build_app(parts)
    if parts.survey is not None:
        parts.survey.surveys.teams.load()  # a broken teams file stops the start, in one line
    # The knowledge base, router and SDK objects live as long as the process: move them out of the
    # garbage collector's sight, so that its full passes do not walk them on every request burst.
    gc.freeze()
    port = port or settings.port
    log.info("serving", extra={"host": settings.pmo_host, "port": port})
    where = _where(settings, port)
    # run_app stops on SIGINT and SIGTERM: it stops accepting, lets requests in flight finish
    # (up to the grace period) and runs on_shutdown, where queued file reviews are drained.
    try:
        web.run_app(
            app,
            host=settings.pmo_host,
            port=port,
            # Called once the port is held: a taken port must not be announced as ours.
            print=lambda _: print(where, flush=True),
            access_log=None,
            shutdown_timeout=SHUTDOWN_GRACE_S,
            handle_signals=True,
        )
    except OSError as exc:
        # Most often the port is taken by another process.
        raise ConfigError(f"cannot listen on {settings.pmo_host}:{port}: {exc.strerror or exc}") from exc


def _where(settings: Settings, port: int) -> str:
    """The line a person starting the server reads: where the web chat is."""
    if not web_chat_on(settings):
        where = f"{settings.pmo_host}:{port}"
        return f"pmo-bot is serving on {where} (web chat off: set PMO_WEB_TOKEN to open it)"
    host = settings.pmo_host if settings.pmo_host not in ("0.0.0.0", "::") else "THIS-HOST"
    host = f"[{host}]" if ":" in host else host
    link = f"http://{host}:{port}/" + ("#token=<PMO_WEB_TOKEN>" if settings.pmo_web_token else "")
    return f"pmo-bot is running: open {link} in your browser (Ctrl+C stops it)"


def _socket_mode(parts: Parts) -> None:
    from adapters.slack.socket import SocketModeRunner

    settings = parts.settings
    app_token = settings.slack_app_token
    if app_token is None or settings.slack_bot_token is None:
        raise ConfigError("--socket-mode needs SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN (xoxb-...)")
    if settings.slack_signing_secret is None:
        # Socket Mode requests are not signed; the adapter still wants a secret for its HTTP door.
        settings = settings.model_copy(update={"slack_signing_secret": app_token})
        parts.settings = settings
    parts.slack = build_slack(parts)
    assert parts.slack is not None
    runner = SocketModeRunner(parts.slack, app_token.get_secret_value())

    async def start(app: web.Application) -> None:
        await runner.start()

    async def stop(app: web.Application) -> None:
        await runner.stop()

    parts.extra["on_startup"] = start
    parts.extra["on_shutdown"] = stop
