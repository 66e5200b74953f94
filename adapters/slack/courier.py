"""Sending to Slack: replies posted as Block Kit messages, and the port the survey jobs reach Slack
through (:class:`bot.ports.Courier`): one attempt at a time at an invitation, a look for a message
a crashed sender may have sent, a channel's members, and a digest with its chart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import fallback_text, render_blocks
from bot.errors import ConfigError, DeliveryError
from bot.ports import Delivery, Outcome
from bot.reply import Reply

log = logging.getLogger(__name__)

RENDER_CACHE_SIZE = 2048
# files.getUploadURLExternal takes a file's alt text (alt_txt) of at most 1,000 characters.
MAX_ALT_TXT = 1000
MARKER_EVENT = "pmo_survey"
# Slack's answers for a person or channel the bot can no longer reach: retrying will not help.
_GONE = {
    "user_not_found",
    "account_inactive",
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "user_disabled",
}
# Slack's answers that are about the bot, not the message: nothing will go until they are fixed.
_REFUSES_THE_BOT = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "missing_scope",
    "no_permission",
    "not_allowed_token_type",
    "team_access_not_granted",
    "ekm_access_denied",
}

Messages = list[list[dict[str, Any]]]


class SlackCourier:
    platform = "slack"

    def __init__(self, token: str, api_url: str) -> None:
        self.token = token
        self.api_url = api_url
        # Slack asks callers to honour Retry-After on 429; these handlers do, and retry 5xx and
        # dropped connections a couple of times with backoff.
        self.client = AsyncWebClient(
            token=token,
            base_url=api_url,
            retry_handlers=[
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                AsyncServerErrorRetryHandler(max_retry_count=2),
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
            ],
        )
        # Survey messages are paced and retried by the outbox sender, one attempt at a time: a
        # client of their own, without the retry handlers.
        # Its timeout stays well under the outbox lease, so that a send still in flight is never
        # taken for one whose sender died.
        self.outbox_client = AsyncWebClient(token=token, base_url=api_url, retry_handlers=[], timeout=10)
        self._bot_user: str | None = None
        self._rendered: dict[int, tuple[Reply, Messages, str]] = {}
        self._ack_bodies: dict[int, tuple[Reply, str]] = {}

    def render(self, reply: Reply) -> tuple[Messages, str]:
        """Block Kit messages and notification text for a reply; the core hands out the same
        reply object for the same knowledge answer, so each is rendered once."""
        hit = self._rendered.get(id(reply))
        if hit is not None and hit[0] is reply:
            return hit[1], hit[2]
        messages, text = render_blocks(_linked_images(reply)), fallback_text(reply)
        if len(self._rendered) >= RENDER_CACHE_SIZE:
            self._rendered.clear()
        self._rendered[id(reply)] = (reply, messages, text)
        return messages, text

    def ack_body(self, reply: Reply) -> str:
        """The JSON body of an ephemeral acknowledgement carrying the reply's first message: the
        same text Bolt's ``ack(text=..., blocks=..., response_type="ephemeral")`` writes, but
        written once per reply object, as it is rendered once (2 to 3 KB of JSON a request)."""
        hit = self._ack_bodies.get(id(reply))
        if hit is not None and hit[0] is reply:
            return hit[1]
        messages, text = self.render(reply)
        fields: dict[str, Any] = {"text": text, "response_type": "ephemeral"}
        if messages[0]:
            fields["blocks"] = messages[0]
        body = json.dumps(fields)
        if len(self._ack_bodies) >= RENDER_CACHE_SIZE:
            self._ack_bodies.clear()
        self._ack_bodies[id(reply)] = (reply, body)
        return body

    async def post(self, reply: Reply, channel: str, thread: str | None = None, marker: str = "") -> str:
        """Posts the reply's messages; returns the id of the conversation they went to (a user id
        lands in the DM with them, whose D… id Slack answers). ``marker`` tags the first message,
        so that it can be found again (:meth:`find_report`)."""
        messages, fallback = self.render(reply)
        posted = channel
        for n, blocks in enumerate(messages):
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread,
                blocks=blocks,
                text=fallback,
                unfurl_links=False,
                metadata=_tagged(marker) if marker and n == 0 else None,
            )
            posted = str(response.get("channel") or channel)
        return posted

    # -- the outbound port (bot.ports.Outbound) ------------------------------------------------

    async def post_report(
        self, channel_id: str, reply: Reply, image: bytes | None, image_name: str, marker: str = ""
    ) -> Delivery:
        """The reply's messages, then the PNG uploaded with ``files_upload_v2`` into the channel
        itself, right after them (not into a thread, where it would hide behind "1 reply").

        A refused message answers "inactive" for a channel the bot cannot reach. A failed upload,
        once the message is posted, is logged and the answer is still "sent": the message carries
        the figures, and a caller that retried on an error would post the digest twice.
        """
        try:
            posted = await self.post(reply, channel_id, marker=marker)
        except SlackApiError as exc:
            if exc.response.get("error") in _GONE:
                return "inactive"
            raise
        if image is not None:
            await self._upload(posted, image, image_name, reply.title)
        return "sent"

    async def _upload(self, channel: str, image: bytes, name: str, title: str) -> None:
        """Upload a file into ``channel`` (a C…, G… or D… id: files.completeUploadExternal refuses a
        user id); failures are logged, never raised."""
        label = " ".join(title.split())
        try:
            # getUploadURLExternal, a POST of the bytes to the URL it gives, completeUploadExternal;
            # self.client's retry handlers cover each of the three.
            await self.client.files_upload_v2(
                channel=channel,
                file=image,
                filename=name,
                title=label or name,
                alt_txt=label[:MAX_ALT_TXT] or name,
            )
        except SlackApiError as exc:
            code = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            hint = " (the app needs the files:write scope)" if code == "missing_scope" else ""
            log.error("chart upload to %s failed: %s%s", channel, code, hint, extra={"channel": channel})
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            # SlackRequestError: the upload URL answered other than 200.
            log.error("chart upload to %s failed: %s", channel, exc, extra={"channel": channel})

    # -- the survey sender's port (bot.ports.Courier) -------------------------------------------

    def _outbox_session(self) -> None:
        # One connection pool for a fan-out: without it slack_sdk opens (and closes) an HTTP session
        # for every message, which costs as much as the rest of a send. Made on first use, inside
        # the event loop that will use it.
        if self.outbox_client.session is None or self.outbox_client.session.closed:
            self.outbox_client.session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Closes the sender's connection pool (on shutdown, or when a CLI command is done)."""
        session = self.outbox_client.session
        if session is not None and not session.closed:
            await session.close()

    async def deliver(self, user_id: str, reply: Reply, marker: str) -> Outcome:
        messages, fallback = self.render(reply)
        self._outbox_session()
        try:
            # Posting to the user id lands in the app's DM with them, without conversations.open
            # (a Tier 3 method: 50 a minute would take hours for a large team).
            first = await self.outbox_client.chat_postMessage(
                channel=user_id,
                blocks=messages[0],
                text=fallback,
                unfurl_links=False,
                metadata=_tagged(marker),
            )
            for blocks in messages[1:]:
                await self.outbox_client.chat_postMessage(
                    channel=first["channel"], blocks=blocks, text=fallback, unfurl_links=False
                )
        except SlackApiError as exc:
            return _outcome(exc)
        except aiohttp.ClientConnectorError as exc:
            # Nothing reached Slack: the address is wrong or Slack is down for everyone.
            return Outcome("halt", error=f"cannot reach Slack at {self.api_url}: {exc.os_error or exc}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Outcome("retry", error=f"network: {type(exc).__name__}")
        return Outcome("sent", ref=f"{first['channel']}/{first['ts']}")

    async def find_delivery(self, user_id: str, marker: str, since: dt.datetime) -> str | None:
        self._outbox_session()
        try:
            opened = await self.outbox_client.conversations_open(users=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in _GONE:
                return None  # nobody there to have received it; the send will say they are gone
            raise
        return await self._find(opened["channel"]["id"], marker, since)

    async def find_report(self, channel_id: str, marker: str, since: dt.datetime) -> str | None:
        """Where a report tagged ``marker`` was posted in the channel since ``since``, or None."""
        self._outbox_session()
        return await self._find(channel_id, marker, since)

    async def _find(self, channel: str, marker: str, since: dt.datetime) -> str | None:
        cursor = None
        while True:
            page = await self.outbox_client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("outbox") == marker:
                    return f"{channel}/{message['ts']}"
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None

    async def check_channel(self, channel_id: str, post: bool) -> str:
        try:
            found = await self.client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            code = exc.response.get("error") or ""
            if code == "channel_not_found":
                return f"No channel {channel_id} that pmo-bot can see (a private one must add the app first)"
            log.warning("could not check a channel", extra={"channel": channel_id, "error": code})
            return ""  # a missing scope, say: the digest's own post will tell
        except aiohttp.ClientError:
            return ""
        channel = found.get("channel") or {}
        if post and not channel.get("is_member", True) and not channel.get("is_im"):
            return f"pmo-bot is not in {channel_id} yet: add the app to the channel, then save again"
        return ""

    async def members_of(self, channel_id: str) -> list[str]:
        self._outbox_session()
        try:
            return await self._members(channel_id)
        except SlackApiError as exc:
            code = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            raise ConfigError(f"Slack could not list the members of {channel_id}: {code}") from None
        except aiohttp.ClientError as exc:
            raise DeliveryError(f"cannot reach Slack at {self.api_url}: {type(exc).__name__}") from None

    async def _members(self, channel_id: str) -> list[str]:
        if self._bot_user is None:
            self._bot_user = str((await self.outbox_client.auth_test()).get("user_id") or "")
        members: list[str] = []
        cursor = None
        while True:
            page = await self.outbox_client.conversations_members(
                channel=channel_id, limit=200, cursor=cursor
            )
            members += [m for m in page.get("members") or [] if m != self._bot_user]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    async def workspace_of(self, user_id: str) -> str:
        return "workspace"  # one bot token, one workspace


def _outcome(error: SlackApiError) -> Outcome:
    status = error.response.status_code
    code = str(error.response.get("error") or f"HTTP {status}")
    if code in _REFUSES_THE_BOT:
        return Outcome(
            "halt", error=f"Slack refused the bot: {code} (check SLACK_BOT_TOKEN and the app's scopes)"
        )
    if status == 429 or code == "ratelimited":
        headers = {k.lower(): v for k, v in (error.response.headers or {}).items()}
        value = headers.get("retry-after")
        wait = value[0] if isinstance(value, list) and value else value
        try:
            seconds = float(str(wait))
        except ValueError:
            seconds = 1.0
        return Outcome("retry", retry_after=seconds, rate_limited=True, error="rate limited")
    if status >= 500 or code in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
        return Outcome("retry", error=code)
    if code in _GONE:
        return Outcome("inactive", error=code)
    return Outcome("failed", error=code)


def _linked_images(reply: Reply) -> Reply:
    """The reply without the images Block Kit cannot show: an image block needs a public http(s)
    URL, and a data: URI (a chart meant for Teams' cards) would have Slack refuse the message."""
    linked = tuple(i for i in reply.images if i.url.startswith(("https://", "http://")))
    if len(linked) == len(reply.images):
        return reply
    log.info("%d image(s) without a public URL left out of a Slack message", len(reply.images) - len(linked))
    return dataclasses.replace(reply, images=linked)


def _tagged(marker: str) -> dict[str, Any]:
    # Message metadata: kept with the message and returned by conversations.history, so that a
    # message whose sender died before recording it can be found instead of posted twice.
    return {"event_type": MARKER_EVENT, "event_payload": {"outbox": marker}}
