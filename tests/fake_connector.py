"""A fake Bot Framework connector on loopback: what Teams' service URL answers to a bot.

Put ``fake.service_url`` in the ``serviceUrl`` of the activities a test posts; the bot's replies,
proactive messages and new conversations arrive here and are recorded. ``block(conversation)``
makes sends into a conversation answer 403, as Teams does when the bot was blocked or removed.
``throttle_all`` and ``fail_next`` make the next activity posts into any conversation fail.
``rosters`` lists the member ids of conversations, served by ``members`` and ``pagedmembers``.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve, wait_until


@dataclass
class Sent:
    method: str
    path: str
    conversation: str
    reply_to: str | None
    body: dict[str, Any]
    status: int = 200


@dataclass
class FakeConnector:
    host: str = "127.0.0.1"
    port: int = 0
    sent: list[Sent] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    throttled: dict[str, int] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    # Conversation id -> member ids, for the members and pagedmembers endpoints.
    rosters: dict[str, list[str]] = field(default_factory=dict)
    # Statuses the next activity posts (into any conversation) answer with, first one first.
    failing: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event | None = None

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def add_file(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.service_url}files/{name}"

    def block(self, conversation: str) -> None:
        self.blocked.add(conversation)

    def throttle(self, conversation: str, times: int = 1) -> None:
        """Answer the next sends into ``conversation`` with 429 and Retry-After: 1."""
        self.throttled[conversation] = times

    def throttle_all(self, times: int = 1) -> None:
        """Answer the next ``times`` activity posts into any conversation with 429 and Retry-After: 1."""
        self.failing += [429] * times

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        """Answer the next ``times`` activity posts into any conversation with ``status``."""
        self.failing += [status] * times

    def posts(self) -> list[Sent]:
        """Every activity POSTed (new messages and replies), answered or not; see ``Sent.status``."""
        return [s for s in self.sent if s.method == "POST" and "/activities" in s.path]

    def updates(self) -> list[Sent]:
        """Every activity update (PUT), in order."""
        return [s for s in self.sent if s.method == "PUT"]

    async def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Sent]:
        assert self._changed is not None
        await wait_until(
            self._changed,
            lambda: len(self.sent) >= count,
            timeout,
            lambda: f"expected {count} sends, saw {len(self.sent)}",
        )
        return self.sent

    async def start(self) -> None:
        self._changed = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conv}/activities/{reply}", self._activity)
        app.router.add_put("/v3/conversations/{conv}/activities/{reply}", self._activity)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_get("/v3/conversations/{conv}/members/{member}", self._member)
        app.router.add_get("/v3/conversations/{conv}/members", self._members)
        app.router.add_get("/v3/conversations/{conv}/pagedmembers", self._paged_members)
        app.router.add_get("/files/{name}", self._file)
        self._runner, self.port = await serve(app, self.host)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, sent: Sent) -> None:
        self.sent.append(sent)
        if self._changed is not None:
            self._changed.set()

    async def _activity(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conv"]
        body = await request.json()
        reply = request.match_info.get("reply")
        sent = Sent(request.method, request.path, conversation, reply, body)
        self._record(sent)
        if self.throttled.get(conversation, 0) > 0:
            self.throttled[conversation] -= 1
            sent.status = 429
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"}
            )
        if request.method == "POST" and self.failing:
            sent.status = self.failing.pop(0)
            code = "Throttled" if sent.status == 429 else "ServiceError"
            headers = {"Retry-After": "1"} if sent.status == 429 else {}
            return web.json_response({"error": {"code": code}}, status=sent.status, headers=headers)
        if conversation in self.blocked:
            error = {
                "error": {"code": "ConversationBlockedByUser", "message": "User blocked the conversation"}
            }
            sent.status = 403
            return web.json_response(error, status=403)
        if request.method == "PUT":
            return web.json_response({"id": reply})
        return web.json_response({"id": f"act-{next(self._ids)}"})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(Sent("POST", request.path, "", None, body))
        return web.json_response({"id": f"19:new-{next(self._ids)}@thread.tacv2", "activityId": "root-1"})

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        return web.json_response({"id": member, "name": "Ann Example", "aadObjectId": "aad-1"})

    def _roster(self, request: web.Request) -> list[dict[str, str]] | None:
        ids = self.rosters.get(request.match_info["conv"])
        if ids is None:
            return None
        return [
            {
                "id": member,
                "name": f"Member {member}",
                "aadObjectId": f"aad-{member}",
                "userPrincipalName": f"{member.replace(':', '-')}@example.test",
            }
            for member in ids
        ]

    async def _members(self, request: web.Request) -> web.Response:
        members = self._roster(request)
        if members is None:
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        return web.json_response(members)

    async def _paged_members(self, request: web.Request) -> web.Response:
        members = self._roster(request)
        if members is None:
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        start = int(request.query.get("continuationToken") or 0)
        end = start + int(request.query.get("pageSize") or 100)
        page: dict[str, Any] = {"members": members[start:end]}
        if end < len(members):
            page["continuationToken"] = str(end)
        return web.json_response(page)

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")
