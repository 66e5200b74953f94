"""The local web chat: ``GET /`` serves a page from the package; the page talks to the same core as
Slack and Teams through a small JSON API, and shows replies rendered by :func:`render_html`.

Routes: ``/`` and ``/static/<file>`` (the page), ``/web/welcome``, ``/web/message``,
``/web/action`` and ``/web/upload`` (JSON in, ``{"messages": [...]}`` out, or ``{"error": "..."}``).

Safety. On a loopback address with no token, only requests whose Host names this machine are served
(a web page elsewhere cannot reach the chat by pointing a domain name at 127.0.0.1). With
``PMO_WEB_TOKEN`` set, the page is opened once with ``?token=...``, which becomes a cookie; every
request needs it. Every POST needs the ``X-PMO-Web`` header, which a cross-site form cannot send,
and a cross-site script cannot send without a preflight the server never approves. The page runs
under a Content-Security-Policy with no inline script, and every string in a reply is escaped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web

from adapters.web.html import render_html
from bot.core import Bot
from bot.reply import Action, Button, Reply, Section
from bot.review.reader import MAX_BYTES

if TYPE_CHECKING:
    from jobs.demo import Demo

log = logging.getLogger("pmo_bot.web")

MAX_TEXT = 2000
MAX_JSON_BYTES = 64 * 1024
MAX_VALUES = 50
MAX_NAME = 200
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xlsm")
ID_COOKIE = "pmo_web_id"
TOKEN_COOKIE = "pmo_web_token"
COOKIE_AGE_S = 30 * 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
DEMO_INTENTS = frozenset({"demo_pulse", "demo_close", "demo_digest", "demo_restart"})

STATIC = {
    "chat.css": "text/css",
    "chat.js": "text/javascript",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebError(Exception):
    """A request the chat refuses, with the one line the page shows and an HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _static(name: str) -> bytes:
    return (resources.files("adapters.web") / "static" / name).read_bytes()


def host_name(host: str) -> str:
    """The name part of a Host header: "127.0.0.1:3978" -> "127.0.0.1", "[::1]:80" -> "[::1]"."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class WebChat:
    def __init__(self, bot: Bot, demo: Demo | None = None, token: str | None = None) -> None:
        self.bot = bot
        self.demo = demo
        self.token = token
        self.files = {name: _static(name) for name in (*STATIC, "index.html")}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._guard(self.page, page=True))
        app.router.add_get("/static/{name}", self._guard(self.static))
        app.router.add_get("/web/welcome", self._guard(self.welcome))
        app.router.add_post("/web/message", self._guard(self.message))
        app.router.add_post("/web/action", self._guard(self.action))
        app.router.add_post("/web/upload", self._guard(self.upload))

    # -- safety -----------------------------------------------------------------------------------

    def _guard(self, handler: Handler, page: bool = False) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                entry = self._admit(request, page)
                response = entry if entry is not None else await handler(request)
            except WebError as exc:
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

    def _admit(self, request: web.Request, page: bool) -> web.StreamResponse | None:
        """None when the request may go on; a response (a redirect that stores the token) or a
        WebError when it may not."""
        if self.token is None:
            if host_name(request.host).lower() not in LOOPBACK_HOSTS:
                raise WebError("The web chat answers on this machine only (open http://127.0.0.1).", 403)
        else:
            given = request.query.get("token") if page else None
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                response = web.Response(status=303, headers={"Location": "/"})
                response.set_cookie(
                    TOKEN_COOKIE,
                    self.token,
                    max_age=COOKIE_AGE_S,
                    httponly=True,
                    samesite="Strict",
                    secure=request.secure,
                )
                return response
            held = request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(held.encode(), self.token.encode()):
                if page:
                    return web.Response(
                        text=UNAUTHORISED_PAGE, content_type="text/html", charset="utf-8", status=401
                    )
                raise WebError("This page needs its access link: open the address with ?token=...", 401)
        if request.method == "POST":
            if request.headers.get("X-PMO-Web") != "1":
                raise WebError("Requests to the web chat come from its own page.", 403)
            # The host, not the scheme: behind a proxy that ends HTTPS the page's origin is https
            # while this server sees http.
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
                raise WebError("Requests to the web chat come from its own page.", 403)
        return None

    # -- identity ---------------------------------------------------------------------------------

    @staticmethod
    def _person(request: web.Request) -> tuple[str, bool]:
        """This browser's id and whether it is new (then the response must set the cookie)."""
        held = request.cookies.get(ID_COOKIE, "")
        if _ID.match(held):
            return held, False
        return secrets.token_hex(16), True

    @staticmethod
    def _answer(replies: list[Reply], person: str, new: bool, **extra: object) -> web.Response:
        messages = [{"html": render_html(r), "intent": r.intent, "replace": r.replace} for r in replies]
        response = web.json_response({"messages": messages, **extra})
        if new:
            response.set_cookie(ID_COOKIE, person, max_age=COOKIE_AGE_S, httponly=True, samesite="Strict")
        return response

    # -- the page ---------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        response = web.Response(body=self.files["index.html"], content_type="text/html", charset="utf-8")
        if new:
            response.set_cookie(ID_COOKIE, person, max_age=COOKIE_AGE_S, httponly=True, samesite="Strict")
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise WebError("No such file.", 404)
        return web.Response(body=self.files[name], content_type=STATIC[name], charset="utf-8")

    async def welcome(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        demo = self.demo is not None
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
        reply = await asyncio.to_thread(
            self.bot.handle_text, text.strip(), f"web:{person}", f"web:{person}", True
        )
        return self._answer([self._point_to_demo(reply)], person, new)

    def _point_to_demo(self, reply: Reply) -> Reply:
        """A survey or digest question with nothing to show here (no team has this browser in
        it) gets the demo's buttons, since the demo is what the web chat can show."""
        if self.demo is None or reply.questions or reply.intent not in ("pulse_survey", "digest"):
            return reply
        if reply.intent == "digest" and reply.tables:
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
        fields = values.items()
        if not all(isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_TEXT for k, v in fields):
            raise WebError("That form is not one I know.")
        action = Action(action.intent, {**action.slots, **values}, action.part)
        user = f"web:{person}"
        if action.intent in DEMO_INTENTS:
            reply = await asyncio.to_thread(self._demo, action.intent, user)
        else:
            reply = await asyncio.to_thread(self.bot.handle_action, action, user, user)
        return self._answer([reply], person, new)

    def _demo(self, intent: str, user: str) -> Reply:
        demo = self.demo
        if demo is None:
            return Reply(
                "The demo is off here",
                (Section(text="This server runs with PMO_DEMO=off, so there is no demo team."),),
                intent="pulse_survey",
            )
        if intent == "demo_pulse":
            return demo.pulse(user)
        if intent == "demo_close":
            return demo.close()
        if intent == "demo_digest":
            return demo.digest()
        return demo.restart(user)

    async def upload(self, request: web.Request) -> web.StreamResponse:
        person, new = self._person(request)
        if request.content_length is not None and request.content_length > MAX_BYTES + 64 * 1024:
            raise WebError(_too_big(request.content_length), 413)
        try:
            reader = await request.multipart()
            part = await reader.next()
        except (ValueError, AssertionError, KeyError) as exc:
            raise WebError("Send the register as a file upload (multipart form, field 'file').") from exc
        while part is not None and not (isinstance(part, BodyPartReader) and part.name == "file"):
            part = await reader.next()
        if part is None or not isinstance(part, BodyPartReader):
            raise WebError("Send the register as a file upload (multipart form, field 'file').")
        filename = PurePath((part.filename or "register").replace("\\", "/")).name or "register"
        if len(filename) > MAX_NAME:  # shortened in the middle: the suffix says what the file is
            filename = filename[: MAX_NAME - 12] + "…" + filename[-11:]
        if not filename.lower().endswith(UPLOAD_SUFFIXES):
            raise WebError(f"{filename} is not a CSV or Excel file (.csv, .xlsx or .xlsm).", 415)
        data = bytearray()
        while chunk := await part.read_chunk(256 * 1024):
            data.extend(chunk)
            if len(data) > MAX_BYTES:
                raise WebError(_too_big(None), 413)
        replies = await asyncio.to_thread(self.bot.handle_file_report, bytes(data), filename)
        return self._answer(replies, person, new)


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


def _too_big(size: int | None) -> str:
    measured = f" is {size / 1024 / 1024:.1f} MB;" if size else " is over 10 MB;"
    return f"That file{measured} registers over 10 MB are not reviewed. Split it, or remove old rows."


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


UNAUTHORISED_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>pmo-bot: access link needed</title></head>
<body><main><h1>This web chat needs its access link</h1>
<p>It is open to the network, so it asks for a token. Open the address with
<code>?token=</code> followed by the value of <code>PMO_WEB_TOKEN</code> set where the server runs.</p>
</main></body></html>
"""
