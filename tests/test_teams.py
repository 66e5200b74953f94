"""Teams end to end over real HTTP on loopback: Bot Framework activities posted to /api/messages on
a running server, with serviceUrl pointing at a fake connector that records what the bot sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.teams.app import BotCredentials, TeamsAdapter
from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.reply import Action
from bot.settings import Settings
from bot.storage import Storage
from knowledge.base import KnowledgeBase
from tests.fake_connector import FakeConnector
from tests.loopback import serve

HERE = Path(__file__).parent
BOT = {"id": "28:11111111-2222-3333-4444-555555555555", "name": "pmo-bot"}
USER = {"id": "29:1aBcD", "name": "Ann Example", "aadObjectId": "6f1c2d3e-0000-4000-8000-000000000001"}
TENANT = {"tenant": {"id": "72f9a1b2-0000-4000-8000-0000000000aa"}}


@dataclass
class Running:
    connector: FakeConnector
    url: str
    teams: TeamsAdapter
    storage: Storage
    session: aiohttp.ClientSession

    def activity(self, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "type": "message",
            "id": "1732093502123",
            "channelId": "msteams",
            "serviceUrl": self.connector.service_url,
            "from": USER,
            "recipient": BOT,
            "conversation": {"conversationType": "personal", "id": "a:1XyZ"},
            "channelData": TENANT,
            "textFormat": "plain",
            "locale": "en-GB",
        }
        base.update(fields)
        return base

    async def post(self, activity: object, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        return await self.session.post(
            f"{self.url}/api/messages",
            data=json.dumps(activity),
            headers={"Content-Type": "application/json", **(headers or {})},
        )


async def start(kb: KnowledgeBase, tmp_path: Path, env: dict[str, str]) -> tuple[Running, web.AppRunner]:
    connector = FakeConnector()
    await connector.start()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    storage = Storage(url)
    storage.upgrade()
    parts = Parts(Settings.model_validate({"DATABASE_URL": url, **env}), Bot(kb), storage)
    runner, port = await serve(build_app(parts))
    session = aiohttp.ClientSession()
    teams = parts.teams if parts.teams is not None else TeamsAdapter(parts.bot, BotCredentials())
    return Running(connector, f"http://127.0.0.1:{port}", teams, storage, session), runner


@pytest.fixture
async def running(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Running]:
    run, runner = await start(kb, tmp_path, {})
    yield run
    await run.session.close()
    await runner.cleanup()
    await run.connector.stop()


def card_text(sent: dict[str, Any]) -> str:
    parts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                parts.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for attachment in sent.get("attachments", []):
        walk(attachment.get("content"))
    return "\n".join(parts)


async def test_personal_message_gets_a_card(running: Running) -> None:
    response = await running.post(running.activity(text="competencies for a PMO co-ordinator"))
    assert response.status == 201
    sent = (await running.connector.wait_for())[0]
    assert sent.conversation == "a:1XyZ"
    assert sent.reply_to == "1732093502123"
    attachment = sent.body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["version"] == "1.5"
    assert "PMO Co-ordinator: what the role does" in card_text(sent.body)


async def test_channel_mention_is_answered_in_its_thread(running: Running) -> None:
    thread = "19:abc123@thread.tacv2;messageid=1732093600000"
    activity = running.activity(
        id="1732093600000",
        text="<at>pmo-bot</at> what should I check in the RAID log?",
        conversation={"isGroup": True, "conversationType": "channel", "id": thread},
        entities=[{"type": "mention", "mentioned": BOT, "text": "<at>pmo-bot</at>"}],
        channelData={
            "channel": {"id": "19:abc123@thread.tacv2"},
            "team": {"id": "19:team@thread.tacv2"},
            **TENANT,
        },
    )
    assert (await running.post(activity)).status == 201
    sent = (await running.connector.wait_for())[0]
    assert sent.conversation == thread
    assert "Checking a RAID log" in card_text(sent.body)


async def test_card_submit_of_a_follow_up_is_answered(running: Running) -> None:
    value = {"pmo": Action("role_competencies", {"role": "pmo_manager"}).encode()}
    response = await running.post(running.activity(value=value, replyToId="card-1"))
    assert response.status == 201
    sent = (await running.connector.wait_for())[0]
    assert "PMO Manager: what the role does" in card_text(sent.body)


async def test_install_stores_a_reference_that_a_proactive_message_uses(running: Running) -> None:
    install = running.activity(type="conversationUpdate", id="f:1", membersAdded=[BOT, USER], text=None)
    assert (await running.post(install)).status == 201
    welcome = (await running.connector.wait_for())[0]
    assert "What I can do" in card_text(welcome.body)
    row = running.storage.reference("teams", USER["id"])
    assert row is not None and row.kind == "user" and row.tenant_id == TENANT["tenant"]["id"]
    outcome = await running.teams.deliver(USER["id"], running.teams.bot.handle_action(Action("help")), "m1")
    assert outcome.status == "sent"
    proactive = (await running.connector.wait_for(2))[1]
    assert proactive.conversation == "a:1XyZ"
    assert "What I can do" in card_text(proactive.body)


async def test_a_blocked_person_is_marked_inactive(running: Running) -> None:
    await running.post(
        running.activity(type="conversationUpdate", id="f:2", membersAdded=[BOT, USER], text=None)
    )
    await running.connector.wait_for()
    running.connector.block("a:1XyZ")
    reply = running.teams.bot.handle_action(Action("help"))
    assert (await running.teams.deliver(USER["id"], reply, "m1")).status == "inactive"
    row = running.storage.reference("teams", USER["id"])
    assert row is not None and row.active is False
    assert (await running.teams.deliver(USER["id"], reply, "m2")).status == "inactive"  # not sent again
    assert (await running.teams.deliver("29:never-installed", reply, "m3")).status == "unknown"


async def test_register_sent_in_personal_chat_is_reviewed(running: Running) -> None:
    url = running.connector.add_file("reg.csv", (HERE / "registers" / "construction_5x5.csv").read_bytes())
    attachment = {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": "reg.csv",
        "content": {"downloadUrl": url, "fileType": "csv", "uniqueId": "u1"},
    }
    assert (await running.post(running.activity(text="", attachments=[attachment]))).status == 201
    sent = await running.connector.wait_for(2)
    assert "Review of reg.csv" in card_text(sent[0].body)
    assert "Full report" in card_text(sent[1].body)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ('"a string"', "application/json", 400),
        ('{"no": "type"}', "application/json", 400),
        ("text", "text/plain", 415),
    ],
)
async def test_malformed_activities(running: Running, body: str, content_type: str, status: int) -> None:
    response = await running.session.post(
        f"{running.url}/api/messages", data=body, headers={"Content-Type": content_type}
    )
    assert response.status == status
    assert running.connector.sent == []


async def test_with_an_app_id_a_request_without_a_token_gets_401(kb: KnowledgeBase, tmp_path: Path) -> None:
    env = {
        "MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555",
        "MICROSOFT_APP_PASSWORD": "secret",
        "MICROSOFT_APP_TENANT_ID": "72f9a1b2-0000-4000-8000-0000000000aa",
    }
    run, runner = await start(kb, tmp_path, env)
    try:
        missing = await run.post(run.activity(text="help"))
        garbage = await run.post(run.activity(text="help"), headers={"Authorization": "Bearer not.a.token"})
        # A well-formed JWT that is not Microsoft's (no issuer the SDK knows).
        forged = await run.post(
            run.activity(text="help"),
            headers={
                "Authorization": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
            },
        )
        assert (missing.status, garbage.status, forged.status) == (401, 401, 401)
        assert run.connector.sent == []
    finally:
        await run.session.close()
        await runner.cleanup()
        await run.connector.stop()


async def test_a_command_from_the_menu_is_routed_as_a_command(running: Running) -> None:
    assert (await running.post(running.activity(text="role analyst"))).status == 201
    sent = (await running.connector.wait_for())[0]
    assert "PMO Analyst: what the role does" in card_text(sent.body)


async def test_channel_post_starts_a_thread_through_the_stored_reference(running: Running) -> None:
    channel = "19:abc123@thread.tacv2"
    activity = running.activity(
        id="1732093600001",
        text="<at>pmo-bot</at> help",
        conversation={
            "isGroup": True,
            "conversationType": "channel",
            "id": f"{channel};messageid=1732093600001",
        },
        channelData={"channel": {"id": channel}, "team": {"id": "19:team@thread.tacv2"}, **TENANT},
    )
    await running.post(activity)
    await running.connector.wait_for()
    row = running.storage.reference("teams", channel)  # the channel, not the thread
    assert row is not None and row.kind == "channel"
    result = await running.teams.post_report(
        channel, running.teams.bot.handle_action(Action("help")), None, ""
    )
    assert result == "sent"
    created = [s for s in await running.connector.wait_for(2) if s.path == "/v3/conversations"]
    assert created and created[0].body["channelData"]["channel"]["id"] == channel
    assert created[0].body["isGroup"] is True
    assert "What I can do" in card_text(created[0].body["activity"])


async def test_a_report_backs_off_on_429(running: Running) -> None:
    import time

    await running.post(
        running.activity(type="conversationUpdate", id="f:3", membersAdded=[BOT, USER], text=None)
    )
    await running.connector.wait_for()
    running.connector.throttle("a:1XyZ", times=1)
    started = time.monotonic()
    # A digest may go to a person as well as to a channel.
    result = await running.teams.post_report(
        USER["id"], running.teams.bot.handle_action(Action("help")), None, ""
    )
    assert result == "sent"
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    attempts = [s for s in running.connector.sent if s.conversation == "a:1XyZ"][1:]
    assert len(attempts) == 2  # the throttled try and the retry: no apology in between
    assert all("went wrong" not in json.dumps(a.body) for a in attempts)


async def test_installation_update_add_and_remove(running: Running) -> None:
    add = running.activity(type="installationUpdate", id="i:1", action="add", text=None)
    assert (await running.post(add)).status == 201
    row = running.storage.reference("teams", USER["id"])
    assert row is not None and row.active
    remove = running.activity(type="installationUpdate", id="i:2", action="remove", text=None)
    assert (await running.post(remove)).status == 201
    row = running.storage.reference("teams", USER["id"])
    assert row is not None and row.active is False
    outcome = await running.teams.deliver(USER["id"], running.teams.bot.handle_action(Action("help")), "m1")
    assert outcome.status == "inactive"


async def test_a_group_chat_is_answered_and_reachable_later(running: Running) -> None:
    group = {"isGroup": True, "conversationType": "groupChat", "id": "19:group1@thread.v2"}
    activity = running.activity(text="<at>pmo-bot</at> what is governance", conversation=group)
    assert (await running.post(activity)).status == 201
    sent = (await running.connector.wait_for())[0]
    assert sent.conversation == "19:group1@thread.v2"
    assert "Governance" in card_text(sent.body)
    assert (
        await running.teams.post_report(
            "19:group1@thread.v2", running.teams.bot.handle_action(Action("help")), None, ""
        )
        == "sent"
    )
    later = (await running.connector.wait_for(2))[1]
    assert later.conversation == "19:group1@thread.v2"


async def test_activities_missing_what_the_sdk_needs_are_400(running: Running) -> None:
    bad = [
        {"type": "message"},
        running.activity(serviceUrl=None, text="hi"),
        running.activity(channelData="not an object", text="hi"),
        running.activity(channelData={"tenant": "x"}, text="hi"),
    ]
    for activity in bad:
        assert (await running.post(activity)).status == 400, activity
    assert running.connector.sent == []


def test_missing_teams_settings_are_named_at_once(kb: KnowledgeBase) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"):
        TeamsAdapter(
            Bot(kb), BotCredentials(APP_ID="11111111-2222-3333-4444-555555555555", APP_TYPE="SingleTenant")
        )
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TYPE"):
        TeamsAdapter(Bot(kb), BotCredentials(APP_TYPE="Bogus"))


async def test_local_mode_is_refused_on_a_public_address(kb: KnowledgeBase, tmp_path: Path) -> None:
    run, runner = await start(kb, tmp_path, {"PMO_HOST": "0.0.0.0"})
    try:
        response = await run.post(run.activity(text="help"))
        assert response.status == 503
        assert run.connector.sent == []
    finally:
        await run.session.close()
        await runner.cleanup()
        await run.connector.stop()
