"""Sending to Teams: replies as Adaptive Card activities, and the port the survey jobs reach Teams
through (:class:`bot.ports.Courier`). A bot reaches a person, a group chat or a channel only through
the conversation reference stored when the app was added there or first spoken to.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Awaitable, Callable

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ConversationParameters, ConversationReference

from adapters.teams.cards import render_cards, text_fallback, with_inline_png
from bot.errors import ConfigError, DeliveryError
from bot.ports import Delivery, Outcome
from bot.reply import Reply
from bot.storage import Storage

PLATFORM = "teams"
SEND_ATTEMPTS = 4


class TeamsCourier:
    platform = PLATFORM

    def __init__(self, adapter: CloudAdapter, app_id: str, storage: Storage | None) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.storage = storage

    def activities(self, reply: Reply, png: bytes | None = None, alt: str = "") -> list[Activity]:
        """The reply's cards as message activities; ``png``, when given, shown inline in them."""
        fallback = text_fallback(reply)
        cards = render_cards(reply)
        if png:
            cards = with_inline_png(cards, png, alt)
        out = []
        for card in cards:
            activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
            activity.summary = fallback[:200]
            out.append(activity)
        return out

    # -- the outbound port (bot.ports.Outbound) ------------------------------------------------

    async def check_channel(self, channel_id: str, post: bool) -> str:
        if self.storage is None:
            return ""
        row = await asyncio.to_thread(self.storage.reference, PLATFORM, channel_id.split(";", 1)[0])
        if row is None:
            return (
                f"pmo-bot has not been added where {channel_id} is: add the app to that team or chat "
                "(or mention it there once), then save again"
            )
        if not row.active:
            return f"pmo-bot was removed from {channel_id}: add it again, then save"
        return ""

    async def post_report(
        self, channel_id: str, reply: Reply, image: bytes | None, image_name: str, marker: str = ""
    ) -> Delivery:
        """A new thread in a team channel (or a message in a group chat, or to a person), through
        the reference stored when the app was added or first spoken to there, with the PNG
        ``image`` shown inline in the card (a data: URI Image after the figures). Teams takes no
        file upload from a bot into a channel without Graph and SharePoint; a chart too big for a
        card is left out with a warning, and the delivery still counts.

        "unknown" when there is no stored reference (the app is not installed there), "inactive"
        when the bot was blocked or removed."""
        alt = " ".join(reply.title.split()) or image_name
        return await self._send_to(channel_id.split(";", 1)[0], self.activities(reply, image, alt))

    async def _send_to(self, key: str, pending: list[Activity]) -> Delivery:
        """Sends ``pending``, retrying after rate limits."""
        for attempt in range(SEND_ATTEMPTS):
            outcome = await self._attempt(key, pending)
            if outcome.status in ("sent", "unknown", "inactive"):
                return outcome.status
            if outcome.rate_limited and attempt + 1 < SEND_ATTEMPTS:
                # Teams allows about 50 messages a second a tenant; back off, then send the rest.
                await asyncio.sleep(outcome.retry_after or min(30.0, 0.5 * 2**attempt))
                continue
            raise DeliveryError(f"Teams could not deliver to {key}: {outcome.error}")
        return "sent"

    async def _attempt(self, key: str, pending: list[Activity]) -> Outcome:
        """One try at sending ``pending`` (what is sent is dropped from it, so that a retry sends
        only the rest)."""
        if self.storage is None:
            return Outcome("unknown")
        row = await asyncio.to_thread(self.storage.reference, PLATFORM, key)
        if row is None:
            return Outcome("unknown", error="no conversation reference: the app is not installed")
        if not row.active:
            return Outcome("inactive", error="the app was removed or blocked")
        reference = ConversationReference().deserialize(json.loads(row.reference))
        try:
            if row.kind == "channel":
                await self._new_thread(reference, row.tenant_id, pending)
                return Outcome("sent")
            sent = await self._continue(reference, pending)
        except Exception as exc:
            status = _status(exc)
            if status == 403:
                await asyncio.to_thread(self.storage.mark_inactive, PLATFORM, key)
                return Outcome("inactive", error="HTTP 403: the bot was blocked or removed")
            if status == 401:
                return Outcome(
                    "halt", error="Teams refused the bot's credentials (HTTP 401): check MICROSOFT_APP_ID"
                )
            if status == 429:
                return Outcome("retry", retry_after=_retry_after(exc), rate_limited=True, error="HTTP 429")
            if status is None or status >= 500 or status in (408, 412):
                return Outcome("retry", error=f"{type(exc).__name__} {status or ''}".strip())
            return Outcome("failed", error=f"HTTP {status}")
        return Outcome("sent", ref=f"{reference.conversation.id}/{sent[0] if sent else ''}")

    # -- the survey sender's port (bot.ports.Courier) -------------------------------------------

    async def deliver(self, user_id: str, reply: Reply, marker: str) -> Outcome:
        return await self._attempt(user_id, self.activities(reply))

    async def find_delivery(self, user_id: str, marker: str, since: dt.datetime) -> str | None:
        # Teams offers no way to read back a conversation's messages.
        raise NotImplementedError

    async def find_report(self, channel_id: str, marker: str, since: dt.datetime) -> str | None:
        raise NotImplementedError

    async def members_of(self, channel_id: str) -> list[str]:
        """Everyone in the team that ``channel_id`` (a stored team or channel) belongs to."""
        if self.storage is None:
            raise ConfigError("Teams members can be listed only with a database")
        row = await asyncio.to_thread(self.storage.reference, PLATFORM, channel_id.split(";", 1)[0])
        if row is None or not row.active:
            raise ConfigError(
                f"Teams team {channel_id} is unknown: add the app to that team first, "
                "so that it can list the members"
            )
        reference = ConversationReference().deserialize(json.loads(row.reference))
        members: list[str] = []
        failures: list[Exception] = []

        async def listing(turn_context: TurnContext) -> None:
            try:
                token = None
                while True:
                    # By the stored id: TeamsInfo.get_paged_members looks for the team in the
                    # activity's channelData, which a proactive turn does not have.
                    page = await TeamsInfo.get_paged_team_members(
                        turn_context, reference.conversation.id, token, 500
                    )
                    members.extend(m.id for m in page.members or [])
                    token = page.continuation_token
                    if not token:
                        return
            except Exception as exc:
                # Raised, the turn's error handler would post an apology in the channel and the
                # caller would get no members at all.
                failures.append(exc)
            finally:
                close_connector(turn_context)

        await self.adapter.continue_conversation(reference, listing, bot_app_id=self.app_id)
        if failures:
            status = _status(failures[0])
            why = f"HTTP {status}" if status is not None else type(failures[0]).__name__
            raise DeliveryError(f"Teams could not list the members of {channel_id}: {why}") from failures[0]
        return members

    async def workspace_of(self, user_id: str) -> str:
        if self.storage is None:
            return ""
        row = await asyncio.to_thread(self.storage.reference, PLATFORM, user_id)
        return (row.tenant_id or "tenant") if row is not None else ""

    async def _continue(self, reference: ConversationReference, pending: list[Activity]) -> list[str]:
        send, failures, ids = _sender(pending)
        await self.adapter.continue_conversation(reference, send, bot_app_id=self.app_id)
        if failures:
            raise failures[0]
        return ids

    async def _new_thread(
        self, reference: ConversationReference, tenant: str | None, pending: list[Activity]
    ) -> None:
        parameters = ConversationParameters(
            is_group=True,
            channel_data={"channel": {"id": reference.conversation.id}, "tenant": {"id": tenant}},
            activity=pending[0],
        )
        # The first activity opens the thread; once it exists, the callback sends the rest in it.
        send, failures, _ = _sender(pending, first_already_sent=True)
        await self.adapter.create_conversation(
            self.app_id, send, parameters, "msteams", reference.service_url
        )
        if failures:
            raise failures[0]


def close_connector(turn_context: TurnContext) -> None:
    # The SDK opens a connector client (a requests session) per turn and never closes it.
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()


def _sender(
    pending: list[Activity], first_already_sent: bool = False
) -> tuple[Callable[[TurnContext], Awaitable[None]], list[Exception], list[str]]:
    """A turn callback that sends ``pending`` in order, dropping each once sent (so a retry sends
    only the rest), and keeps its error instead of raising it: raised, the adapter's error handler
    would answer the person with an apology and the caller would never hear of the failure."""
    failures: list[Exception] = []
    ids: list[str] = []

    async def send(turn_context: TurnContext) -> None:
        try:
            if first_already_sent:
                pending.pop(0)
            while pending:
                response = await turn_context.send_activity(pending[0])
                ids.append(str(getattr(response, "id", "") or ""))
                pending.pop(0)
        except Exception as exc:
            failures.append(exc)
        finally:
            close_connector(turn_context)

    return send, failures, ids


def _retry_after(error: Exception) -> float:
    """The wait a 429 asks for (at most 30 seconds), or half a second when it names none."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return min(30.0, float(str(headers.get("Retry-After", ""))))
    except (TypeError, ValueError):
        return 0.5


def _status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None
