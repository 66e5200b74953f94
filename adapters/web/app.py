"""The local web chat: ``GET /`` serves a page from the package; the page talks to the same core as
Slack and Teams through a small JSON API, and shows replies rendered by :func:`render_html`.

Routes: ``/`` and ``/static/<file>`` (the page), ``/web/login`` (a token for a session cookie),
``/web/welcome``, ``/web/message``, ``/web/action`` and ``/web/upload``: JSON in (a multipart file
for the upload), ``{"messages": [{"html", "intent", "replace"}]}`` out, or ``{"error": "..."}`` with
a 4xx status. Who may call them is :mod:`adapters.web.guard`'s business.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from adapters.web.guard import SECURITY_HEADERS, Guard, WebError, notice_page
from adapters.web.html import render_html
from adapters.web.upload import read_upload
from bot.core import Bot
from bot.limits import LIMITED
from bot.reply import Action, Button, Reply, Section
from bot.turn import Turn

log = logging.getLogger("pmo_bot.web")

MAX_TEXT = 2000
MAX_JSON_BYTES = 64 * 1024
ID_COOKIE = "pmo_web_id"
ID_AGE_S = 365 * 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")
# A form's values go only to survey actions, and only under the names a survey form uses.
FORM_INTENTS = frozenset({"survey_submit", "survey_answer", "team_setup"})
# A survey's fields; a team set-up form's are plain lower-case names, but never a slot its own
# button carries (which team is being edited).
_FORM_FIELD = re.compile(r"^(comment|q:[a-z0-9_]{1,64})$")
_SETUP_FIELD = re.compile(r"^(?!editing$)[a-z][a-z_]{1,31}$")
MAX_VALUES = 50

STATIC = {
    "chat.css": "text/css",
    "chat.js": "text/javascript",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> bytes:
    return (resources.files("adapters.web") / "static" / name).read_bytes()


class WebChat:
    def __init__(self, bot: Bot, token: str | None = None, operator: bool = False) -> None:
        self.bot = bot
        # Served on loopback without a token: whoever uses it is at this machine (see Turn).
        self.operator = operator
        self.guard = Guard(token)
        self.files = {name: _static(name) for name in (*STATIC, "index.html")}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._guarded(self.page, public=True))
        app.router.add_get("/static/{name}", self._guarded(self.static, public=True))
        app.router.add_post("/web/login", self._guarded(self.login, public=True))
        app.router.add_get("/web/welcome", self._guarded(self.welcome))
        app.router.add_post("/web/message", self._guarded(self.message))
        app.router.add_post("/web/action", self._guarded(self.action))
        app.router.add_post("/web/upload", self._guarded(self.upload))

    def _guarded(self, handler: Handler, public: bool = False) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                self.guard.check(request, public)
                response = await handler(request)
            except WebError as exc:
                if request.path == "/":
                    return notice_page("the web chat is not open here", str(exc), exc.status)
                response = web.json_response({"error": str(exc)}, status=exc.status)
            except web.HTTPException:
                raise
            except Exception:
                log.exception("web chat request failed", extra={"path": request.path})
                response = web.json_response(
                    {"error": "Something went wrong on my side. Please try again."}, status=500
                )
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded

    # -- identity ---------------------------------------------------------------------------------

    @staticmethod
    def _person(request: web.Request) -> tuple[str, bool]:
        """This browser's id and whether it is new (then the response must set the cookie)."""
        held = request.cookies.get(ID_COOKIE, "")
        if _ID.fullmatch(held):
            return held, False
        return secrets.token_hex(16), True

    @staticmethod
    def _answer(replies: list[Reply], person: str, new: bool, **extra: object) -> web.Response:
        if replies and replies[0].intent == LIMITED:
            # Too much at once from this browser: the page shows the line as it shows any error.
            wait = replies[0].slots.get("retry_after", "1")
            return web.json_response({"error": replies[0].title}, status=429, headers={"Retry-After": wait})
        messages = [{"html": render_html(r), "intent": r.intent, "replace": r.replace} for r in replies]
        response = web.json_response({"messages": messages, **extra})
        if new:
            # Lax: a visit that starts from a link elsewhere must keep this browser's id.
            response.set_cookie(ID_COOKIE, person, max_age=ID_AGE_S, httponly=True, samesite="Lax")
        return response

    # -- the page ---------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        given = request.query.get("token")
        if given is not None:
            # The older link form: the token lands in proxy logs and history, so the page's own
            # #token= (which stays in the browser) is what the README gives.
            if not self.guard.token_matches(given):
                raise WebError("That access link is not right: ask for the address with #token=...", 401)
            response = web.Response(status=303, headers={"Location": "/"})
            self.guard.open_session(response, request)
            return response
        return web.Response(body=self.files["index.html"], content_type="text/html", charset="utf-8")

    async def login(self, request: web.Request) -> web.StreamResponse:
        given = (await _json(request)).get("token")
        if not isinstance(given, str) or not self.guard.token_matches(given):
            raise WebError("That access link is not right: ask for the address with #token=...", 401)
        response = web.Response(status=204)
        self.guard.open_session(response, request)
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise WebError("No such file.", 404)
        return web.Response(body=self.files[name], content_type=STATIC[name], charset="utf-8")

    async def welcome(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        demo = self.bot.demo is not None
        return self._answer([welcome_reply(demo)], person, new, demo=demo)

    # -- turns ------------------------------------------------------------------------------------

    async def message(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        body = await _json(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise WebError("Type a question first.")
        if len(text) > MAX_TEXT:
            raise WebError(f"Messages are limited to {MAX_TEXT:,} characters.")
        reply = await asyncio.to_thread(self.bot.handle_text, text.strip(), _turn(person, self.operator))
        return self._answer([self._point_to_demo(reply)], person, new)

    def _point_to_demo(self, reply: Reply) -> Reply:
        """A survey or digest question with nothing to show here (no team has this browser in
        it) gets the demo's buttons, since the demo is what the web chat can show."""
        if self.bot.demo is None or reply.questions or reply.intent not in ("pulse_survey", "digest"):
            return reply
        if reply.intent == "digest" and (reply.tables or reply.scorecards):
            return reply
        extra = (
            Button("Answer the demo pulse", Action("demo_pulse")),
            Button("Demo digest", Action("demo_digest")),
        )
        return dataclasses.replace(reply, buttons=(*reply.buttons, *extra))

    async def action(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        body = await _json(request)
        raw, values = body.get("action"), body.get("values") or {}
        action = Action.decode(raw) if isinstance(raw, str) and len(raw) <= MAX_TEXT else None
        if action is None:
            raise WebError("That button is not one I know.")
        if not isinstance(values, dict) or len(values) > MAX_VALUES:
            raise WebError("That form is not one I know.")
        if values and action.intent not in FORM_INTENTS:
            raise WebError("That form is not one I know.")
        fields = _SETUP_FIELD if action.intent == "team_setup" else _FORM_FIELD
        for key, value in values.items():
            if not (isinstance(key, str) and fields.fullmatch(key) and isinstance(value, str)):
                raise WebError("That form is not one I know.")
            if len(value) > MAX_TEXT:
                raise WebError(f"Answers are limited to {MAX_TEXT:,} characters.")
        # What the bot encoded in the button wins over a field of the same name.
        action = Action(action.intent, {**values, **action.slots}, action.part)
        reply = await asyncio.to_thread(self.bot.handle_action, action, _turn(person, self.operator))
        return self._answer([reply], person, new)

    async def upload(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        filename, data = await read_upload(request)
        replies = await asyncio.to_thread(
            self.bot.handle_file_report, data, filename, turn=_turn(person, self.operator)
        )
        return self._answer(replies, person, new)


def _turn(person: str, operator: bool) -> Turn:
    # A browser is known by its cookie alone: one person, in a conversation of their own.
    return Turn("web", person, person, operator=operator)


async def _json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise WebError("That message is too long.", 413)
    raw = bytearray()
    # read(n) returns what has arrived so far, not n bytes: read until the end of the body.
    while chunk := await request.content.read(MAX_JSON_BYTES + 1 - len(raw)):
        raw.extend(chunk)
        if len(raw) > MAX_JSON_BYTES:
            raise WebError("That message is too long.", 413)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WebError("That request was not JSON.") from None
    if not isinstance(body, dict):
        raise WebError("That request was not a JSON object.")
    return body


def welcome_reply(demo: bool) -> Reply:
    bullets = [
        "Ask what to check in a PMO artefact, e.g. \u201cwhat should I check in a risk register?\u201d",
        "Look up a PMO function and its services, or a role's competencies (\u201crole analyst\u201d).",
        "Drop a risk register (CSV or Excel) anywhere on this page to have it reviewed.",
    ]
    if demo:
        bullets.append("Try the weekly pulse survey and its digest with the demo team (made-up data).")
    buttons = [
        Button("Risk register checks", Action("challenge_questions", {"artefact": "risk_register"})),
        Button("PMO analyst competencies", Action("role_competencies", {"role": "pmo_analyst"})),
        Button("The risk management function", Action("function_info", {"function": "risk_management"})),
        Button("Where to develop next", Action("development_advice")),
    ]
    if demo:
        buttons.append(Button("Answer the demo pulse", Action("demo_pulse")))
    return Reply(
        "Hello, I'm pmo-bot",
        (
            Section(text="This is the local web chat: the same bot as in Slack and Teams, on this machine."),
            Section("What you can do here", bullets=tuple(bullets)),
        ),
        tuple(buttons),
        intent="help",
    )
