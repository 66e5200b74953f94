"""The Slack adapter: Bolt's AsyncApp translating Slack to the core, and replies back to Block Kit.

The work is split by role: :mod:`adapters.slack.inbound` receives (commands, messages, mentions,
clicks, the App Home), :mod:`adapters.slack.courier` sends (replies, surveys, digests) and
:mod:`adapters.slack.files` reviews the registers people share. :class:`SlackAdapter` puts them
together behind one object: the courier the survey jobs are handed, with the HTTP door in front.
"""

from __future__ import annotations

import time

from aiohttp import web

from adapters.slack.courier import SlackCourier
from adapters.slack.inbound import Clock, EventClaim, SlackInbound
from bot.core import Bot


class SlackAdapter(SlackCourier):
    def __init__(
        self,
        bot: Bot,
        token: str,
        signing_secret: str,
        api_url: str,
        claim_event: EventClaim | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(token, api_url)
        self.bot = bot
        self.inbound = SlackInbound(bot, self, signing_secret, claim_event, clock)
        # Socket Mode hands the Bolt app and the client to its own handler.
        self.app = self.inbound.app
        self.verifier = self.inbound.verifier

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: every command, event and click Slack sends over HTTP."""
        return await self.inbound.handle(request)

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait for work started after an acknowledgement (file reviews) to finish, for a while."""
        await self.inbound.drain(timeout_s)

    def dedupe_inside_bolt(self) -> None:
        """Socket Mode hands events to Bolt directly, past ``handle``: check repeats there."""
        self.inbound.dedupe_inside_bolt()
