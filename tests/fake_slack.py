"""A fake Slack Web API on loopback, for tests and benchmarks.

It records every call (method, parsed body, headers), answers the methods the bot uses with the
shapes Slack documents, serves files for download with the bot token, accepts ``response_url``
posts, and can be told to answer a method with 429 (and ``Retry-After``) or 500 a number of times.
Point the bot's ``SLACK_API_URL`` at ``fake.api_url``.

Posted messages are kept per channel (``messages``, ``delivered``, ``conversations.history``);
a post to a user id lands in that user's DM channel, "D" + the id without its first letter
(U0USER0001, the user of the older tests, keeps D0DM000001; see ``dm_channels``). ``refuse``
makes posts to one target fail the way Slack does, and ``limit`` rate-limits a method.

Files are uploaded as ``files_upload_v2`` does: ``files.getUploadURLExternal`` (filename, length)
hands out an upload URL on this server, the bytes are POSTed there (raw, as slack_sdk sends them, or
as a multipart ``file`` field), and ``files.completeUploadExternal`` shares them into ``channel_id``;
``uploads`` lists what was shared.

Run it alone with ``python -m tests.fake_slack [--host H] [--port P] [--rate N] [--log PATH]``:
it prints ``PORT <number>`` first, logs each accepted post as a JSON line, serves ``GET /_stats``
and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import signal
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, TextIO
from urllib.parse import parse_qsl

from aiohttp import web

from tests.loopback import serve, wait_until

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "U0BOT00001"
BOT_ID = "B0BOT00001"
TEAM = "T0TEAM0001"
DEFAULT_DM = "D0DM000001"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]


class Upload(NamedTuple):
    """A file shared by files.completeUploadExternal."""

    file_id: str
    filename: str
    data: bytes
    channel: str
    title: str


@dataclass
class Pending:
    """A file between files.getUploadURLExternal and files.completeUploadExternal."""

    filename: str
    length: int
    data: bytes | None = None


@dataclass
class Message:
    ts: str
    text: str
    blocks: list[Any] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None


@dataclass
class FakeSlack:
    host: str = "127.0.0.1"
    calls: list[Call] = field(default_factory=list)
    keep_calls: bool = True  # standalone mode logs deliveries to a file instead
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    _runner: web.AppRunner | None = None
    port: int = 0
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event | None = None
    # Channel id -> member user ids, for conversations.members.
    channel_members: dict[str, list[str]] = field(default_factory=dict)
    # Channel id -> whether the bot is in it, for conversations.info (others: channel_not_found).
    channels: dict[str, bool] = field(default_factory=dict)
    # User id -> DM channel id, where it differs from "D" + the id without its first letter.
    dm_channels: dict[str, str] = field(default_factory=lambda: {"U0USER0001": DEFAULT_DM})
    # Target (user or channel id) -> the error every post to it answers.
    refused: dict[str, str] = field(default_factory=dict)
    # Method -> calls accepted per sliding second; calls over it answer 429 and count in rejected.
    limits: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Standalone mode writes one JSON line per accepted chat.postMessage here.
    log: TextIO | None = None
    # And one JSON line per response_url post (its name and text) here.
    responses_log: TextIO | None = None
    _store: dict[str, list[Message]] = field(default_factory=dict)
    _delivered: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    _accepted: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _views: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[str, Pending] = field(default_factory=dict)
    _uploads: list[Upload] = field(default_factory=list)

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

    def refuse(self, target: str, error: str) -> None:
        """Answer every post to (or DM open with) ``target`` with ``{"ok": false, "error": error}``."""
        self.refused[target] = error

    def limit(self, method: str, per_second: int) -> None:
        """Accept at most ``per_second`` calls of ``method`` in any sliding one-second window."""
        self.limits[method] = per_second

    def dm_channel(self, user: str) -> str:
        return self.dm_channels.get(user, "D" + user[1:])

    def messages(self, channel: str) -> list[Message]:
        """The messages posted into ``channel`` (a DM may be named by its user), oldest first."""
        return list(self._store.get(self._channel(channel), []))

    def delivered(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        """(channel, ts, metadata) of every accepted chat.postMessage, in order."""
        return list(self._delivered)

    def uploads(self) -> list[Upload]:
        """(file_id, filename, bytes, channel_id, title) of every file shared, in order."""
        return list(self._uploads)

    def stats(self) -> dict[str, Any]:
        return {
            "delivered": len(self._delivered),
            "rejected": dict(self.rejected),
            "per_channel_max": max((len(m) for m in self._store.values()), default=0),
        }

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
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/_stats", self._stats)
        if self.port:
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, self.host, self.port).start()
        else:
            self._runner, self.port = await serve(app, self.host)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, method: str, body: dict[str, Any], request: web.Request) -> None:
        if self.keep_calls:
            self.calls.append(Call(method, body, dict(request.headers)))
        if self._changed is not None:
            self._changed.set()

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            return json.loads(raw) if raw else {}
        body: dict[str, Any] = dict(parse_qsl(raw))
        for key in ("blocks", "view", "attachments", "metadata"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        return body

    def _over_limit(self, method: str) -> bool:
        """Whether a call of ``method`` now goes over its limit; if not, it counts in the window."""
        if method not in self.limits:
            return False
        now = asyncio.get_running_loop().time()
        window = self._accepted[method]
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.limits[method]:
            self.rejected[method] += 1
            return True
        window.append(now)
        return False

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
        if self._over_limit(method):
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}" and method != "api.test":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(self._answer(method, body))

    def _channel(self, target: str) -> str:
        """The channel a post to ``target`` lands in: a user's DM, or the channel itself."""
        return self.dm_channel(target) if target[:1] in ("U", "W") else target

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "pmo-bot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            return self._post(body)
        if method == "chat.update":
            return self._update(body)
        if method == "chat.postEphemeral":
            ts = self._next_ts()
            return {
                "ok": True,
                "channel": body.get("channel", DEFAULT_DM),
                "ts": ts,
                "message": {"text": body.get("text", ""), "ts": ts},
            }
        if method == "conversations.open":
            users = body.get("users")
            if not users:
                return {"ok": True, "channel": {"id": DEFAULT_DM}}
            user = users.split(",")[0].strip()
            if user in self.refused:
                return {"ok": False, "error": self.refused[user]}
            channel = self.dm_channel(user)
            self._store.setdefault(channel, [])
            return {"ok": True, "channel": {"id": channel}}
        if method == "conversations.history":
            return self._history(body)
        if method == "conversations.info":
            channel = body.get("channel", "")
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel, "is_member": self.channels[channel]}}
        if method == "conversations.members":
            channel = body.get("channel", "")
            if channel not in self.channel_members:
                return {"ok": False, "error": "channel_not_found"}
            members, cursor = _page(self.channel_members[channel], body)
            return {"ok": True, "members": members, "response_metadata": {"next_cursor": cursor}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V0HOME0001"}}
        if method == "views.open":
            view = body.get("view") or {}
            return {"ok": True, "view": {**view, "id": f"V0MODAL{next(self._views):03d}"}}
        if method == "files.getUploadURLExternal":
            return self._upload_url(body)
        if method == "files.completeUploadExternal":
            return self._complete_upload(body)
        return {"ok": True}

    def _next_ts(self) -> str:
        # Like Slack's: the time in seconds, then a part that keeps messages apart and in order.
        return f"{int(time.time())}.{next(self._ts) % 1_000_000:06d}"

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        target = body.get("channel", DEFAULT_DM)
        channel = self._channel(target)
        for name in (target, channel):
            if name in self.refused:
                return {"ok": False, "error": self.refused[name]}
        ts = self._next_ts()
        metadata = body.get("metadata")
        text = body.get("text", "")
        message = Message(ts, text, body.get("blocks"), metadata, body.get("thread_ts"))
        self._store.setdefault(channel, []).append(message)
        self._delivered.append((channel, ts, metadata))
        if self.log is not None:
            line = {"channel": channel, "ts": ts, "metadata": metadata, "t": time.monotonic()}
            self.log.write(json.dumps(line) + "\n")
            self.log.flush()
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": text, "ts": ts}}

    def _upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        filename = body.get("filename")
        try:
            length = int(body.get("length", ""))
        except ValueError:
            length = -1
        if not filename or length < 1:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F0FILE{next(self._file_ids):04d}"
        self._pending[file_id] = Pending(str(filename), length)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            files = json.loads(body.get("files") or "[]") if isinstance(body.get("files"), str) else []
        except ValueError:
            files = []
        if not files or not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        channel = body.get("channel_id")
        if channel and channel in self.refused:
            return {"ok": False, "error": self.refused[channel]}
        if channel and channel[:1] not in ("C", "G", "D", "Z"):
            return {"ok": False, "error": "invalid_arguments"}  # a user id is refused here
        pending = [self._pending.get(f["id"]) for f in files]
        if any(p is None or p.data is None for p in pending):
            return {"ok": False, "error": "file_not_found"}  # never uploaded, or shared already
        shared = []
        for item, upload in zip(files, pending, strict=True):
            assert upload is not None and upload.data is not None
            del self._pending[item["id"]]
            title = str(item.get("title") or upload.filename)
            if channel:
                self._uploads.append(Upload(item["id"], upload.filename, upload.data, channel, title))
            shared.append(
                {"id": item["id"], "name": upload.filename, "title": title, "size": len(upload.data)}
            )
        return {"ok": True, "files": shared}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body.get("channel", DEFAULT_DM))
        ts = body.get("ts")
        found = [m for m in self._store.get(channel, []) if m.ts == ts]
        if not found:
            return {"ok": False, "error": "message_not_found"}
        message = found[0]
        if "text" in body:
            message.text = body["text"]
        if "blocks" in body:
            message.blocks = body["blocks"]
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text, "ts": ts}}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel", "")
        if channel not in self._store and channel not in self.channel_members:
            return {"ok": False, "error": "channel_not_found"}
        inclusive = _true(body.get("inclusive"))
        oldest = Decimal(str(body.get("oldest") or "0"))
        latest = Decimal(str(body["latest"])) if body.get("latest") else None
        chosen = []
        for m in reversed(self._store.get(channel, [])):
            ts = Decimal(m.ts)
            if ts < oldest or (ts == oldest and not inclusive):
                continue
            if latest is not None and (ts > latest or (ts == latest and not inclusive)):
                continue
            shown: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "ts": m.ts,
                "text": m.text,
                "blocks": m.blocks or [],
            }
            if m.thread_ts:
                shown["thread_ts"] = m.thread_ts
            if m.metadata is not None and _true(body.get("include_all_metadata")):
                shown["metadata"] = m.metadata
            chosen.append(shown)
        messages, cursor = _page(chosen, body)
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    async def _download(self, request: web.Request) -> web.Response:
        name = request.match_info["name"].split("-", 1)[-1]
        self._record("files.download", {"file": name}, request)
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            # Slack answers an HTML login page, not the file, without the bot token.
            return web.Response(text="<html>sign in</html>", content_type="text/html")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        """files.slack.com's upload URL: the bytes as the body, or as a multipart ``file`` field.
        The URL itself is the credential: no token is sent or checked."""
        file_id = request.match_info["file_id"]
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field_ = form.get("file")
            data = field_.file.read() if isinstance(field_, web.FileField) else str(field_ or "").encode()
        else:
            data = await request.read()
        self._record("upload", {"file_id": file_id, "length": len(data)}, request)
        pending = self._pending.get(file_id)
        if pending is None:
            return web.Response(status=404, text="Not found")
        if len(data) != pending.length:
            return web.Response(status=400, text=f"length {len(data)} is not the {pending.length} announced")
        pending.data = data
        return web.Response(text=f"OK - {len(data)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self._record("response_url", body, request)
        if self.responses_log is not None:
            line = {"name": request.match_info["name"], "text": body.get("text", ""), "t": time.monotonic()}
            self.responses_log.write(json.dumps(line) + "\n")
            self.responses_log.flush()
        return web.Response(text="ok")

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())


def _true(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _page(items: list[Any], body: dict[str, Any]) -> tuple[list[Any], str]:
    """One page of ``items`` by Slack's cursor and limit; the cursor is the next offset, or ""."""
    start = int(body.get("cursor") or 0)
    size = int(body.get("limit") or 100)
    end = start + size
    return items[start:end], str(end) if end < len(items) else ""


async def _run(args: argparse.Namespace) -> None:
    fake = FakeSlack(host=args.host, port=args.port, keep_calls=False)
    if args.rate:
        fake.limit("chat.postMessage", args.rate)
    if args.log:
        fake.log = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - closed below
    if args.responses:
        fake.responses_log = open(args.responses, "a", encoding="utf-8")  # noqa: SIM115 - closed below
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()
        for log in (fake.log, fake.responses_log):
            if log is not None:
                log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_slack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=int, help="chat.postMessage calls accepted per second")
    parser.add_argument("--log", help="append one JSON line per accepted chat.postMessage")
    parser.add_argument("--responses", help="append one JSON line per response_url post")
    # A rate-limited fake must keep time itself: a full garbage collection bunches the requests
    # that arrive during it, and its one-second window would refuse one the sender paced right.
    gc.disable()
    asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
