"""Slack over Socket Mode, for teams without a public URL, with a watchdog.

slack_sdk's aiohttp Socket Mode client can wedge: after a dropped connection it may retry forever
on a closed session. The watchdog checks the connection's last ping/pong and rebuilds the whole
handler when the link has gone quiet or closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.slack.app import SlackAdapter

log = logging.getLogger(__name__)

CHECK_EVERY_S = 20.0
QUIET_AFTER_S = 90.0  # pings come every 10 s; this many seconds without one is a dead link
CONNECT_TIMEOUT_S = 15.0


class SocketModeRunner:
    def __init__(
        self,
        adapter: SlackAdapter,
        app_token: str,
        clock: Callable[[], float] = time.time,
        check_every_s: float = CHECK_EVERY_S,
        quiet_after_s: float = QUIET_AFTER_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.adapter = adapter
        self.app_token = app_token
        self.clock = clock
        self.check_every_s = check_every_s
        self.quiet_after_s = quiet_after_s
        self.handler: AsyncSocketModeHandler | None = None
        adapter.dedupe_inside_bolt()
        self.connected_at = 0.0
        self.rebuilds = 0
        self._watch: asyncio.Task[None] | None = None

    def _new_handler(self) -> AsyncSocketModeHandler:
        return AsyncSocketModeHandler(self.adapter.app, self.app_token, web_client=self.adapter.client)

    async def start(self) -> None:
        try:
            await self._connect()
        except Exception:
            # Slack unreachable at start-up is no reason to stop serving: the watchdog retries.
            log.exception("Slack Socket Mode could not connect; retrying")
        self._watch = asyncio.ensure_future(self._watchdog())

    async def _connect(self) -> None:
        self.handler = self._new_handler()
        self.connected_at = self.clock()
        # connect_async retries forever inside slack_sdk when Slack hands back no usable URL; a
        # bounded wait lets the watchdog try again with a fresh handler instead.
        connecting = self.handler.connect_async()  # type: ignore[no-untyped-call]
        await asyncio.wait_for(connecting, self.connect_timeout_s)
        log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.handler is not None:
            with contextlib.suppress(Exception):
                closing = self.handler.close_async()  # type: ignore[no-untyped-call]
                await asyncio.wait_for(closing, self.connect_timeout_s)

    def is_wedged(self) -> bool:
        """True when the link is closed, or has been quiet for too long."""
        if self.handler is None:
            return True
        client: Any = self.handler.client
        if getattr(client, "closed", False):
            return True
        session = getattr(client, "aiohttp_client_session", None)
        if session is not None and session.closed:
            return True
        last = getattr(client, "last_ping_pong_time", None) or self.connected_at
        return self.clock() - float(last) > self.quiet_after_s

    async def check(self) -> bool:
        """One watchdog round; returns True when the handler was rebuilt."""
        if not self.is_wedged():
            return False
        log.warning("Slack Socket Mode link looks dead; reconnecting")
        if self.handler is not None:
            with contextlib.suppress(Exception):
                closing = self.handler.close_async()  # type: ignore[no-untyped-call]
                await asyncio.wait_for(closing, self.connect_timeout_s)
        self.rebuilds += 1
        try:
            await self._connect()
        except Exception:
            log.exception("Slack Socket Mode reconnect failed; will try again")
        return True

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self.check_every_s)
            await self.check()
