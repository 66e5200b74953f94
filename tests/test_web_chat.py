"""The local web chat over real HTTP on loopback: the page and its headers, questions and their
buttons, register uploads, hostile strings, the safety checks, token mode, and the demo team's week
from the pulse to the digest."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from adapters.web.app import DEMO_INTENTS
from bot.core import Bot
from bot.reply import Action
from bot.review.reader import MAX_BYTES
from bot.server import Parts, build_app
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.surveys import Run, SurveyStore
from jobs import demo
from knowledge.base import KnowledgeBase
from tests.loopback import serve
from tests.test_review import REAL
from tests.test_web_html import ALLOWED_TAGS, parse

WEB = {"X-PMO-Web": "1"}
TOKEN = "correct-horse-battery-staple"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"
RISK_REGISTER = Action("challenge_questions", {"artefact": "risk_register"})
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)")
MARKUP = ("<script>alert(1)</script>", '"><img/src=x/onerror=alert(1)>')  # markup with no spaces
# A browser id. The server takes any well-formed id a browser holds, so a test can be this admin.
ADMIN = "ab" * 16
SERVICES = tuple(demo.TRENDS)


# -- a server and a browser ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def served(kb: KnowledgeBase, url: str, tmp_path: Path, **env: str) -> AsyncIterator[str]:
    """The real ``serve`` app on a free loopback port, with no teams file and ADMIN's browser as the
    one PMO admin; yields its base URL. The survey clock is not the web chat's, and is off: running,
    its first tick may still hold a database connection in a thread when a quick test stops the
    server, and PostgreSQL's driver then warns of a connection left open."""
    storage = Storage(url)
    storage.upgrade()
    values = {
        "DATABASE_URL": url,
        "PMO_CONFIG": str(tmp_path / "no-teams.yaml"),
        "PMO_ADMINS": f"web:{ADMIN}",
        "PMO_SCHEDULER": "off",
        **env,
    }
    runner, port = await serve(build_app(Parts(Settings.model_validate(values), Bot(kb), storage)))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class Browser:
    """One browser: its own cookie jar (so its own pmo_web_id), talking to one server."""

    base: str
    session: aiohttp.ClientSession

    async def fetch(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """The response with its body read (use text() or json()); ``path`` goes out as written, with
        no ``..`` folded away."""
        async with self.session.request(method, URL(self.base + path, encoded=True), **kwargs) as response:
            await response.read()
        return response

    async def post(
        self, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        return await self.fetch("POST", path, headers={**WEB, **(headers or {})}, **kwargs)

    async def messages(self, path: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.post(path, json=payload)
        assert response.status == 200, await response.text()
        return list((await response.json())["messages"])

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.messages("/web/message", {"text": text})

    async def click(self, action: str | Action, values: dict[str, str] | None = None) -> list[dict[str, Any]]:
        raw = action.encode() if isinstance(action, Action) else action
        return await self.messages("/web/action", {"action": raw, "values": values or {}})

    async def demo(self, intent: str) -> dict[str, Any]:
        [message] = await self.click(Action(intent))
        return message

    async def upload(self, filename: str, data: bytes, field: str = "file") -> aiohttp.ClientResponse:
        # Unquoted, the file name reaches the server as written, quotes and markup and all.
        form = aiohttp.FormData(quote_fields=False)
        form.add_field(field, io.BytesIO(data), filename=filename, content_type="application/octet-stream")
        return await self.post("/web/upload", data=form)

    def be(self, person: str) -> None:
        self.session.cookie_jar.update_cookies({"pmo_web_id": person}, URL(self.base))

    @property
    def id(self) -> str:
        return self.session.cookie_jar.filter_cookies(URL(self.base))["pmo_web_id"].value


@contextlib.asynccontextmanager
async def browser(base: str) -> AsyncIterator[Browser]:
    # The default jar keeps no cookies from an IP address such as 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Browser(base, session)


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
async def chat(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Browser]:
    async with served(kb, sqlite(tmp_path), tmp_path) as base, browser(base) as one:
        yield one


@pytest.fixture
async def demo_chat(kb: KnowledgeBase, database_url: str, tmp_path: Path) -> AsyncIterator[Browser]:
    """A browser on a server whose demo team's weeks live in SQLite or PostgreSQL."""
    async with served(kb, database_url, tmp_path) as base, browser(base) as one:
        yield one


# -- reading replies --------------------------------------------------------------------------------


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["html"] for m in messages)


def titles(messages: list[dict[str, Any]]) -> list[str]:
    return [parse(m["html"]).text["h2"][0] for m in messages]


def button_actions(page: str) -> list[Action]:
    """The actions of a reply's buttons, read as the page's script reads them (unescaped)."""
    buttons = [b for b in parse(page).tags("button") if "data-action" in b]
    actions = [Action.decode(b["data-action"] or "") for b in buttons]
    assert None not in actions, page
    return [a for a in actions if a is not None]


def radios(page: str) -> list[dict[str, str | None]]:
    return [i for i in parse(page).tags("input") if i.get("type") == "radio"]


def checked(page: str) -> dict[str, str | None]:
    return {str(r["name"]): r["value"] for r in radios(page) if "checked" in r}


def radio_action(page: str, service: str, value: str) -> str:
    [radio] = [r for r in radios(page) if r["name"] == f"q:{service}" and r["value"] == value]
    return str(radio["data-action"])


def form_action(page: str) -> str:
    [form] = parse(page).tags("form")
    return str(form["data-action"])


def one_line_error(body: dict[str, Any]) -> str:
    error = body["error"]
    assert isinstance(error, str) and error.strip() and "\n" not in error
    return error


def assert_inert(page: str) -> None:
    """No markup from a hostile string survived: the renderer's tags only, no handlers, no script."""
    lowered = page.lower()
    assert "<script" not in lowered and "<img src=x" not in lowered and "<img/src" not in lowered
    doc = parse(page)
    assert {tag for tag, _ in doc.elements} <= ALLOWED_TAGS
    attributes = [(name, value or "") for _, attrs in doc.elements for name, value in attrs.items()]
    assert not [name for name, _ in attributes if name.startswith("on")]
    assert not [v for _, v in attributes if v.strip().lower().startswith("javascript:")]


def assert_security_headers(response: aiohttp.ClientResponse) -> None:
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def demo_runs(url: str) -> tuple[Run | None, list[Run]]:
    """The demo team's latest run and the closed runs before it, read straight from the database."""
    with Storage(url) as storage:
        store = SurveyStore(storage)
        latest = store.latest_run(demo.TEAM_ID)
        return latest, store.runs_before(demo.TEAM_ID, latest, 100) if latest else []


# -- the page -------------------------------------------------------------------------------------


async def test_the_page_comes_with_security_headers_and_no_cookie(chat: Browser) -> None:
    response = await chat.fetch("GET", "/")
    assert response.status == 200 and response.content_type == "text/html"
    assert '<script src="/static/chat.js"' in await response.text()
    assert_security_headers(response)
    # The page holds nothing of the person's: the browser's id comes with its first API call.
    assert "Set-Cookie" not in response.headers


FirstCall = Callable[[Browser], Awaitable[aiohttp.ClientResponse]]
FIRST_CALLS: dict[str, FirstCall] = {
    "welcome": lambda b: b.fetch("GET", "/web/welcome"),
    "message": lambda b: b.post("/web/message", json={"text": "help"}),
    "action": lambda b: b.post("/web/action", json={"action": RISK}),
    "upload": lambda b: b.upload("small.csv", register_csv("Supplier late", "Ana")),
}


@pytest.mark.parametrize("call", list(FIRST_CALLS.values()), ids=list(FIRST_CALLS))
async def test_the_first_api_call_gives_the_browser_its_id(chat: Browser, call: FirstCall) -> None:
    first = await call(chat)
    assert first.status == 200, await first.text()
    cookie = first.cookies["pmo_web_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", cookie.value)
    # Lax: a visit that starts from a link elsewhere keeps the id; script never reads it.
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    # The browser keeps its id: the next call sets no new one.
    again = await call(chat)
    assert again.status == 200 and "pmo_web_id" not in again.cookies and chat.id == cookie.value


@pytest.mark.parametrize(
    "held",
    [
        pytest.param("ab" * 15, id="short"),
        pytest.param("AB" * 16, id="upper-case"),
        pytest.param("ab" * 15 + "zz", id="not-hex"),
        pytest.param("ab" * 16 + "\\012", id="trailing-newline"),
    ],
)
async def test_a_malformed_browser_id_is_replaced(chat: Browser, held: str) -> None:
    # Quoted, as a cookie value may be: the server unquotes it (and its octal escapes) before use.
    response = await chat.fetch("GET", "/web/welcome", headers={"Cookie": f'pmo_web_id="{held}"'})
    assert response.status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.cookies["pmo_web_id"].value)


@pytest.mark.parametrize(("name", "kind"), [("chat.js", "text/javascript"), ("chat.css", "text/css")])
async def test_static_files_are_served_with_their_types(chat: Browser, name: str, kind: str) -> None:
    response = await chat.fetch("GET", f"/static/{name}")
    assert response.status == 200 and response.content_type == kind
    assert len(await response.text()) > 1000
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cetc%5Cpasswd", "index.html", "nope.js"]
)
async def test_only_the_named_static_files_are_served(chat: Browser, name: str) -> None:
    response = await chat.fetch("GET", f"/static/{name}")
    assert response.status == 404
    assert one_line_error(await response.json()) == "No such file."
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_dotted_path_never_reaches_a_file(chat: Browser) -> None:
    # Unencoded, the slashes keep it from matching /static/{name} at all: the router's own 404.
    response = await chat.fetch("GET", "/static/../../etc/passwd")
    assert response.status == 404 and "root:" not in await response.text()


# -- questions and buttons ----------------------------------------------------------------------------


async def test_a_question_is_answered_with_buttons_that_lead_on(chat: Browser) -> None:
    [answer] = await chat.say("what should I check in a risk register?")
    assert answer["intent"] == "challenge_questions" and answer["replace"] is False
    assert titles([answer]) == ["Checking a risk register"]
    actions = button_actions(answer["html"])
    good = Action("challenge_questions", {"artefact": "risk_register"}, "good")
    assert good in actions and all(a.intent == "challenge_questions" for a in actions)
    [follow_up] = await chat.click(good)
    assert titles([follow_up]) == ["Risk register: what good looks like"]
    assert "What good looks like" in parse(follow_up["html"]).text["h3"]


async def test_an_unclear_question_offers_suggestions(chat: Browser) -> None:
    [answer] = await chat.say("asdf risk")
    assert answer["intent"] == "unknown"
    assert "Did you mean:" in parse(answer["html"]).text["span"]
    suggested = button_actions(answer["html"])
    assert RISK_REGISTER in suggested
    [chosen] = await chat.click(RISK_REGISTER)
    assert titles([chosen]) == ["Checking a risk register"]


async def test_the_welcome_offers_the_demo_pulse(chat: Browser) -> None:
    answer = await (await chat.fetch("GET", "/web/welcome")).json()
    [welcome] = answer["messages"]
    assert answer["demo"] is True
    assert Action("demo_pulse") in button_actions(welcome["html"])


# -- hostile strings ------------------------------------------------------------------------------


async def test_hostile_text_and_actions_come_back_inert(chat: Browser) -> None:
    # The bot does not say back what it was sent (the register's name and cells, and survey
    # comments, which it does say back, have tests of their own); should it start to, escaped.
    for hostile in (*HOSTILE, *MARKUP):
        assert_inert(joined(await chat.say(f"what about {hostile} in a risk register?")))
        assert_inert(joined(await chat.say(hostile)))
        assert_inert(joined(await chat.click(Action("challenge_questions", {"artefact": hostile}, hostile))))
        assert_inert(joined(await chat.click(Action(hostile, {hostile: hostile}))))


def register_csv(description: str, owner: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Risk ID", "Description", "Owner", "Likelihood", "Impact", "Status", "Review date"])
    writer.writerow(["R1", description, owner, "5", "5", "Open", "2020-01-01"])
    writer.writerow(["R1", description, "", "9", "1", "Open", ""])
    return out.getvalue().encode()


async def test_a_hostile_register_is_reviewed_with_everything_escaped(chat: Browser) -> None:
    # The review echoes the file's name and its cells: both carry markup here.
    name = '"><img src=x onerror=alert(1)>.csv'
    description = " ".join(HOSTILE)
    response = await chat.upload("..\\..\\" + name, register_csv(description, HOSTILE[1]))
    assert response.status == 200
    messages = (await response.json())["messages"]
    page = joined(messages)
    assert_inert(page)
    assert titles(messages) == [f"Review of {name}", f"Full report: {name}"]  # the path is dropped
    bullets = parse(page).text["li"]
    assert any("'<script>alert(1)</script>" in b for b in bullets)  # echoed, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_hostile_survey_comment_is_shown_back_escaped(demo_chat: Browser) -> None:
    pulse = await demo_chat.demo("demo_pulse")
    comment = " ".join(HOSTILE)
    [recorded] = await demo_chat.click(form_action(pulse["html"]), {"comment": comment})
    assert_inert(recorded["html"])
    assert parse(recorded["html"]).text["textarea"] == [comment]
    # The digest says every comment back, to everyone who sees it: as text.
    digest = await demo_chat.demo("demo_close")
    assert_inert(digest["html"])
    assert comment in parse(digest["html"]).text["li"]


# -- uploads --------------------------------------------------------------------------------------


async def test_a_real_register_is_reviewed(chat: Browser) -> None:
    path = REAL / "data_migration_register_broken_rows.csv"
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    response = await chat.upload(path.name, path.read_bytes())
    assert response.status == 200
    summary, report = (await response.json())["messages"]
    assert (summary["intent"], report["intent"]) == ("review", "review")
    assert titles([summary, report]) == [f"Review of {path.name}", f"Full report: {path.name}"]
    assert "Needs work: 8 findings on 8 of 48 risks" in summary["html"]
    assert "Ask the project manager first" in parse(summary["html"]).text["h3"]
    assert "How the file was read" in parse(report["html"]).text["h3"]


@pytest.mark.parametrize(
    ("filename", "size", "status", "words"),
    [
        pytest.param("notes.txt", 100, 415, "notes.txt is not a CSV or Excel file", id="not-a-register"),
        pytest.param("big.csv", MAX_BYTES + 1, 413, "over 10 MB", id="just-over-10-MB"),
        pytest.param("huge.csv", MAX_BYTES + 200 * 1024, 413, "is 10.2 MB", id="announced-over-10-MB"),
    ],
)
async def test_uploads_refused_with_one_line(
    chat: Browser, filename: str, size: int, status: int, words: str
) -> None:
    response = await chat.upload(filename, b"a" * size)
    assert response.status == status
    assert words in one_line_error(await response.json())
    await still_serving(chat)


async def still_serving(chat: Browser) -> None:
    """The server carries on after a refused upload: it answers, and still reviews a register."""
    health = await chat.fetch("GET", "/healthz")
    assert await health.json() == {"status": "ok"}
    fine = await chat.upload("small.csv", register_csv("Supplier late", "Ana"))
    assert titles((await fine.json())["messages"])[0] == "Review of small.csv"


BOUNDARY = "pmo-test-7d1f"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def part_head(name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()


def part(name: str, data: bytes, filename: str | None = None) -> bytes:
    """One part of a multipart body, as a browser writes it, ending with its CRLF."""
    return part_head(name, filename) + data + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def register_part() -> bytes:
    return part("file", register_csv("Supplier late", "Ana"), "register.csv")


async def send_multipart(chat: Browser, data: bytes | AsyncIterator[bytes], kind: str = MULTIPART) -> Any:
    return await chat.post("/web/upload", data=data, headers={"Content-Type": kind})


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(None, None, id="no-file-field"),
        pytest.param(b'{"file": "x.csv"}', "application/json", id="json"),
        pytest.param(b"file=x.csv", "application/x-www-form-urlencoded", id="url-encoded-form"),
        pytest.param(b"R1,Supplier late,Ana\n", "text/csv", id="the-file-alone"),
    ],
)
async def test_an_upload_without_a_file_is_400(
    chat: Browser, data: bytes | None, content_type: str | None
) -> None:
    if data is None:
        response = await chat.upload("x.csv", b"a,b\n1,2\n", field="register")
    else:
        response = await chat.post("/web/upload", data=data, headers={"Content-Type": str(content_type)})
    assert response.status == 400
    assert "field 'file'" in one_line_error(await response.json())
    await still_serving(chat)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        pytest.param([1, 1, 1], 200, id="three-small-fields"),
        pytest.param([1] * 4, 400, id="four-small-fields"),
        pytest.param([1] * 5, 400, id="five-small-fields"),
        pytest.param([1] * 5000, 400, id="five-thousand-tiny-fields"),
        pytest.param([60_000], 200, id="one-60-KB-field"),
        pytest.param([40_000, 30_000], 400, id="fields-over-64-KB"),
    ],
)
async def test_fields_before_the_file_are_few_and_small(
    chat: Browser, fields: list[int], status: int
) -> None:
    # At most four parts are read, the file among them, and other fields up to 64 KB in all.
    others = [part(f"field{n}", b"v" * size) for n, size in enumerate(fields)]
    response = await send_multipart(chat, multipart(*others, register_part()))
    assert response.status == status, await response.text()
    if status == 200:
        assert titles((await response.json())["messages"])[0] == "Review of register.csv"
    else:
        assert "field 'file'" in one_line_error(await response.json())
    await still_serving(chat)


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        pytest.param("multipart/form-data", multipart(part("file", b"R1", "x.csv")), id="no-boundary"),
        pytest.param(
            "multipart/form-data; boundary=another",
            multipart(part("file", b"R1", "x.csv")),
            id="bad-boundary",
        ),
        pytest.param(
            MULTIPART,
            multipart(part("file", b"R1", "x.csv").replace(b"Disposition:", b"Disposition")),
            id="header-line-without-a-colon",
        ),
        pytest.param(MULTIPART, part("file", b"R1", "x.csv")[:40], id="cut-off-in-the-part-headers"),
        pytest.param(MULTIPART, part("file", b"Risk ID,Owner\r\nR1,Ana", "x.csv"), id="cut-off-in-the-file"),
    ],
)
async def test_a_broken_multipart_body_is_400_and_one_line(
    chat: Browser, content_type: str, data: bytes
) -> None:
    response = await send_multipart(chat, data, content_type)
    assert response.status == 400, await response.text()
    assert "could not be read" in one_line_error(await response.json())
    await still_serving(chat)


@pytest.mark.parametrize(("size", "status"), [(10_000, 200), (MAX_BYTES + 1024 * 1024, 413)])
async def test_a_chunked_upload_is_measured_as_it_arrives(chat: Browser, size: int, status: int) -> None:
    # No Content-Length: the size is known only as the body is read.
    rows = b"R2,Supplier late,Ana,5,5,Open,2020-01-01\r\n" * 1000

    async def body() -> AsyncIterator[bytes]:
        yield part_head("file", "big.csv") + register_csv("Supplier late", "Ana")
        for _ in range(size // len(rows) + 1):
            yield rows
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = await send_multipart(chat, body())
    assert response.request_info.headers["Transfer-Encoding"] == "chunked"
    assert response.status == status, await response.text()
    if status == 200:
        assert titles((await response.json())["messages"])[0] == "Review of big.csv"
    else:
        assert "over 10 MB" in one_line_error(await response.json())
    await still_serving(chat)


async def test_a_malformed_register_gets_a_friendly_answer(chat: Browser) -> None:
    garbage = bytes(range(256)) * 64
    response = await chat.upload("x.csv", garbage)
    assert response.status == 200
    [answer] = (await response.json())["messages"]
    assert titles([answer]) == ["I couldn't review that file"]
    assert "x.csv is not a text or spreadsheet file" in answer["html"]


async def test_a_register_with_a_long_name_is_still_a_register(chat: Browser) -> None:
    name = "q3-" + "risk-register-" * 15 + "final.csv"
    response = await chat.upload(name, register_csv("Supplier late", "Ana"))
    assert response.status == 200


# -- safety -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/web/message", "/web/action", "/web/upload"])
async def test_a_post_without_the_page_header_is_403(chat: Browser, path: str) -> None:
    response = await chat.fetch("POST", path, json={"text": "help"})
    assert response.status == 403
    assert "its own page" in one_line_error(await response.json())
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_foreign_origin_is_refused_and_our_own_is_not(chat: Browser) -> None:
    foreign = await chat.post(
        "/web/message", headers={"Origin": "http://evil.example"}, json={"text": "help"}
    )
    assert foreign.status == 403
    assert "its own page" in one_line_error(await foreign.json())
    own = await chat.post("/web/message", headers={"Origin": chat.base}, json={"text": "help"})
    assert own.status == 200


async def test_a_foreign_host_name_is_refused(chat: Browser) -> None:
    # DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
    evil = {"Host": "evil.example:3978"}
    page = await chat.fetch("GET", "/", headers=evil)
    # A browser that opened the page is shown a page; the API answers JSON.
    assert page.status == 403 and page.content_type == "text/html" and "Set-Cookie" not in page.headers
    assert "this machine only" in await page.text()
    assert_security_headers(page)
    for method, path in (("GET", "/web/welcome"), ("POST", "/web/message")):
        api = await chat.fetch(method, path, headers={**WEB, **evil}, json={"text": "help"})
        assert api.status == 403 and "Set-Cookie" not in api.headers
        assert "this machine only" in one_line_error(await api.json())
    port = URL(chat.base).port
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"127.0.0.1:{port}", "localhost"):
        assert (await chat.fetch("GET", "/", headers={"Host": host})).status == 200


# What a proxy or tunnel adds (ngrok, nginx as usually set up, Cloudflare, Akamai), written out here
# rather than taken from the server, so that a header dropped from its list fails a test.
PROXIED = {
    "Forwarded": "for=203.0.113.7;proto=https;host=pmo.example.org",
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Host": "pmo.example.org",
    "X-Forwarded-Proto": "https",
    "X-Real-IP": "203.0.113.7",
    "CF-Connecting-IP": "203.0.113.7",
    "True-Client-IP": "203.0.113.7",
}


@pytest.mark.parametrize("header", list(PROXIED))
@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost"], ids=["own-host", "ngrok-host-header"])
async def test_without_a_token_a_proxied_request_is_refused(chat: Browser, header: str, host: str) -> None:
    # A tunnel that rewrites Host to localhost (ngrok --host-header=localhost) still says it is one.
    headers = {header: PROXIED[header], "Host": host.format(port=URL(chat.base).port)}
    page = await chat.fetch("GET", "/", headers=headers)
    assert page.status == 403 and page.content_type == "text/html"
    assert "proxy or tunnel" in await page.text()
    assert_security_headers(page)
    for method, path in (("GET", "/web/welcome"), ("POST", "/web/message"), ("GET", "/static/chat.js")):
        api = await chat.fetch(method, path, headers={**WEB, **headers}, json={"text": "help"})
        assert api.status == 403 and "Set-Cookie" not in api.headers
        assert "proxy or tunnel" in one_line_error(await api.json())
    # The same request without the header is served.
    assert (await chat.fetch("GET", "/", headers={"Host": headers["Host"]})).status == 200


def body(value: object) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


RISK = RISK_REGISTER.encode()
# A survey's form, of a run no server has made: its values are checked before the run is looked for.
SURVEY = Action("survey_submit", {"run": "999999999"}).encode()
FORM = "That form is not one I know."
BAD_BODIES = [
    pytest.param("/web/message", b"text=hello", "not JSON", id="not-json"),
    pytest.param("/web/message", b"\xff\xfe{", "not JSON", id="not-utf8"),
    pytest.param("/web/message", [1, 2], "not a JSON object", id="not-an-object"),
    pytest.param("/web/message", {"text": "   "}, "Type a question first", id="blank"),
    pytest.param("/web/message", {"text": ["help"]}, "Type a question first", id="text-not-a-string"),
    pytest.param("/web/message", {"text": "x" * 2001}, "limited to 2,000 characters", id="text-too-long"),
    pytest.param("/web/action", {"action": "not ours"}, "not one I know", id="action-not-json"),
    pytest.param("/web/action", {"action": '{"s": {}}'}, "not one I know", id="action-without-intent"),
    pytest.param("/web/action", {"action": {"i": "help"}}, "not one I know", id="action-not-a-string"),
    # Values go to a survey's form only: on any other button they are refused, however well named.
    pytest.param("/web/action", {"action": RISK, "values": {"comment": "hi"}}, FORM, id="values-off-a-form"),
    pytest.param(
        "/web/action",
        {"action": Action("demo_restart").encode(), "values": {"q:x": "1"}},
        FORM,
        id="demo-values",
    ),
    pytest.param("/web/action", {"action": SURVEY, "values": ["a"]}, FORM, id="values-a-list"),
    pytest.param("/web/action", {"action": SURVEY, "values": {"comment": 1}}, FORM, id="value-a-number"),
    pytest.param(
        "/web/action", {"action": SURVEY, "values": {"comment": {"b": "c"}}}, FORM, id="value-a-dict"
    ),
    pytest.param("/web/action", {"action": SURVEY, "values": {"run": "2"}}, FORM, id="field-run"),
    pytest.param("/web/action", {"action": SURVEY, "values": {"q:Reporting": "5"}}, FORM, id="field-upper"),
    pytest.param(
        "/web/action", {"action": SURVEY, "values": {"q:" + "a" * 65: "5"}}, FORM, id="field-too-long"
    ),
    pytest.param("/web/action", {"action": SURVEY, "values": {"q:": "5"}}, FORM, id="field-empty-q"),
    pytest.param("/web/action", {"action": SURVEY, "values": {"Comment": "hi"}}, FORM, id="field-capital"),
    pytest.param(
        "/web/action", {"action": SURVEY, "values": {"comment\n": "hi"}}, FORM, id="field-with-a-newline"
    ),
    pytest.param(
        "/web/action",
        {"action": SURVEY, "values": {"comment": "x" * 2001}},
        "limited to 2,000 characters",
        id="value-too-long",
    ),
    pytest.param(
        "/web/action",
        {"action": SURVEY, "values": {f"q:s{n}": "1" for n in range(51)}},
        FORM,
        id="values-too-many",
    ),
]


@pytest.mark.parametrize(("path", "payload", "words"), BAD_BODIES)
async def test_a_request_the_chat_does_not_understand_is_400(
    chat: Browser, path: str, payload: object, words: str
) -> None:
    response = await chat.post(path, data=body(payload), headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert words in one_line_error(await response.json())


async def test_a_survey_form_may_send_its_own_fields(chat: Browser) -> None:
    # The names a survey form uses, at their longest, pass the checks and reach the survey, which
    # looks for the run.
    values = {"comment": "x" * 2000, "q:" + "a" * 64: "5", "q:risk_management": "na"}
    [reply] = await chat.click(SURVEY, values)
    assert reply["intent"] == "pulse_survey"
    assert parse(reply["html"]).text["p"] == ["I can't find that survey any more."]


async def test_a_message_may_be_2000_characters_and_no_more(chat: Browser) -> None:
    assert (await chat.post("/web/message", json={"text": "risk " * 400})).status == 200
    assert (await chat.post("/web/message", json={"text": "risk " * 400 + "x"})).status == 400


async def test_a_body_over_64_kb_is_413(chat: Browser) -> None:
    response = await chat.post("/web/message", json={"text": "x" * (64 * 1024)})
    assert response.status == 413 and "too long" in one_line_error(await response.json())


async def test_a_body_that_arrives_in_two_pieces_is_read_whole(chat: Browser) -> None:
    data = json.dumps({"text": "what should I check in a risk register?"}).encode()

    async def in_two_pieces() -> AsyncIterator[bytes]:
        yield data[:10]
        await asyncio.sleep(0.1)
        yield data[10:]

    # With Content-Length set, not chunked: as a browser sends a body that a slow link splits.
    headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
    response = await chat.post("/web/message", data=in_two_pieces(), headers=headers)
    assert response.status == 200, await response.text()


# -- on the network: token mode, or off --------------------------------------------------------------


@pytest.fixture
async def token_base(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[str]:
    # Listening "everywhere" as far as the settings know; the test still serves on 127.0.0.1.
    async with served(kb, sqlite(tmp_path), tmp_path, PMO_HOST="0.0.0.0", PMO_WEB_TOKEN=TOKEN) as base:
        yield base


def session_cookie(response: aiohttp.ClientResponse) -> str:
    """The session cookie a response set: HttpOnly, Lax, and not the token."""
    assert TOKEN not in " ".join(response.headers.getall("Set-Cookie"))
    cookie = response.cookies["pmo_web_session"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie.value and cookie.value != TOKEN
    return cookie.value


async def assert_session_opens_the_api(base: str, value: str, headers: dict[str, str] | None = None) -> None:
    # Sent by hand, from a browser that never logged in: a client's jar keeps a Secure cookie off
    # plain http, as a browser would.
    async with browser(base) as other:
        sent = {**(headers or {}), "Cookie": f"pmo_web_session={value}"}
        welcome = await other.fetch("GET", "/web/welcome", headers=sent)
        assert welcome.status == 200 and titles((await welcome.json())["messages"]) == ["Hello, I'm pmo-bot"]
        message = await other.post(
            "/web/message", headers=sent, json={"text": "what should I check in a RAID log?"}
        )
        assert message.status == 200, await message.text()


async def test_token_mode_serves_the_page_and_its_files_to_anyone(token_base: str) -> None:
    async with browser(token_base) as stranger:
        page = await stranger.fetch("GET", "/")
        assert page.status == 200 and page.content_type == "text/html" and "Set-Cookie" not in page.headers
        assert_security_headers(page)
        for name in ("chat.js", "chat.css"):
            assert (await stranger.fetch("GET", f"/static/{name}")).status == 200


API = [("GET", "/web/welcome"), ("POST", "/web/message"), ("POST", "/web/action"), ("POST", "/web/upload")]


@pytest.mark.parametrize(("method", "path"), API)
async def test_token_mode_api_without_the_session_is_401(token_base: str, method: str, path: str) -> None:
    async with browser(token_base) as stranger:
        response = await stranger.fetch(method, path, headers=WEB, json={"text": "help"})
        assert response.status == 401 and response.content_type == "application/json"
        assert "#token=" in one_line_error(await response.json())
        # The token opens a session and nothing else: in the query it is no key.
        with_token = await stranger.fetch(method, f"{path}?token={TOKEN}", headers=WEB, json={"text": "help"})
        assert with_token.status == 401


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0" * 64, id="made-up"),
        pytest.param(TOKEN, id="the-token-itself"),
        pytest.param('"\\303\\251"', id="not-ascii"),
    ],
)
async def test_token_mode_refuses_a_made_up_session(token_base: str, value: str) -> None:
    async with browser(token_base) as stranger:
        response = await stranger.fetch("GET", "/web/welcome", headers={"Cookie": f"pmo_web_session={value}"})
        assert response.status == 401


@pytest.mark.parametrize(("proto", "secure"), [(None, ""), ("https", True)], ids=["http", "https-proxy"])
async def test_token_mode_login_opens_a_session(token_base: str, proto: str | None, secure: object) -> None:
    # Secure when the browser used HTTPS, which behind a proxy that ends TLS only the proxy can say.
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    async with browser(token_base) as visitor:
        login = await visitor.post("/web/login", headers=headers, json={"token": TOKEN})
        assert login.status == 204
        value = session_cookie(login)
        assert login.cookies["pmo_web_session"]["secure"] == secure
    await assert_session_opens_the_api(token_base, value, headers)


async def test_token_mode_login_needs_the_token_and_the_page_header(token_base: str) -> None:
    async with browser(token_base) as visitor:
        for payload in ({"token": "not-the-right-token"}, {"token": TOKEN[:-1]}, {"token": [TOKEN]}, {}):
            refused = await visitor.post("/web/login", json=payload)
            assert refused.status == 401 and "Set-Cookie" not in refused.headers
            assert "#token=" in one_line_error(await refused.json())
        # The right token, from a form on another site (which cannot add the header).
        forged = await visitor.fetch("POST", "/web/login", json={"token": TOKEN})
        assert forged.status == 403 and "Set-Cookie" not in forged.headers
        assert "its own page" in one_line_error(await forged.json())
        assert (await visitor.fetch("GET", "/web/welcome")).status == 401


async def test_token_mode_takes_an_old_style_link_and_drops_the_token(token_base: str) -> None:
    async with browser(token_base) as visitor:
        for wrong in ("wrong", TOKEN[:-1], ""):
            refused = await visitor.fetch("GET", f"/?token={wrong}", allow_redirects=False)
            assert refused.status == 401 and refused.content_type == "text/html"
            assert "access link is not right" in await refused.text()
            assert "Set-Cookie" not in refused.headers
            assert_security_headers(refused)
        opened = await visitor.fetch("GET", f"/?token={TOKEN}", allow_redirects=False)
        assert opened.status == 303 and opened.headers["Location"] == "/"
        value = session_cookie(opened)
        # Followed, the redirect is the page, now without the token in the address.
        assert (await visitor.fetch("GET", "/")).status == 200
        [answer] = await visitor.say("what should I check in a risk register?")
        assert titles([answer]) == ["Checking a risk register"]
    await assert_session_opens_the_api(token_base, value)


async def test_token_mode_behind_a_proxy_accepts_its_own_page(token_base: str) -> None:
    proxied = {"Host": "pmo.example.org", "Origin": "https://pmo.example.org", **PROXIED}
    async with browser(token_base) as visitor:
        assert (await visitor.fetch("GET", "/", headers=proxied)).status == 200
        login = await visitor.post("/web/login", headers=proxied, json={"token": TOKEN})
        assert login.status == 204, await login.text()
        assert login.cookies["pmo_web_session"]["secure"] is True
        value = session_cookie(login)
    await assert_session_opens_the_api(token_base, value, proxied)


async def test_on_the_network_without_a_token_the_chat_is_off(kb: KnowledgeBase, tmp_path: Path) -> None:
    async with served(kb, sqlite(tmp_path), tmp_path, PMO_HOST="0.0.0.0") as base, browser(base) as visitor:
        page = await visitor.fetch("GET", "/")
        assert page.status == 403 and page.content_type == "text/html" and "Set-Cookie" not in page.headers
        text = await page.text()
        assert "the web chat is off on this address" in text and "PMO_WEB_TOKEN" in text
        assert_security_headers(page)
        assert (await visitor.fetch("GET", "/web/welcome")).status == 404
        assert (await visitor.fetch("GET", "/static/chat.js")).status == 404
        assert (await visitor.post("/web/login", json={"token": TOKEN})).status == 404
        assert await (await visitor.fetch("GET", "/healthz")).json() == {"status": "ok"}


# -- the demo team ------------------------------------------------------------------------------------


def answered(page: str) -> re.Match[str]:
    found = re.search(r"(\d+) of (\d+) answered", page)
    assert found is not None, page
    return found


async def test_the_demo_week_from_pulse_to_digest_and_again(demo_chat: Browser) -> None:
    pulse = await demo_chat.demo("demo_pulse")
    assert titles([pulse]) == ["Demo PMO (sample data) weekly PMO pulse"]
    assert len(radios(pulse["html"])) == 6 * len(SERVICES) and checked(pulse["html"]) == {}
    assert Action("demo_close") in button_actions(pulse["html"])

    # A pick is recorded at once, and the survey is redrawn in place.
    [picked] = await demo_chat.click(radio_action(pulse["html"], "reporting", "4"))
    assert picked["replace"] is True
    assert f"Recorded: 1 of {len(SERVICES)} services." in picked["html"]
    assert checked(picked["html"]) == {"q:reporting": "4"}

    # The form sends every choice and the comment together.
    choices = {"q:reporting": "5", "q:risk_management": "3", "q:governance": "na", "q:planning": "2"}
    [sent] = await demo_chat.click(
        form_action(picked["html"]), {**choices, "comment": "More notice, please."}
    )
    assert f"Recorded: {len(SERVICES)} of {len(SERVICES)} services and your comment." in sent["html"]
    assert checked(sent["html"]) == choices
    assert parse(sent["html"]).text["textarea"] == ["More notice, please."]

    # Closing shows the digest: the made-up people and this browser, a chart and the table.
    digest = await demo_chat.demo("demo_close")
    assert digest["intent"] == "digest"
    found = answered(digest["html"])
    members = len(demo.PEOPLE) + 1
    assert found.group(0) == f"{demo.ANSWERED_THIS_WEEK + 1} of {members} answered"
    [image] = parse(digest["html"]).tags("img")
    assert str(image["src"]).startswith(DATA_PNG)
    assert base64.b64decode(str(image["src"])[len(DATA_PNG) :]).startswith(PNG_SIGNATURE)
    doc = parse(digest["html"])
    assert "Service" in doc.text["th"] and len(doc.tags("tr")) == 1 + len(SERVICES)
    assert "More notice, please." in doc.text["li"]

    # The last digest is the same period; the closed week turns a late pulse away.
    again = await demo_chat.demo("demo_digest")
    assert titles([again]) == titles([digest]) and answered(again["html"]).group(0) == found.group(0)
    closed = await demo_chat.demo("demo_pulse")
    assert titles([closed]) == ["This week's demo survey is closed"] and radios(closed["html"]) == []

    # Starting again reopens the week with nothing chosen.
    restarted = await demo_chat.demo("demo_restart")
    assert titles([restarted]) == titles([pulse])
    assert len(radios(restarted["html"])) == 6 * len(SERVICES) and checked(restarted["html"]) == {}
    assert "Recorded:" not in restarted["html"]


async def test_asking_for_a_survey_points_to_the_demo_until_one_is_joined(demo_chat: Browser) -> None:
    [nothing] = await demo_chat.say("my pulse survey")
    assert nothing["intent"] == "pulse_survey" and radios(nothing["html"]) == []
    offered = button_actions(nothing["html"])
    assert Action("demo_pulse") in offered and Action("demo_digest") in offered
    [digest] = await demo_chat.say("show me the team digest")
    assert titles([digest]) == ["Which team?"] and Action("demo_digest") in button_actions(digest["html"])
    await demo_chat.demo("demo_pulse")
    [survey] = await demo_chat.say("my pulse survey")
    assert titles([survey]) == ["Demo PMO (sample data) weekly PMO pulse"]
    assert len(radios(survey["html"])) == 6 * len(SERVICES)


async def test_a_second_browser_is_one_more_member_with_its_own_answers(demo_chat: Browser) -> None:
    first = await demo_chat.demo("demo_pulse")
    await demo_chat.click(radio_action(first["html"], "planning", "5"))
    async with browser(demo_chat.base) as other:
        second = await other.demo("demo_pulse")
        assert other.id != demo_chat.id
        assert len(radios(second["html"])) == 6 * len(SERVICES) and checked(second["html"]) == {}
        assert "Recorded:" not in second["html"]
        digest = await other.demo("demo_close")
    members = len(demo.PEOPLE) + 2
    assert answered(digest["html"]).group(0) == f"{demo.ANSWERED_THIS_WEEK + 1} of {members} answered"


async def test_the_past_weeks_are_made_once_however_often_the_server_starts(
    kb: KnowledgeBase, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen = []
    for _ in range(2):
        async with served(kb, database_url, tmp_path):
            pass
        this_week, past = demo_runs(database_url)
        assert this_week is not None and this_week.is_open
        assert len(past) == demo.PAST_WEEKS and all(r.state == "closed" for r in past)
        weeks = [this_week, *past]
        assert len({r.period_key for r in weeks}) == demo.PAST_WEEKS + 1
        with Storage(database_url) as storage:
            store = SurveyStore(storage)
            seen.append([(r.id, r.period_key, store.answered_count(r.id)) for r in weeks])
    assert seen[0] == seen[1]
    assert all(answers > 0 for _, _, answers in seen[0])
    assert "could not make the demo team's weeks" not in caplog.text


async def test_with_the_demo_off_there_is_no_demo(
    kb: KnowledgeBase, database_url: str, tmp_path: Path
) -> None:
    async with served(kb, database_url, tmp_path, PMO_DEMO="off") as base, browser(base) as visitor:
        welcome = await (await visitor.fetch("GET", "/web/welcome")).json()
        [hello] = welcome["messages"]
        assert welcome["demo"] is False and Action("demo_pulse") not in button_actions(hello["html"])
        [survey] = await visitor.say("my pulse survey")
        assert survey["intent"] == "pulse_survey"
        assert Action("demo_pulse") not in button_actions(survey["html"])
        for intent in sorted(DEMO_INTENTS):
            assert titles([await visitor.demo(intent)]) == ["The demo is off here"]
    assert demo_runs(database_url) == (None, [])


ADMIN_COMMANDS = [
    f"/pmo survey {c}{t}" for c in ("status", "open", "close", "remind") for t in ("", " demo", " web-demo")
]


def demo_week(url: str) -> tuple[Run, int, dict[tuple[str, str], int]]:
    """This week's demo run, how many answered it, and its messages counted by kind and state."""
    this_week, _ = demo_runs(url)
    assert this_week is not None
    with Storage(url) as storage:
        store = SurveyStore(storage)
        return this_week, store.answered_count(this_week.id), store.delivery_counts(this_week.id)


async def test_admins_cannot_run_surveys_from_the_web_chat(demo_chat: Browser, database_url: str) -> None:
    # The cookie is all that names a browser, so being in PMO_ADMINS is no credential here.
    before = demo_week(database_url)
    demo_chat.be(ADMIN)
    for command in ADMIN_COMMANDS:
        assert titles(await demo_chat.say(command)) == ["Survey commands are for Slack and Teams admins"]
    assert demo_chat.id == ADMIN
    after = demo_week(database_url)
    assert after == before and after[0].is_open and ("reminder", "pending") not in after[2]


async def test_a_browser_not_in_pmo_admins_is_told_the_same(demo_chat: Browser) -> None:
    [refused] = await demo_chat.say("/pmo survey close demo")
    assert titles([refused]) == ["Survey commands are for Slack and Teams admins"]
    assert f"web:{demo_chat.id}" not in refused["html"]
