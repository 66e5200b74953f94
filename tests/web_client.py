"""What the web chat's tests share: the real server on a loopback port, a browser with its own
cookie jar, registers and multipart bodies written by hand, and readers of the chat's replies."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.reply import Action
from bot.settings import Settings
from bot.storage import Storage
from knowledge.base import KnowledgeBase
from tests.loopback import serve
from tests.test_web_html import ALLOWED_TAGS, parse

WEB = {"X-PMO-Web": "1"}
RISK_REGISTER = Action("challenge_questions", {"artefact": "risk_register"})
# A browser id. The server takes any well-formed id a browser holds, so a test can be this admin.
ADMIN = "ab" * 16


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


# -- registers and multipart bodies --------------------------------------------------------------


def register_csv(description: str, owner: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Risk ID", "Description", "Owner", "Likelihood", "Impact", "Status", "Review date"])
    writer.writerow(["R1", description, owner, "5", "5", "Open", "2020-01-01"])
    writer.writerow(["R1", description, "", "9", "1", "Open", ""])
    return out.getvalue().encode()


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
