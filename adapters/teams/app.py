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
import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams.cards import decode_submit, render_cards, text_fallback, with_inline_png
from adapters.teams.package import COMMAND_TITLES
from bot.core import Bot
from bot.errors import ConfigError, DeliveryError
from bot.ports import Delivery, Outcome
from bot.reply import Action, Reply, Section
from bot.review.reader import MAX_BYTES
from bot.storage import Storage
from bot.turn import Turn

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
        await self.owner.remember(activity)
        turn = _turn(activity)
        submitted = decode_submit(activity.value) if activity.value is not None else None
        if submitted is not None:
            # Survey answers read and write the database: off the event loop.
            reply = await asyncio.to_thread(self.owner.bot.handle_action, submitted, turn)
            if reply.replace and activity.reply_to_id:
                await self.owner.replace(turn_context, activity.reply_to_id, reply)
            else:
                await self.owner.reply(turn_context, reply)
            return
        files = [a for a in activity.attachments or [] if getattr(a, "content_type", None) == FILE_INFO]
        if files:
            for attachment in files:
                for reply in await self.owner.review_attachment(attachment):
                    await self.owner.reply(turn_context, reply)
            return
        text = _without_bot_mention(activity.text or "", activity.recipient)
        if text.split(" ", 1)[0].lower() in COMMAND_TITLES:
            # A command picked from the app's command menu arrives as its bare title ("role ...").
            text = f"/pmo {text}"
        # Off the event loop, as every turn: a survey question reads the database.
        await self.owner.reply(turn_context, await asyncio.to_thread(self.owner.bot.handle_text, text, turn))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(m.id == bot_id for m in activity.members_removed or []):
            await self.owner.forget(activity)  # the app was removed: message nobody there again
            return
        await self.owner.remember(activity)
        added = [m for m in activity.members_added or [] if m.id != bot_id]
        installed = any(m.id == bot_id for m in activity.members_added or [])
        if (installed or added) and _kind(activity) == "user":
            # The welcome a person sees when they add the app.
            await self.owner.reply(turn_context, self.owner.bot.handle_action(Action("help")))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.owner.remember(turn_context.activity)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self.owner.forget(turn_context.activity)


class TeamsAdapter:
    def __init__(self, bot: Bot, config: TeamsConfig, storage: Storage | None = None) -> None:
        self.bot = bot
        self.config = config
        self.storage = storage
        _check(config)
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
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
            _check_shape(body)
            activity = Activity().deserialize(body)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.json_response({"error": "malformed activity"}, status=400)
        auth_header = request.headers.get("Authorization", "")
        reached: list[bool] = []

        async def turn(turn_context: TurnContext) -> None:
            reached.append(True)
            await self._turn(turn_context)

        try:
            response = await self.adapter.process_activity(auth_header, activity, turn)
        except Exception as exc:
            # Anything that fails before our turn starts is the token being checked: a missing,
            # malformed or wrong token ends in PermissionError, KeyError or a JWT error inside the SDK.
            if isinstance(exc, PermissionError) or (self.config.APP_ID and not reached):
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

    async def replace(self, turn_context: TurnContext, activity_id: str, reply: Reply) -> None:
        """Redraw the card that was submitted (a survey showing what was recorded)."""
        first, *rest = self.activities(reply)
        first.id = activity_id
        await turn_context.update_activity(first)
        for activity in rest:
            await turn_context.send_activity(activity)

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

    # -- conversation references ---------------------------------------------------------------

    async def remember(self, activity: Activity) -> None:
        """Store where this person, group chat or channel can be reached later (surveys, digests)."""
        if self.storage is None:
            return
        kind, key = _kind(activity), _key(activity)
        if not key:
            return
        reference = TurnContext.get_conversation_reference(activity)
        if kind == "channel":
            # Keyed by the channel, not the thread a mention came from; new posts start new threads.
            reference.conversation.id = key
        tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id")
        try:
            await asyncio.to_thread(
                self.storage.save_reference, PLATFORM, key, kind, json.dumps(reference.serialize()), tenant
            )
        except Exception:
            log.exception("could not store a Teams conversation reference")

    async def forget(self, activity: Activity) -> None:
        key = _key(activity)
        if self.storage is not None and key:
            await asyncio.to_thread(self.storage.mark_inactive, PLATFORM, key)

    platform = PLATFORM

    async def send_to_user(self, user_id: str, reply: Reply) -> Delivery:
        """Proactive message to a person who installed the app: "unknown" when there is no stored
        reference (not installed yet), "inactive" when they blocked or removed the bot."""
        return await self._send_to(user_id, reply)

    async def post_to_channel(self, channel_id: str, reply: Reply) -> Delivery:
        """A new thread in a team channel (or a message in a group chat), through the reference
        stored when the app was added or first spoken to there."""
        return await self._send_to(channel_id.split(";", 1)[0], reply)

    async def post_report(
        self, channel_id: str, reply: Reply, image: bytes | None, image_name: str
    ) -> Delivery:
        """Like :meth:`post_to_channel`, with the PNG ``image`` shown inline in the card (a data:
        URI Image after the figures). Teams takes no file upload from a bot into a channel without
        Graph and SharePoint; a chart too big for a card is left out with a warning, and the
        delivery still counts."""
        alt = " ".join(reply.title.split()) or image_name
        return await self._send_to(channel_id.split(";", 1)[0], reply, self.activities(reply, image, alt))

    async def _send_to(self, key: str, reply: Reply, pending: list[Activity] | None = None) -> Delivery:
        """Sends ``pending`` (by default the reply's activities), retrying after rate limits."""
        pending = self.activities(reply) if pending is None else pending
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
                return Outcome("retry", retry_after=_retry_after(exc, 0), rate_limited=True, error="HTTP 429")
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
                _close_connector(turn_context)

        await self.adapter.continue_conversation(reference, listing, bot_app_id=self.config.APP_ID)
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
        await self.adapter.continue_conversation(reference, send, bot_app_id=self.config.APP_ID)
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
            self.config.APP_ID, send, parameters, "msteams", reference.service_url
        )
        if failures:
            raise failures[0]

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
            _close_connector(turn_context)

    return send, failures, ids


def _close_connector(turn_context: TurnContext) -> None:
    # The SDK opens a connector client (a requests session) per turn and never closes it.
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()


def _kind(activity: Activity) -> str:
    kind = (activity.conversation.conversation_type if activity.conversation else None) or "personal"
    return {"personal": "user", "groupChat": "group"}.get(kind, "channel")


def _key(activity: Activity) -> str | None:
    """A person by their id; a group chat by its conversation; a channel by the channel's id."""
    kind = _kind(activity)
    if kind == "user":
        return activity.from_property.id if activity.from_property else None
    if kind == "group":
        return activity.conversation.id if activity.conversation else None
    channel = ((activity.channel_data or {}).get("channel") or {}).get("id")
    conversation = activity.conversation.id if activity.conversation else ""
    return str(channel or conversation.split(";", 1)[0]) or None


def _without_bot_mention(text: str, recipient: ChannelAccount | None) -> str:
    """The text without the bot's own <at> mention; other people's mentions keep their names."""
    name = (recipient.name if recipient else None) or ""

    def strip(match: re.Match[str]) -> str:
        inner = match.group(0)[4:-5]
        return " " if not name or inner.strip().lower() == name.strip().lower() else inner

    return _AT_TAG.sub(strip, text).strip()


def _check(config: TeamsConfig) -> None:
    """Name every missing Teams setting at once, by its environment variable."""
    kind = config.APP_TYPE.lower()
    if kind not in ("multitenant", "singletenant", "userassignedmsi"):
        raise ConfigError(
            f"MICROSOFT_APP_TYPE must be SingleTenant, MultiTenant or UserAssignedMSI, not {config.APP_TYPE}"
        )
    needed = []
    if config.APP_ID and kind != "userassignedmsi" and not config.APP_PASSWORD:
        needed.append("MICROSOFT_APP_PASSWORD")
    if config.APP_ID and kind in ("singletenant", "userassignedmsi") and not config.APP_TENANTID:
        needed.append("MICROSOFT_APP_TENANT_ID")
    if kind == "userassignedmsi" and not config.APP_ID:
        needed.append("MICROSOFT_APP_ID")
    if needed:
        raise ConfigError(f"Teams needs {' and '.join(needed)} as well as MICROSOFT_APP_ID")


def _check_shape(body: dict[str, Any]) -> None:
    """What the SDK needs of an activity, checked up front so that a bad one is a 400, not a crash."""
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        raise ValueError("no conversation id")
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"].startswith(
        ("http://", "https://")
    ):
        raise ValueError("no service URL")
    channel_data = body.get("channelData")
    if channel_data is not None and not isinstance(channel_data, dict):
        raise ValueError("channelData is not an object")
    for part in ("tenant", "channel", "team"):
        if (
            isinstance(channel_data, dict)
            and channel_data.get(part) is not None
            and not isinstance(channel_data[part], dict)
        ):
            raise ValueError(f"channelData.{part} is not an object")


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


def _turn(activity: Activity) -> Turn:
    """A Teams turn: shared in a channel or a group chat, where everyone there reads the answer."""
    user = activity.from_property.id if activity.from_property else ""
    conversation = (activity.conversation.id if activity.conversation else "") or ""
    tenant = getattr(activity.conversation, "tenant_id", None) or ""
    channel = (_key(activity) or "") if _kind(activity) == "channel" else ""
    return Turn("teams", user or "", conversation, channel, str(tenant), _kind(activity) != "user")


def _note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="review")


__all__ = ["TeamsAdapter", "TeamsConfig"]
