"""The Slack adapter: Bolt's AsyncApp translating Slack to the core and replies back to Block Kit.

What it handles: the ``/pmo`` command, direct messages, mentions in channels (answered in the
thread), button clicks, the App Home tab, and risk registers shared as files. Nothing Slack sends
is answered 404, every request is acknowledged at once, and an event Slack delivers twice (same
``event_id``) is handled once, remembered in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    ACTION_PREFIX,
    decode_action,
    fallback_text,
    form_values,
    render_blocks,
    render_modal,
)
from bot.core import Bot
from bot.errors import ConfigError, DeliveryError
from bot.ports import Delivery, Outcome
from bot.reply import Action, Reply, Section
from bot.review.reader import MAX_BYTES
from bot.turn import Turn

log = logging.getLogger(__name__)

REGISTER_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".xlsm")
RENDER_CACHE_SIZE = 2048
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
FORM_CALLBACK = "pmo:form"
# files.getUploadURLExternal takes a file's alt text (alt_txt) of at most 1,000 characters.
MAX_ALT_TXT = 1000
MARKER_EVENT = "pmo_survey"
_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")

Clock = Callable[[], float]
EventClaim = Callable[[str], Awaitable[bool]]


class SlackAdapter:
    def __init__(
        self,
        bot: Bot,
        token: str,
        signing_secret: str,
        api_url: str,
        claim_event: EventClaim | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.bot = bot
        self.token = token
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))
        self.claim_event = claim_event
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
        # Signatures are checked in front of Bolt (see handle), where the clock can be injected.
        # Listeners run before the HTTP answer (process_before_response) and hand anything that talks
        # to Slack to a task of their own, so every request is acknowledged at once: this spares
        # Bolt's wait-for-ack polling, which costs each request at least 10 ms.
        self.app = AsyncApp(
            client=self.client,
            request_verification_enabled=False,
            name="pmo-bot",
            process_before_response=True,
        )
        # Survey messages are paced and retried by the outbox sender, one attempt at a time: a
        # client of their own, without the retry handlers.
        # Its timeout stays well under the outbox lease, so that a send still in flight is never
        # taken for one whose sender died.
        self.outbox_client = AsyncWebClient(token=token, base_url=api_url, retry_handlers=[], timeout=10)
        self.api_url = api_url
        self._bot_user: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._click_locks: dict[str, asyncio.Lock] = {}
        self._rendered: dict[int, tuple[Reply, list[list[dict[str, Any]]], str]] = {}
        self._register()

    # -- HTTP ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        # Bytes first: a body that is not UTF-8 cannot carry a valid signature, and must not crash.
        body = (await request.read()).decode("utf-8", errors="replace")
        try:
            valid = self.verifier.is_valid_request(body, dict(request.headers))
        except (ValueError, TypeError):
            valid = False  # a timestamp header that is not a number
        if not valid:
            return web.json_response({"error": "invalid request"}, status=401)
        parsed = _parse(body, request.content_type)
        if parsed is None:
            return web.json_response({"error": "malformed request"}, status=400)
        # Repeats are caught here, before Bolt: a middleware inside Bolt costs every request.
        if not await self._first_delivery(parsed):
            return web.Response(status=200)
        bolt_request = await to_bolt_request(request)
        response = await self.app.async_dispatch(bolt_request)
        if response.status >= 500:
            # Our failure, already logged by Bolt. A retry would fail the same way, and Slack turns
            # off an app whose deliveries keep failing: acknowledge, and ask Slack not to retry.
            return web.Response(status=200, headers={"X-Slack-No-Retry": "1"})
        return await to_aiohttp_response(response)

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait for work started after an acknowledgement (file reviews) to finish, for a while."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout_s)

    def _spawn(self, work: Awaitable[None]) -> None:
        # Keep a reference: a task nobody holds can be collected before it finishes.
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("work after an acknowledgement failed", exc_info=task.exception())

    # -- listeners -------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.command("/pmo")(self._on_command)
        app.action(re.compile(f"^{re.escape(ACTION_PREFIX)}"))(self._on_action)
        app.event("app_mention")(self._on_mention)
        app.event("app_home_opened")(self._on_home)
        app.event("message")(self._on_message)
        app.view(FORM_CALLBACK)(self._on_form)
        # Catch-alls, registered last: Bolt answers an unmatched request 404, which Slack counts
        # as a failed delivery and retries.
        app.event(re.compile(".*"))(self._ignore)
        app.action(re.compile(".*"))(self._ack_only)
        app.command(re.compile(".*"))(self._ack_only)
        app.view(re.compile(".*"))(self._ack_only)
        app.shortcut(re.compile(".*"))(self._ack_only)
        app.options(re.compile(".*"))(self._ack_only)

    def dedupe_inside_bolt(self) -> None:
        """Socket Mode hands events to Bolt directly, past ``handle``: check repeats there."""
        self.app.middleware(self._once_per_event)

    async def _first_delivery(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if self.claim_event is None or body.get("type") != "event_callback" or not isinstance(event_id, str):
            return True
        try:
            first = await self.claim_event(event_id)
        except Exception:
            # Better to answer twice than never: without the database, handle the event.
            log.exception("could not record event id", extra={"event_id": event_id})
            return True
        if not first:
            log.info("repeat event ignored", extra={"event_id": event_id})
        return first

    async def _once_per_event(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        if not await self._first_delivery(body):
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _ack_only(self, ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    async def _ignore(self) -> None:
        return None

    async def _on_command(self, ack: Callable[..., Awaitable[None]], command: dict[str, Any]) -> None:
        text = (command.get("text") or "").strip()
        turn = _turn(command.get("team_id"), command.get("channel_id"), command.get("user_id"))
        # Off the event loop: survey commands read and write the database.
        reply = await asyncio.to_thread(self.bot.handle_text, f"/pmo {text}", turn)
        messages, fallback = self.render(reply)
        # The first message rides on the acknowledgement, well inside Slack's three seconds.
        await ack(blocks=messages[0], text=fallback, response_type="ephemeral")
        if len(messages) > 1 and command.get("response_url"):
            self._spawn(self._respond_rest(command["response_url"], messages[1:], fallback))

    async def _respond_rest(
        self, response_url: str, messages: list[list[dict[str, Any]]], fallback: str
    ) -> None:
        respond = AsyncRespond(response_url=response_url)
        for blocks in messages:
            await respond(blocks=blocks, text=fallback, response_type="ephemeral")

    async def _on_action(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        self._spawn(self._answer_action(body, action))

    async def _answer_action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        decoded = decode_action(action.get("value") or "")
        if decoded is None:
            return
        user = (body.get("user") or {}).get("id")
        # One person's clicks are handled in the order they came: a quick change of mind ("2",
        # then "5") must end at "5", and the redrawn message with it.
        lock = self._click_locks.setdefault(str(user), asyncio.Lock())
        try:
            async with lock:
                await self._answer_click(body, decoded, user)
        finally:
            if not lock.locked() and self._click_locks.get(str(user)) is lock:
                del self._click_locks[str(user)]

    async def _answer_click(self, body: dict[str, Any], decoded: Action, user: str | None) -> None:
        channel = (body.get("channel") or {}).get("id")
        team = (body.get("team") or {}).get("id")
        # Survey clicks read and write the database: off the event loop.
        reply = await asyncio.to_thread(self.bot.handle_action, decoded, _turn(team, channel, user))
        if reply.form is not None and reply.form.open == decoded and body.get("trigger_id"):
            await self._open_form(reply, body)
            return
        if body.get("response_url"):
            messages, fallback = self.render(reply)
            respond = AsyncRespond(response_url=body["response_url"])
            for n, blocks in enumerate(messages):
                # A survey click redraws the survey in place, showing what was recorded.
                await respond(blocks=blocks, text=fallback, replace_original=reply.replace and n == 0)
        elif user:
            # A click on the App Home tab has no message to answer under: answer in a DM.
            opened = await self.client.conversations_open(users=user)
            await self._post(reply, opened["channel"]["id"])

    async def _open_form(self, reply: Reply, body: dict[str, Any]) -> None:
        assert reply.form is not None
        container = body.get("container") or {}
        metadata = json.dumps(
            {
                "a": reply.form.submit.encode(),
                "c": container.get("channel_id") or (body.get("channel") or {}).get("id"),
                "t": container.get("message_ts"),
                # An ephemeral message (the answer to /pmo survey) cannot be edited by its id;
                # only through the response URL of the click.
                "r": body.get("response_url") if container.get("is_ephemeral") else None,
            },
            separators=(",", ":"),
        )
        await self.client.views_open(trigger_id=body["trigger_id"], view=render_modal(reply, metadata))

    async def _on_form(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._answer_form(body))

    async def _answer_form(self, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            return
        action = Action.decode(metadata.get("a") or "") if isinstance(metadata, dict) else None
        if action is None:
            return
        action = Action(action.intent, {**action.slots, **form_values(view.get("state") or {})}, action.part)
        user = (body.get("user") or {}).get("id")
        team = (body.get("team") or {}).get("id")
        reply = await asyncio.to_thread(self.bot.handle_action, action, _turn(team, metadata.get("c"), user))
        messages, fallback = self.render(reply)
        if metadata.get("r"):
            await AsyncRespond(response_url=metadata["r"])(
                blocks=messages[0], text=fallback, replace_original=True
            )
        elif metadata.get("c") and metadata.get("t"):
            await self.client.chat_update(
                channel=metadata["c"], ts=metadata["t"], blocks=messages[0], text=fallback
            )
        elif user:
            await self.client.chat_postMessage(channel=user, blocks=messages[0], text=fallback)

    async def _on_mention(self, event: dict[str, Any]) -> None:
        self._spawn(self._answer_mention(event))

    async def _answer_mention(self, event: dict[str, Any]) -> None:
        thread = event.get("thread_ts") or event.get("ts")
        channel = event.get("channel")
        if not channel:
            return
        if event.get("files"):
            await self._review_files(event, channel, thread)
            return
        text = _MENTION.sub(" ", event.get("text") or "").strip()
        # Off the event loop, as every turn: a survey question reads the database. Others in the
        # channel read the answer.
        turn = _turn(event.get("team"), channel, event.get("user"), shared=True)
        reply = await asyncio.to_thread(self.bot.handle_text, text, turn)
        await self._post(reply, channel, thread)

    async def _on_message(self, event: dict[str, Any]) -> None:
        self._spawn(self._answer_message(event))

    async def _answer_message(self, event: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return  # edits, joins, the bot's own posts
        if event.get("channel_type") != "im":
            return  # in channels the bot answers mentions only
        channel = event["channel"]
        if event.get("files"):
            await self._review_files(event, channel, event.get("thread_ts"))
            return
        turn = _turn(event.get("team"), channel, event.get("user"))
        reply = await asyncio.to_thread(self.bot.handle_text, event.get("text") or "", turn)
        await self._post(reply, channel, event.get("thread_ts"))

    async def _on_home(self, event: dict[str, Any]) -> None:
        self._spawn(self._publish_home(event))

    async def _publish_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        reply = self.bot.handle_action(Action("help"))
        blocks = self.render(reply)[0][0]
        await self.client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    # -- files -----------------------------------------------------------------------------

    async def _review_files(self, event: dict[str, Any], channel: str, thread: str | None) -> None:
        try:
            await self._review_each(event, channel, thread)
        except Exception:
            log.exception("file review failed", extra={"channel": channel})
            with contextlib.suppress(Exception):
                await self._post(
                    _note(
                        "Sorry, the review failed",
                        "Something went wrong on my side while "
                        "reviewing that file. Please try again in a minute.",
                    ),
                    channel,
                    thread,
                )

    async def _review_each(self, event: dict[str, Any], channel: str, thread: str | None) -> None:
        for item in event.get("files") or []:
            name = str(item.get("name") or item.get("title") or "file")
            if not name.lower().endswith(REGISTER_SUFFIXES):
                await self._post(
                    _note("That isn't a register", f"{name} is not a CSV or Excel file, so I left it."),
                    channel,
                    thread,
                )
                continue
            if int(item.get("size") or 0) > MAX_BYTES:
                await self._post(
                    _note(
                        "That file is too big",
                        f"{name} is over 10 MB; registers that size are "
                        "not reviewed. Split it, or send the risks sheet alone.",
                    ),
                    channel,
                    thread,
                )
                continue
            data = await self._download(item)
            if data is None:
                await self._post(
                    _note(
                        "I couldn't download that file",
                        f"Slack did not let me read {name}. Check that the app has the files:read scope.",
                    ),
                    channel,
                    thread,
                )
                continue
            replies = await asyncio.to_thread(self.bot.handle_file_report, data, name)
            for reply in replies:
                await self._post(reply, channel, thread)

    async def _download(self, item: dict[str, Any]) -> bytes | None:
        url = item.get("url_private_download") or item.get("url_private")
        if not url:
            return None
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
                if response.status != 200 or response.content_type == "text/html":
                    return None  # without the right scope Slack serves a sign-in page
                chunks, size = [], 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        return None
                    chunks.append(chunk)
                return b"".join(chunks)
        except aiohttp.ClientError:
            log.warning("file download failed", extra={"file": item.get("id")})
            return None

    def render(self, reply: Reply) -> tuple[list[list[dict[str, Any]]], str]:
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

    # -- the outbound port (bot.ports.Outbound) ------------------------------------------------

    platform = "slack"

    async def send_to_user(self, user_id: str, reply: Reply) -> Delivery:
        try:
            opened = await self.client.conversations_open(users=user_id)
            await self._post(reply, opened["channel"]["id"])
        except SlackApiError as exc:
            if exc.response.get("error") in _GONE:
                return "inactive"
            raise
        return "sent"

    async def post_to_channel(self, channel_id: str, reply: Reply) -> Delivery:
        try:
            await self._post(reply, channel_id)
        except SlackApiError as exc:
            if exc.response.get("error") in _GONE:
                return "inactive"
            raise
        return "sent"

    async def post_report(
        self, channel_id: str, reply: Reply, image: bytes | None, image_name: str
    ) -> Delivery:
        """The reply's messages, then the PNG uploaded with ``files_upload_v2`` into the channel
        itself, right after them (not into a thread, where it would hide behind "1 reply").

        A refused message answers "inactive" for a channel the bot cannot reach, as
        :meth:`post_to_channel` does. A failed upload, once the message is posted, is logged and the
        answer is still "sent": the message carries the figures, and a caller that retried on an
        error would post the digest twice.
        """
        try:
            posted = await self._post(reply, channel_id)
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
                metadata={"event_type": MARKER_EVENT, "event_payload": {"outbox": marker}},
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
        channel = opened["channel"]["id"]
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

    # -- sending ---------------------------------------------------------------------------

    async def _post(self, reply: Reply, channel: str, thread: str | None = None) -> str:
        """Posts the reply's messages; returns the id of the conversation they went to (a user id
        lands in the DM with them, whose D… id Slack answers)."""
        messages, fallback = self.render(reply)
        posted = channel
        for blocks in messages:
            response = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread, blocks=blocks, text=fallback, unfurl_links=False
            )
            posted = str(response.get("channel") or channel)
        return posted


class _Clock(SlackClock):
    """slack_sdk's verifier asks its clock for ``now()``; ours is a plain function."""

    def __init__(self, now: Clock) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _parse(body: str, content_type: str) -> dict[str, Any] | None:
    """The body as Slack could have sent it (a JSON object, or form fields with an optional JSON
    ``payload``), or None. Bolt parses it again; this keeps out what would make Bolt fail."""
    try:
        if content_type == "application/json":
            data = json.loads(body)
            return data if isinstance(data, dict) else None
        if body.startswith("payload="):
            payload = json.loads(urllib.parse.unquote_plus(body[len("payload=") :].split("&", 1)[0]))
            return payload if isinstance(payload, dict) else None
        return {} if "=" in body and content_type == "application/x-www-form-urlencoded" else None
    except ValueError:
        return None


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


def _turn(team: object, channel: object, user: object, shared: bool = False) -> Turn:
    """A Slack turn. Answers to /pmo and to clicks are seen by the person alone (ephemeral or in
    a DM), so only a mention in a channel is ``shared``."""

    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    return Turn("slack", text(user), text(channel), text(channel), text(team), shared)


def _note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="review")


def _linked_images(reply: Reply) -> Reply:
    """The reply without the images Block Kit cannot show: an image block needs a public http(s)
    URL, and a data: URI (a chart meant for Teams' cards) would have Slack refuse the message."""
    linked = tuple(i for i in reply.images if i.url.startswith(("https://", "http://")))
    if len(linked) == len(reply.images):
        return reply
    log.info("%d image(s) without a public URL left out of a Slack message", len(reply.images) - len(linked))
    return dataclasses.replace(reply, images=linked)
