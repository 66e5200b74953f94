"""What Slack sends the bot, turned into calls on the core: the ``/pmo`` command, direct messages,
mentions in channels (answered in the thread), button clicks and the survey's comment form, the App
Home tab, and registers shared as files.

Nothing Slack sends is answered 404, every request is acknowledged at once (the work goes on in a
task of its own), and an event Slack delivers twice (same ``event_id``) is handled once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier

from adapters.slack.blocks import (
    ACTION_PREFIX,
    FORM_CALLBACK_ID,
    decode_action,
    form_values,
    modal_errors,
    render_modal,
)
from adapters.slack.courier import Messages, SlackCourier
from adapters.slack.files import review_files
from adapters.slack.home import PerUser, home_view, on_home_tab
from bot.core import ANSWER_ACTIONS, HOME_DIGEST, Bot
from bot.limits import LIMITED
from bot.reply import Action, Reply
from bot.turn import Turn

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")

Clock = Callable[[], float]
EventClaim = Callable[[str], Awaitable[bool]]
Ack = Callable[..., Awaitable[None]]


class SlackInbound:
    def __init__(
        self,
        bot: Bot,
        courier: SlackCourier,
        signing_secret: str,
        claim_event: EventClaim | None,
        clock: Clock,
    ) -> None:
        self.bot = bot
        self.courier = courier
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))
        self.claim_event = claim_event
        # Signatures are checked in front of Bolt (see handle), where the clock can be injected.
        # Listeners run before the HTTP answer (process_before_response) and hand anything that talks
        # to Slack to a task of their own, so every request is acknowledged at once: this spares
        # Bolt's wait-for-ack polling, which costs each request at least 10 ms.
        self.app = AsyncApp(
            client=courier.client,
            request_verification_enabled=False,
            name="pmo-bot",
            process_before_response=True,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._click_locks: dict[str, asyncio.Lock] = {}
        self._homes = PerUser()
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

    async def drain(self, timeout_s: float) -> None:
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
        app.view(FORM_CALLBACK_ID)(self._on_form)
        # Catch-alls, registered last: Bolt answers an unmatched request 404, which Slack counts
        # as a failed delivery and retries.
        app.event(re.compile(".*"))(self._ignore)
        app.action(re.compile(".*"))(self._ack_only)
        app.command(re.compile(".*"))(self._ack_only)
        app.view(re.compile(".*"))(self._ack_only)
        app.shortcut(re.compile(".*"))(self._ack_only)
        app.options(re.compile(".*"))(self._ack_only)

    def dedupe_inside_bolt(self) -> None:
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

    async def _ack_only(self, ack: Ack) -> None:
        await ack()

    async def _ignore(self) -> None:
        return None

    # -- the /pmo command --------------------------------------------------------------------

    async def _on_command(self, command: dict[str, Any]) -> BoltResponse:
        text = (command.get("text") or "").strip()
        turn = _turn(command.get("team_id"), command.get("channel_id"), command.get("user_id"))
        # Off the event loop: survey commands read and write the database.
        reply = await asyncio.to_thread(self.bot.handle_text, f"/pmo {text}", turn)
        if reply.form is not None and reply.form.standalone and command.get("trigger_id"):
            # A form on its own (team set-up) opens as a modal at once: the trigger id of the
            # command lasts three seconds, and the answer to the command stays empty.
            try:
                await self._open_standalone(reply, command)
                return BoltResponse(status=200, body="")
            except SlackApiError as exc:
                # An expired trigger (a slow answer), say: the form is offered as a button instead.
                log.warning("could not open a form", extra={"error": exc.response.get("error")})
        messages, fallback = self.courier.render(reply)
        if len(messages) > 1 and command.get("response_url"):
            self._spawn(self._respond_rest(command["response_url"], messages[1:], fallback))
        # The first message rides on the acknowledgement, well inside Slack's three seconds. Bolt
        # answers with a BoltResponse its listener returns; the JSON that ack(blocks=...) would
        # write on every request is written once per answer (SlackCourier.ack_body).
        return BoltResponse(status=200, body=self.courier.ack_body(reply))

    async def _open_standalone(self, reply: Reply, command: dict[str, Any]) -> None:
        assert reply.form is not None
        metadata = json.dumps(
            {"a": reply.form.submit.encode(), "c": command.get("channel_id")}, separators=(",", ":")
        )
        await self.courier.client.views_open(
            trigger_id=command["trigger_id"], view=render_modal(reply, metadata)
        )

    async def _respond_rest(self, response_url: str, messages: Messages, fallback: str) -> None:
        respond = AsyncRespond(response_url=response_url)
        for blocks in messages:
            await respond(blocks=blocks, text=fallback, response_type="ephemeral")

    # -- clicks and the comment form ---------------------------------------------------------

    async def _on_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        # The acknowledgement goes out once the click is recorded: Slack never sends a click
        # twice, so an answer it was told is taken must already be in the database, whatever
        # happens to this process next. The redrawn message follows after it.
        once = _Once(ack)
        self._spawn(self._answer_action(body, action, once))
        await once.done.wait()

    async def _answer_action(self, body: dict[str, Any], action: dict[str, Any], ack: _Once) -> None:
        try:
            decoded = decode_action(action.get("value") or "")
            if decoded is None:
                return
            user = (body.get("user") or {}).get("id")
            # One person's clicks are handled in the order they came: a quick change of mind
            # ("2", then "5") must end at "5", and the redrawn message with it.
            lock = self._click_locks.setdefault(str(user), asyncio.Lock())
            try:
                async with lock:
                    await self._answer_click(body, decoded, user, ack)
            finally:
                if not lock.locked() and self._click_locks.get(str(user)) is lock:
                    del self._click_locks[str(user)]
        finally:
            await ack()

    async def _answer_click(
        self, body: dict[str, Any], decoded: Action, user: str | None, ack: _Once
    ) -> None:
        if user and on_home_tab(body):
            await self._click_on_home(body, decoded, user, ack)
            return
        channel = (body.get("channel") or {}).get("id")
        team = (body.get("team") or {}).get("id")
        # Survey clicks read and write the database: off the event loop.
        reply = await asyncio.to_thread(self.bot.handle_action, decoded, _turn(team, channel, user))
        await ack()
        if reply.form is not None and reply.form.open == decoded and body.get("trigger_id"):
            await self._open_form(reply, body)
            return
        if body.get("response_url"):
            messages, fallback = self.courier.render(reply)
            respond = AsyncRespond(response_url=body["response_url"])
            for n, blocks in enumerate(messages):
                # A survey click redraws the survey in place, showing what was recorded.
                await respond(blocks=blocks, text=fallback, replace_original=reply.replace and n == 0)
        elif user:
            # A click on the App Home tab has no message to answer under: answer in a DM.
            opened = await self.courier.client.conversations_open(users=user)
            await self.courier.post(reply, opened["channel"]["id"])

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
        view = render_modal(reply, metadata)
        await self.courier.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def _on_form(self, ack: Ack, body: dict[str, Any]) -> None:
        # As a click: the comment is kept before Slack closes the form.
        once = _Once(ack)
        self._spawn(self._answer_form(body, once))
        await once.done.wait()

    async def _answer_form(self, body: dict[str, Any], ack: _Once) -> None:
        try:
            await self._submit_form(body, ack)
        finally:
            await ack()

    async def _submit_form(self, body: dict[str, Any], ack: _Once) -> None:
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
        if reply.form is not None and reply.form.errors:
            # Refused: the modal stays open with the reason under each field, and nothing is saved.
            await ack(response_action="errors", errors=modal_errors(reply.form))
            return
        await ack()
        messages, fallback = self.courier.render(reply)
        client = self.courier.client
        if reply.intent == LIMITED and user:
            # Refused (too much at once): the survey stays as it was, to be answered again.
            await client.chat_postMessage(channel=user, blocks=messages[0], text=fallback)
        elif metadata.get("r"):
            await AsyncRespond(response_url=metadata["r"])(
                blocks=messages[0], text=fallback, replace_original=True
            )
        elif metadata.get("c") and metadata.get("t"):
            await client.chat_update(
                channel=metadata["c"], ts=metadata["t"], blocks=messages[0], text=fallback
            )
        elif user:
            await client.chat_postMessage(channel=user, blocks=messages[0], text=fallback)

    # -- messages, mentions and the App Home ---------------------------------------------------

    async def _on_mention(self, event: dict[str, Any]) -> None:
        self._spawn(self._answer_mention(event))

    async def _answer_mention(self, event: dict[str, Any]) -> None:
        thread = event.get("thread_ts") or event.get("ts")
        channel = event.get("channel")
        if not channel:
            return
        # Others in the channel read the answer.
        turn = _turn(event.get("team"), channel, event.get("user"), shared=True)
        if event.get("files"):
            await review_files(self.bot, self.courier, event, channel, thread, turn)
            return
        text = _MENTION.sub(" ", event.get("text") or "").strip()
        # Off the event loop, as every turn: a survey question reads the database.
        reply = await asyncio.to_thread(self.bot.handle_text, text, turn)
        await self.courier.post(reply, channel, thread)

    async def _on_message(self, event: dict[str, Any]) -> None:
        self._spawn(self._answer_message(event))

    async def _answer_message(self, event: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return  # edits, joins, the bot's own posts
        if event.get("channel_type") != "im":
            return  # in channels the bot answers mentions only
        channel = event["channel"]
        turn = _turn(event.get("team"), channel, event.get("user"))
        if event.get("files"):
            await review_files(self.bot, self.courier, event, channel, event.get("thread_ts"), turn)
            return
        reply = await asyncio.to_thread(self.bot.handle_text, event.get("text") or "", turn)
        await self.courier.post(reply, channel, event.get("thread_ts"))

    async def _on_home(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._spawn(self._publish_home(event, body.get("team_id")))

    async def _publish_home(self, event: dict[str, Any], team: object = None) -> None:
        """``app_home_opened``: the person's Home drawn afresh (their open surveys, their teams'
        latest digests where they may see them, the common questions), unless it is being drawn
        right now, which comes to the same."""
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        if self._homes.busy(user):
            return
        await self._refresh_home(user, team)

    async def _refresh_home(self, user: str, team: object) -> None:
        # One drawing at a time per person, so that an older one never lands after a newer one.
        async with self._homes.hold(user):
            # Off the event loop: it reads the database and waits for channel members.
            parts = await asyncio.to_thread(self.bot.home, _turn(team, "", user))
            view = home_view(parts, self.courier.render, time.time())
            await self.courier.client.views_publish(user_id=user, view=view)

    async def _click_on_home(self, body: dict[str, Any], decoded: Action, user: str, ack: _Once) -> None:
        """A click on the App Home, which has no message to answer under: a survey pick redraws
        Home showing what is now recorded; anything else is answered in a DM."""
        team = (body.get("team") or {}).get("id")
        turn = _turn(team, "", user)
        # Off the event loop, as every click: survey picks and digests read the database.
        if decoded.intent == HOME_DIGEST:
            reply = await asyncio.to_thread(self.bot.home_digest, decoded.slots.get("team", ""), turn)
        else:
            reply = await asyncio.to_thread(self.bot.handle_action, decoded, turn)
        await ack()
        if reply.form is not None and reply.form.open == decoded and body.get("trigger_id"):
            await self._open_form(reply, body)
            return
        if decoded.intent in ANSWER_ACTIONS and reply.intent != LIMITED:
            await self._refresh_home(user, team)
            if reply.questions:
                return  # recorded: Home shows it
        # Refused (the survey closed, too many clicks) or not a survey pick: said in a DM.
        opened = await self.courier.client.conversations_open(users=user)
        await self.courier.post(reply, opened["channel"]["id"])


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


def _turn(team: object, channel: object, user: object, shared: bool = False) -> Turn:
    """A Slack turn. Answers to /pmo and to clicks are seen by the person alone (ephemeral or in
    a DM), so only a mention in a channel is ``shared``."""

    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    return Turn("slack", text(user), text(channel), text(channel), text(team), shared)


class _Once:
    """Bolt's ``ack``, called at most once: after the work it vouches for, or when there is none."""

    def __init__(self, ack: Ack) -> None:
        self._ack: Ack | None = ack
        self.done = asyncio.Event()

    async def __call__(self, **answer: Any) -> None:
        ack, self._ack = self._ack, None
        if ack is not None:
            try:
                await ack(**answer)
            finally:
                self.done.set()
