"""What Teams sends the bot, turned into calls on the core: messages in personal chat, group chats
and channel mentions, commands from the app's menu, Adaptive Card submits, registers shared as
files, and the installs and removals that say where the bot can reach people later.

``/api/messages`` is handled by our own function around ``CloudAdapter.process_activity``: 4.17's
own ``process`` fails on invoke responses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import Activity, ChannelAccount

from adapters import registers
from adapters.teams.cards import decode_submit
from adapters.teams.courier import PLATFORM, TeamsCourier, close_connector
from adapters.teams.package import COMMAND_TITLES
from bot.core import Bot
from bot.reply import Action, Reply
from bot.storage import Storage
from bot.turn import Turn

log = logging.getLogger(__name__)

FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class TeamsInbound:
    def __init__(self, bot: Bot, courier: TeamsCourier, storage: Storage | None) -> None:
        self.bot = bot
        self.courier = courier
        self.storage = storage
        courier.adapter.on_turn_error = self._on_error
        self.handler = PmoTeamsBot(self)

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
            response = await self.courier.adapter.process_activity(auth_header, activity, turn)
        except Exception as exc:
            # Anything that fails before our turn starts is the token being checked: a missing,
            # malformed or wrong token ends in PermissionError, KeyError or a JWT error inside the SDK.
            if isinstance(exc, PermissionError) or (self.courier.app_id and not reached):
                return web.json_response({"error": "unauthorized"}, status=401)
            # The turn ran, and its reply (then its apology) could not be sent: the activity was
            # taken all the same, and a retry would fail the same way.
            log.error("a Teams reply could not be sent", exc_info=exc)
            return web.Response(status=201)
        if response is None:
            return web.Response(status=201)
        if response.status >= 500 or not _plain_json(response.body):
            # An invoke this bot has no use for (a message extension, a task module, a Universal
            # Action: its cards use Action.Submit): the SDK answers "not implemented", or an object
            # of its own that does not serialise. Nothing to do, and nothing wrong.
            log.info("a Teams invoke this bot does not handle", extra={"invoke": activity.name})
            return web.json_response({}, status=200)
        return web.json_response(response.body, status=response.status)

    async def _turn(self, turn_context: TurnContext) -> None:
        try:
            await self.handler.on_turn(turn_context)
        finally:
            close_connector(turn_context)

    async def _on_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed", exc_info=error)
        await turn_context.send_activity("Sorry, something went wrong on my side. Please try again.")

    # -- replies ---------------------------------------------------------------------------

    async def reply(self, turn_context: TurnContext, reply: Reply) -> None:
        for activity in self.courier.activities(reply):
            await turn_context.send_activity(activity)

    async def replace(self, turn_context: TurnContext, activity_id: str, reply: Reply) -> None:
        """Redraw the card that was submitted (a survey showing what was recorded)."""
        first, *rest = self.courier.activities(reply)
        first.id = activity_id
        await turn_context.update_activity(first)
        for activity in rest:
            await turn_context.send_activity(activity)

    async def review_attachment(self, attachment: Any, turn: Turn) -> list[Reply]:
        name = str(getattr(attachment, "name", "") or "file")
        content = getattr(attachment, "content", None) or {}
        url = content.get("downloadUrl") if isinstance(content, dict) else None
        return await registers.review(self.bot, turn, name, url, f"Teams did not let me read {name}.")

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


class PmoTeamsBot(ActivityHandler):  # type: ignore[misc]
    """Turns Teams activities into calls on the core."""

    def __init__(self, inbound: TeamsInbound) -> None:
        self.owner = inbound

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
                for reply in await self.owner.review_attachment(attachment, turn):
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


def _turn(activity: Activity) -> Turn:
    """A Teams turn: shared in a channel or a group chat, where everyone there reads the answer."""
    user = activity.from_property.id if activity.from_property else ""
    conversation = (activity.conversation.id if activity.conversation else "") or ""
    tenant = getattr(activity.conversation, "tenant_id", None) or ""
    channel = (_key(activity) or "") if _kind(activity) == "channel" else ""
    return Turn("teams", user or "", conversation, channel, str(tenant), _kind(activity) != "user")


def _without_bot_mention(text: str, recipient: ChannelAccount | None) -> str:
    """The text without the bot's own <at> mention; other people's mentions keep their names."""
    name = (recipient.name if recipient else None) or ""

    def strip(match: re.Match[str]) -> str:
        inner = match.group(0)[4:-5]
        return " " if not name or inner.strip().lower() == name.strip().lower() else inner

    return _AT_TAG.sub(strip, text).strip()


# Conversation and activity ids as Teams and the Agents Playground give them ("a:1Xy...",
# "19:abc@thread.tacv2;messageid=1", "f:123"): ASCII, no spaces or braces, not only dots.
_SAFE_ID = re.compile(r"(?=[^.]*[A-Za-z0-9])[A-Za-z0-9:@._;=+/|%,!$*'()~-]{1,512}", re.ASCII)


def _plain_json(body: object) -> bool:
    try:
        json.dumps(body)
    except (TypeError, ValueError):
        return False
    return True


def _safe_id(value: object) -> bool:
    return isinstance(value, str) and _SAFE_ID.fullmatch(value) is not None


def _check_shape(body: dict[str, Any]) -> None:
    """What the SDK needs of an activity, checked up front so that a bad one is a 400, not a crash."""
    conversation = body.get("conversation")
    # The ids go into the connector's URLs when the bot answers: an id the connector could not
    # have given (braces, spaces, control characters, dots alone) is refused here.
    if not isinstance(conversation, dict) or not _safe_id(conversation.get("id")):
        raise ValueError("no usable conversation id")
    if body.get("id") is not None and not _safe_id(body["id"]):
        raise ValueError("no usable activity id")
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
