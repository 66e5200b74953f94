"""A fake Slack Web API on loopback, for tests and benchmarks.

It records every call (method, parsed body, headers), answers the methods the bot uses with the
shapes Slack documents, serves files for download with the bot token, accepts ``response_url``
posts, and can be told to answer a method with 429 (and ``Retry-After``) or 500 a number of times.
Point the bot's ``SLACK_API_URL`` at ``fake.api_url``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.loopback import serve, wait_until

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "U0BOT00001"
TEAM = "T0TEAM0001"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeSlack:
    host: str = "127.0.0.1"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    _runner: web.AppRunner | None = None
    port: int = 0
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def add_file(self, file_id: str, data: bytes) -> str:
        """Serve ``data`` as a private file; returns its download URL."""
        self.files[file_id] = data
        return f"{self.base_url}/files-pri/{TEAM}-{file_id}/download"

    def fail(self, method: str, status: int, times: int = 1, retry_after: int = 1) -> None:
        self.failures[method] += [(status, retry_after)] * times

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The calls of a method, once there are at least ``count`` of them."""
        assert self._changed is not None
        await wait_until(
            self._changed,
            lambda: len(self.of(method)) >= count,
            timeout,
            lambda: f"expected {count} call(s) to {method}, saw {[c.method for c in self.calls]}",
        )
        return self.of(method)

    # -- server ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_get("/files-pri/{name}/download", self._download)
        app.router.add_post("/response/{name}", self._response_url)
        self._runner, self.port = await serve(app, self.host)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, method: str, body: dict[str, Any], request: web.Request) -> None:
        self.calls.append(Call(method, body, dict(request.headers)))
        if self._changed is not None:
            self._changed.set()

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            return json.loads(raw) if raw else {}
        body: dict[str, Any] = dict(parse_qsl(raw))
        for key in ("blocks", "view", "attachments"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        return body

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        body.update(dict(request.query))
        self._record(method, body, request)
        if self.failures.get(method):
            status, retry_after = self.failures[method].pop(0)
            headers = {"Retry-After": str(retry_after)} if status == 429 else {}
            return web.json_response(
                {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"},
                status=status,
                headers=headers,
            )
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}" and method != "api.test":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(self._answer(method, body))

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "pmo-bot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "B0BOT00001",
            }
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": body.get("channel", "D0DM000001"),
                "ts": ts,
                "message": {"text": body.get("text", ""), "ts": ts},
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D0DM000001"}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V0HOME0001"}}
        return {"ok": True}

    async def _download(self, request: web.Request) -> web.Response:
        name = request.match_info["name"].split("-", 1)[-1]
        self._record("files.download", {"file": name}, request)
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            # Slack answers an HTML login page, not the file, without the bot token.
            return web.Response(text="<html>sign in</html>", content_type="text/html")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    async def _response_url(self, request: web.Request) -> web.Response:
        self._record("response_url", await self._body(request), request)
        return web.Response(text="ok")
