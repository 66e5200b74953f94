"""The Microsoft Teams adapter: botbuilder's CloudAdapter translating Teams to the core and
replies back to Adaptive Cards.

botbuilder-python is end-of-life (4.17.1 is its final release). It is used here, and only here,
behind the same small interface the Slack adapter offers, so that a move to the Microsoft 365
Agents SDK touches this package alone. ``/api/messages`` is handled by our own function around
``CloudAdapter.process_activity``: 4.17's own ``process`` fails on invoke responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams.cards import decode_submit, render_cards, text_fallback
from adapters.teams.package import COMMAND_TITLES
from bot.core import Bot
from bot.errors import ConfigError
from bot.ports import Delivery
from bot.reply import Action, Reply, Section
from bot.review.reader import MAX_BYTES
from bot.storage import Storage

log = logging.getLogger(__name__)

PLATFORM = "teams"
FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
REGISTER_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".xlsm")
SEND_ATTEMPTS = 4
_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class TeamsConfig:
    """What ConfigurationBotFrameworkAuthentication reads, as attributes: handed a dict it would
    silently switch authentication off."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"  # with no APP_ID this means local mode: no authentication
    APP_TENANTID: str = ""


class PmoTeamsBot(ActivityHandler):  # type: ignore[misc]
    """Turns Teams activities into calls on the core."""

    def __init__(self, adapter: TeamsAdapter) -> None:
        self.owner = adapter

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.owner.remember(activity)
        conversation = _conversation(activity)
        submitted = decode_submit(activity.value) if activity.value is not None else None
        if submitted is not None:
            await self.owner.reply(turn_context, self.owner.bot.handle_action(submitted, conversation))
            return
        files = [a for a in activity.attachments or [] if getattr(a, "content_type", None) == FILE_INFO]
        if files:
            for attachment in files:
                for reply in await self.owner.review_attachment(attachment):
                    await self.owner.reply(turn_context, reply)
            return
        text = _AT_TAG.sub(" ", activity.text or "").strip()
        if text.split(" ", 1)[0].lower() in COMMAND_TITLES:
            # A command picked from the app's command menu arrives as its bare title ("role ...").
            text = f"/pmo {text}"
        await self.owner.reply(turn_context, self.owner.bot.handle_text(text, conversation))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.owner.remember(activity)
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m for m in activity.members_added or [] if m.id != bot_id]
        installed = any(m.id == bot_id for m in activity.members_added or [])
        personal = (activity.conversation.conversation_type or "personal") == "personal"
        if installed and personal:
            # The welcome a person sees when they add the app.
            await self.owner.reply(turn_context, self.owner.bot.handle_action(Action("help")))
        elif added and personal:
            await self.owner.reply(turn_context, self.owner.bot.handle_action(Action("help")))

    async def on_installation_update_activity(self, turn_context: TurnContext) -> None:
        self.owner.remember(turn_context.activity)


class TeamsAdapter:
    def __init__(self, bot: Bot, config: TeamsConfig, storage: Storage | None = None) -> None:
        self.bot = bot
        self.config = config
        self.storage = storage
        try:
            self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
        except Exception as exc:  # the SDK raises bare Exceptions for missing settings
            raise ConfigError(
                f"Teams settings: {exc}".replace("Property 'APP_", "MICROSOFT_APP_").replace(
                    "' is expected in configuration object", " is needed"
                )
            ) from exc
        self.adapter.on_turn_error = self._on_error
        self.handler = PmoTeamsBot(self)

    # -- HTTP ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        if "application/json" not in (request.headers.get("Content-Type") or ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict) or not isinstance(body.get("type"), str):
                raise ValueError("not an activity")
            activity = Activity().deserialize(body)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.json_response({"error": "malformed activity"}, status=400)
        auth_header = request.headers.get("Authorization", "")
        try:
            response = await self.adapter.process_activity(auth_header, activity, self._turn)
        except PermissionError:
            return web.json_response({"error": "unauthorized"}, status=401)
        except Exception as exc:
            # A token the SDK cannot even decode fails deep inside it: still not authorised.
            if auth_header and type(exc).__name__ in (
                "DecodeError",
                "InvalidTokenError",
                "ExpiredSignatureError",
            ):
                return web.json_response({"error": "unauthorized"}, status=401)
            raise
        if response is not None:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=201)

    async def _turn(self, turn_context: TurnContext) -> None:
        try:
            await self.handler.on_turn(turn_context)
        finally:
            _close_connector(turn_context)

    async def _on_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed", exc_info=error)
        await turn_context.send_activity("Sorry, something went wrong on my side. Please try again.")

    # -- replies ---------------------------------------------------------------------------

    async def reply(self, turn_context: TurnContext, reply: Reply) -> None:
        for activity in self.activities(reply):
            await turn_context.send_activity(activity)

    def activities(self, reply: Reply) -> list[Activity]:
        fallback = text_fallback(reply)
        out = []
        for card in render_cards(reply):
            activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
            activity.summary = fallback[:200]
            out.append(activity)
        return out

    # -- conversation references ---------------------------------------------------------------

    def remember(self, activity: Activity) -> None:
        """Store where this person (or channel) can be reached later, for surveys and digests."""
        if self.storage is None:
            return
        reference = TurnContext.get_conversation_reference(activity)
        tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id")
        kind = "user" if (activity.conversation.conversation_type or "personal") == "personal" else "channel"
        key = (
            activity.from_property.id
            if kind == "user" and activity.from_property
            else activity.conversation.id
        )
        if not key:
            return
        try:
            self.storage.save_reference(PLATFORM, key, kind, json.dumps(reference.serialize()), tenant)
        except Exception:
            log.exception("could not store a Teams conversation reference")

    platform = PLATFORM

    async def send_to_user(self, user_id: str, reply: Reply) -> Delivery:
        """Proactive message to a person who installed the app: "unknown" when there is no stored
        reference (not installed yet), "inactive" when they blocked or removed the bot."""
        return await self._send_to(user_id, reply)

    async def post_to_channel(self, channel_id: str, reply: Reply) -> Delivery:
        """A new thread in a team channel, through the reference stored when the app was added."""
        return await self._send_to(channel_id, reply, new_thread=True)

    async def _send_to(self, key: str, reply: Reply, new_thread: bool = False) -> Delivery:
        if self.storage is None:
            return "unknown"
        row = await asyncio.to_thread(self.storage.reference, PLATFORM, key)
        if row is None:
            return "unknown"
        if not row.active:
            return "inactive"
        reference = ConversationReference().deserialize(json.loads(row.reference))
        activities = self.activities(reply)

        async def send(turn_context: TurnContext) -> None:
            try:
                for activity in activities:
                    await turn_context.send_activity(activity)
            finally:
                _close_connector(turn_context)

        for attempt in range(SEND_ATTEMPTS):
            try:
                if new_thread:
                    channel = key.split(";", 1)[0]
                    parameters = ConversationParameters(
                        is_group=True,
                        channel_data={"channel": {"id": channel}, "tenant": {"id": row.tenant_id}},
                        activity=activities[0],
                    )
                    activities = activities[1:]
                    await self.adapter.create_conversation(
                        self.config.APP_ID, send, parameters, "msteams", reference.service_url
                    )
                else:
                    await self.adapter.continue_conversation(reference, send, bot_app_id=self.config.APP_ID)
                return "sent"
            except Exception as exc:
                status = _status(exc)
                if status == 403:
                    await asyncio.to_thread(self.storage.mark_inactive, PLATFORM, key)
                    return "inactive"
                if status == 429 and attempt + 1 < SEND_ATTEMPTS:
                    # Teams allows about 50 messages a second a tenant; back off and try again.
                    await asyncio.sleep(_retry_after(exc, attempt))
                    continue
                raise
        return "sent"

    # -- files -----------------------------------------------------------------------------

    async def review_attachment(self, attachment: Any) -> list[Reply]:
        name = str(getattr(attachment, "name", "") or "file")
        content = getattr(attachment, "content", None) or {}
        url = content.get("downloadUrl") if isinstance(content, dict) else None
        if not name.lower().endswith(REGISTER_SUFFIXES) or not url:
            return [_note("That isn't a register", f"{name} is not a CSV or Excel file, so I left it.")]
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                if response.status != 200:
                    return [_note("I couldn't download that file", f"Teams did not let me read {name}.")]
                chunks, size = [], 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        return [_note("That file is too big", f"{name} is over 10 MB; registers that size "
                                      "are not reviewed.")]  # fmt: skip
                    chunks.append(chunk)
        except aiohttp.ClientError:
            return [_note("I couldn't download that file", f"Teams did not let me read {name}.")]
        return await asyncio.to_thread(self.bot.handle_file_report, b"".join(chunks), name)


def _close_connector(turn_context: TurnContext) -> None:
    # The SDK opens a connector client (a requests session) per turn and never closes it.
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()


def _retry_after(error: Exception, attempt: int) -> float:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    backoff: float = min(30.0, 0.5 * 2**attempt)
    try:
        return min(30.0, float(str(headers.get("Retry-After", ""))))
    except (TypeError, ValueError):
        return backoff


def _status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _conversation(activity: Activity) -> str:
    user = activity.from_property.id if activity.from_property else "-"
    return f"teams:{activity.conversation.id if activity.conversation else '-'}:{user}"


def _note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="review")


__all__ = ["ActivityTypes", "ChannelAccount", "TeamsAdapter", "TeamsConfig"]
