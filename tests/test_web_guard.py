"""The web chat's guards over real HTTP on loopback: the browser's id cookie, the Host, proxy, Origin
and page-header checks, request bodies it refuses and their size limits, and token mode's login
and sessions."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from bot.reply import Action
from knowledge.base import KnowledgeBase
from tests.test_web_html import parse
from tests.web_client import (
    RISK_REGISTER,
    WEB,
    Browser,
    assert_security_headers,
    browser,
    one_line_error,
    register_csv,
    served,
    sqlite,
    titles,
)

TOKEN = "correct-horse-battery-staple"
RISK = RISK_REGISTER.encode()


@pytest.fixture
async def chat(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Browser]:
    async with served(kb, sqlite(tmp_path), tmp_path) as base, browser(base) as one:
        yield one


# -- the browser's id ---------------------------------------------------------------------------


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
    pytest.param(
        "/web/action", {"action": SURVEY, "values": {"schedule": "x"}}, FORM, id="setup-field-in-survey"
    ),
    pytest.param(
        "/web/action",
        {"action": Action("team_setup").encode(), "values": {"editing": "other"}},
        FORM,
        id="setup-editing-forged",
    ),
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
