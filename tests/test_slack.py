"""Slack end to end over real HTTP on loopback: signed requests into a running server, and the
bot's Web API calls into a fake Slack that records them."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import SlackAdapter
from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.settings import Settings
from bot.storage import Storage
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.loopback import serve

SECRET = "test-signing-secret"
HERE = Path(__file__).parent


@dataclass
class Running:
    fake: FakeSlack
    url: str
    slack: SlackAdapter
    storage: Storage
    session: aiohttp.ClientSession

    async def post(
        self,
        body: str,
        content_type: str,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        all_headers.update(headers or {})
        return await self.session.post(f"{self.url}/slack/events", data=body.encode(), headers=all_headers)

    async def command(self, text: str, **extra: str) -> aiohttp.ClientResponse:
        fields = {
            "token": "x",
            "team_id": TEAM,
            "channel_id": "C0CHAN0001",
            "user_id": "U0USER0001",
            "command": "/pmo",
            "text": text,
            "response_url": self.fake.response_url(),
            "trigger_id": "1.2.3",
        }
        fields.update(extra)
        return await self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")

    async def event(
        self, event: dict[str, Any], event_id: str = "Ev0001", **headers: str
    ) -> aiohttp.ClientResponse:
        envelope = {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post(json.dumps(envelope), "application/json", headers=headers)

    async def click(self, value: str, response_url: bool = True) -> aiohttp.ClientResponse:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": "U0USER0001"},
            "api_app_id": "A0APP",
            "trigger_id": "1.2.3",
            "channel": {"id": "D0DM000001"},
            "container": {"type": "message", "message_ts": "1.2"},
            "actions": [
                {
                    "action_id": "pmo:0",
                    "block_id": "pmo_buttons",
                    "type": "button",
                    "value": value,
                    "action_ts": "1",
                }
            ],
        }
        if response_url:
            payload["response_url"] = self.fake.response_url()
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        return await self.post(body, "application/x-www-form-urlencoded")


@pytest.fixture
async def running(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Running]:
    fake = FakeSlack()
    await fake.start()
    storage = Storage(f"sqlite:///{tmp_path / 'bot.db'}")
    storage.upgrade()
    settings = Settings.model_validate(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
    )
    parts = Parts(settings, Bot(kb), storage)
    runner, port = await serve(build_app(parts))
    assert parts.slack is not None
    async with aiohttp.ClientSession() as session:
        yield Running(fake, f"http://127.0.0.1:{port}", parts.slack, storage, session)
    await runner.cleanup()
    await fake.stop()


def block_text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(text.get("text", ""))
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                out.append(element["text"].get("text", ""))
            elif isinstance(element.get("text"), str):
                out.append(element["text"])
    return "\n".join(out)


# -- the acceptance journeys ---------------------------------------------------------------


async def test_slash_role_is_answered_in_the_acknowledgement(running: Running) -> None:
    started = time.perf_counter()
    response = await running.command("role pmo analyst")
    took = time.perf_counter() - started
    assert response.status == 200
    body = await response.json()
    assert "PMO Analyst: what the role does" in block_text(body["blocks"])
    assert body["response_type"] == "ephemeral"
    assert took < 3.0


async def test_dm_question_is_answered_with_chat_post_message(running: Running) -> None:
    response = await running.event(
        {
            "type": "message",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "text": "what should I check in the RAID log?",
            "ts": "1700000001.000100",
            "team": TEAM,
        }
    )
    assert response.status == 200
    calls = await running.fake.wait_for("chat.postMessage")
    assert calls[0].body["channel"] == "D0DM000001"
    assert "Checking a RAID log" in block_text(calls[0].body["blocks"])
    assert calls[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"


async def test_mention_is_answered_in_its_thread(running: Running) -> None:
    response = await running.event(
        {
            "type": "app_mention",
            "channel": "C0CHAN0001",
            "user": "U0USER0001",
            "text": "<@U0BOT00001> competencies for a PMO co-ordinator",
            "ts": "1700000002.000200",
            "team": TEAM,
        }
    )
    assert response.status == 200
    call = (await running.fake.wait_for("chat.postMessage"))[0]
    assert call.body["thread_ts"] == "1700000002.000200"
    assert "PMO Co-ordinator: what the role does" in block_text(call.body["blocks"])


async def test_register_shared_in_a_dm_is_reviewed(running: Running) -> None:
    url = running.fake.add_file("F0REG00001", (HERE / "registers" / "construction_5x5.csv").read_bytes())
    response = await running.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "text": "",
            "ts": "1700000003.000300",
            "team": TEAM,
            "files": [
                {
                    "id": "F0REG00001",
                    "name": "construction_5x5.csv",
                    "size": 5000,
                    "url_private_download": url,
                }
            ],
        }
    )
    assert response.status == 200
    posts = await running.fake.wait_for("chat.postMessage", 2)
    download = running.fake.of("files.download")[0]
    assert download.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert "Review of construction_5x5.csv" in block_text(posts[0].body["blocks"])
    assert "Full report" in block_text(posts[1].body["blocks"])


async def test_bad_and_stale_signatures_get_401(running: Running) -> None:
    body = urllib.parse.urlencode({"command": "/pmo", "text": "help"})
    wrong = await running.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    stale = await running.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)
    missing = await running.session.post(f"{running.url}/slack/events", data=body)
    assert (wrong.status, stale.status, missing.status) == (401, 401, 401)
    assert running.fake.calls == []


async def test_the_same_event_twice_is_answered_once(running: Running) -> None:
    event = {
        "type": "message",
        "channel": "D0DM000001",
        "channel_type": "im",
        "user": "U0USER0001",
        "text": "help",
        "ts": "1700000004.000400",
        "team": TEAM,
    }
    first = await running.event(event, event_id="Ev0DUP")
    await running.fake.wait_for("chat.postMessage")
    again = await running.event(
        event, event_id="Ev0DUP", **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert (first.status, again.status) == (200, 200)
    await asyncio.sleep(0.3)
    assert len(running.fake.of("chat.postMessage")) == 1
    # Remembered in the database: a new process (a new Storage on the same file) knows it too.
    assert Storage(running.storage.url).claim_event("Ev0DUP", "slack") is False


# -- reliability ---------------------------------------------------------------------------


async def test_slacks_documented_signing_example_with_a_fixed_clock(kb: KnowledgeBase) -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    then = SlackAdapter(Bot(kb), BOT_TOKEN, secret, "http://127.0.0.1:9/api/", clock=lambda: 1531420618.0)
    now = SlackAdapter(Bot(kb), BOT_TOKEN, secret, "http://127.0.0.1:9/api/")
    assert then.verifier.is_valid_request(body, headers)
    assert not now.verifier.is_valid_request(body, headers)  # more than five minutes old


async def test_nothing_slack_sends_gets_404(running: Running) -> None:
    responses = [
        await running.event({"type": "reaction_added", "user": "U1", "reaction": "tada"}, event_id="Ev0R"),
        await running.event(
            {"type": "message", "subtype": "message_changed", "channel": "C1"}, event_id="Ev0M"
        ),
        await running.command("anything", command="/other"),
        await running.click("not an action of ours"),
        await running.post(
            "payload="
            + urllib.parse.quote(
                json.dumps(
                    {
                        "type": "view_submission",
                        "team": {"id": TEAM},
                        "user": {"id": "U1"},
                        "view": {"id": "V1", "type": "modal", "callback_id": "x", "state": {"values": {}}},
                    }
                )
            ),
            "application/x-www-form-urlencoded",
        ),
        await running.post(json.dumps({"type": "url_verification", "challenge": "abc"}), "application/json"),
    ]
    assert [r.status for r in responses] == [200] * len(responses)
    assert (await responses[-1].json())["challenge"] == "abc"


async def test_malformed_payloads_are_not_a_crash(running: Running) -> None:
    bodies = [
        ("{not json", "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ("\x00\x01", "application/octet-stream"),
    ]
    for body, kind in bodies:
        response = await running.post(body, kind)
        assert response.status == 400, body
        assert (await response.json()) == {"error": "malformed request"}
    health = await running.session.get(f"{running.url}/healthz")
    assert (health.status, await health.json()) == (200, {"status": "ok"})


async def test_button_click_routes_back_to_the_core(running: Running) -> None:
    from bot.reply import Action

    response = await running.click(Action("role_competencies", {"role": "pmo_manager"}).encode())
    assert response.status == 200
    call = (await running.fake.wait_for("response_url"))[0]
    assert "PMO Manager: what the role does" in block_text(call.body["blocks"])
    assert call.body["replace_original"] is False


async def test_home_tab_click_answers_in_a_dm(running: Running) -> None:
    from bot.reply import Action

    await running.click(Action("help").encode(), response_url=False)
    await running.fake.wait_for("conversations.open")
    post = (await running.fake.wait_for("chat.postMessage"))[0]
    assert "What I can do" in block_text(post.body["blocks"])


async def test_app_home_is_published(running: Running) -> None:
    await running.event({"type": "app_home_opened", "user": "U0USER0001", "tab": "home"}, event_id="Ev0H")
    view = (await running.fake.wait_for("views.publish"))[0].body
    assert view["view"]["type"] == "home"


async def test_rate_limited_post_is_retried_after_retry_after(running: Running) -> None:
    running.fake.fail("chat.postMessage", 429, times=1, retry_after=1)
    await running.event(
        {
            "type": "message",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "text": "help",
            "ts": "1700000005.000500",
            "team": TEAM,
        },
        event_id="Ev0RL",
    )
    calls = await running.fake.wait_for("chat.postMessage", 2, timeout=8)
    assert len(calls) == 2


async def test_server_error_is_retried(running: Running) -> None:
    running.fake.fail("chat.postMessage", 500, times=1)
    await running.event(
        {
            "type": "message",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "text": "help",
            "ts": "1700000006.000600",
            "team": TEAM,
        },
        event_id="Ev0SE",
    )
    calls = await running.fake.wait_for("chat.postMessage", 2, timeout=8)
    assert len(calls) == 2


async def test_user_text_cannot_ping_the_channel(running: Running) -> None:
    register = (
        b"ID,Description,Owner,Probability,Impact\r\n"
        b"R1,<!channel> & <@U0BOSS> may never <https://evil.example|click>,,4,5\r\n"
    )
    url = running.fake.add_file("F0EVIL0001", register)
    await running.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "ts": "1700000007.000700",
            "team": TEAM,
            "files": [
                {"id": "F0EVIL0001", "name": "evil.csv", "size": len(register), "url_private_download": url}
            ],
        },
        event_id="Ev0EV",
    )
    posts = await running.fake.wait_for("chat.postMessage", 2)
    for post in posts:
        text = json.dumps(post.body["blocks"])
        assert "<!channel>" not in text and "<@U0BOSS>" not in text and "<https://" not in text
    assert "&lt;!channel&gt;" in json.dumps(posts[1].body["blocks"])


async def test_long_reviews_stay_within_block_kit_limits(running: Running) -> None:
    rows = "".join(f"R{n},Risk {n} may happen if the supplier is late,,3,3\r\n" for n in range(400))
    data = ("ID,Description,Owner,Probability,Impact\r\n" + rows).encode()
    url = running.fake.add_file("F0LONG0001", data)
    await running.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "ts": "1700000008.000800",
            "team": TEAM,
            "files": [
                {"id": "F0LONG0001", "name": "long.csv", "size": len(data), "url_private_download": url}
            ],
        },
        event_id="Ev0LG",
    )
    await running.slack.drain()
    posts = running.fake.of("chat.postMessage")
    # 400 findings of a kind: the chat shows the first ones and says how to see all.
    assert "and 390 more" in json.dumps(posts[-1].body["blocks"])
    for post in posts:
        assert len(post.body["blocks"]) <= 50
        for block in post.body["blocks"]:
            text = block.get("text")
            if isinstance(text, dict):
                assert len(text["text"]) <= 3000


async def test_files_over_ten_megabytes_get_a_friendly_answer(running: Running) -> None:
    await running.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "ts": "1700000009.000900",
            "team": TEAM,
            "files": [
                {
                    "id": "F0BIG",
                    "name": "big.xlsx",
                    "size": 11 * 1024 * 1024,
                    "url_private_download": running.fake.add_file("F0BIG", b"x"),
                }
            ],
        },
        event_id="Ev0BG",
    )
    post = (await running.fake.wait_for("chat.postMessage"))[0]
    assert "too big" in block_text(post.body["blocks"]) or "too big" in post.body["text"]
    assert running.fake.of("files.download") == []


def test_no_token_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    from bot.logs import JsonFormatter

    record = __import__("logging").makeLogRecord({"msg": f"calling with {BOT_TOKEN} and Bearer abc.def"})
    line = JsonFormatter((SECRET,)).format(record)
    assert BOT_TOKEN not in line and "abc.def" not in line


async def test_socket_mode_watchdog_rebuilds_a_quiet_link(kb: KnowledgeBase) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from adapters.slack.socket import SocketModeRunner

    fake = FakeSlack()
    await fake.start()
    try:
        adapter = SlackAdapter(Bot(kb), BOT_TOKEN, SECRET, fake.api_url)
        now = [1000.0]
        runner = SocketModeRunner(
            adapter, "xapp-test", clock=lambda: now[0], quiet_after_s=90, connect_timeout_s=1
        )
        runner.handler = AsyncSocketModeHandler(adapter.app, "xapp-test", web_client=adapter.client)
        runner.connected_at = now[0]
        runner.handler.client.last_ping_pong_time = now[0]  # type: ignore[attr-defined]
        now[0] += 30
        assert not runner.is_wedged()
        assert await runner.check() is False
        now[0] += 120  # two minutes without a ping
        assert runner.is_wedged()
        # The rebuild asks Slack for a new socket URL (apps.connections.open) on a new handler.
        assert await runner.check() is True
        assert runner.rebuilds == 1
        await fake.wait_for("apps.connections.open")
        await runner.stop()
    finally:
        await fake.stop()


async def test_a_big_file_is_downloaded_whole(running: Running) -> None:
    rows = "".join(
        f"R{n},Because of reason {n} the delivery of part {n} may slip by {n % 9 + 1} weeks,"
        f"Owner {n % 40},{n % 5 + 1},{n % 4 + 1}\r\n"
        for n in range(3000)
    )
    data = ("ID,Description,Owner,Probability,Impact\r\n" + rows).encode()
    assert len(data) > 200_000  # several network reads
    url = running.fake.add_file("F0BIGCSV01", data)
    await running.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "ts": "1700000010.001000",
            "team": TEAM,
            "files": [
                {"id": "F0BIGCSV01", "name": "big.csv", "size": len(data), "url_private_download": url}
            ],
        },
        event_id="Ev0BC",
    )
    post = (await running.fake.wait_for("chat.postMessage"))[0]
    assert "on the 3000 risks" in json.dumps(post.body) or "of 3000 risks" in json.dumps(post.body)


async def test_a_body_that_is_not_utf8_is_refused_not_crashed(running: Running) -> None:
    response = await running.session.post(
        f"{running.url}/slack/events",
        data=b"\xff\xfe\x00bad",
        headers={"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
    )
    assert response.status == 401


async def test_a_failed_review_is_reported_to_the_person(running: Running) -> None:
    running.fake.fail("chat.postMessage", 500, times=3)  # the summary never gets through
    url = running.fake.add_file("F0FAIL0001", (HERE / "registers" / "construction_5x5.csv").read_bytes())
    await running.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "D0DM000001",
            "channel_type": "im",
            "user": "U0USER0001",
            "ts": "1700000011.001100",
            "team": TEAM,
            "files": [{"id": "F0FAIL0001", "name": "c.csv", "size": 5000, "url_private_download": url}],
        },
        event_id="Ev0FL",
    )
    await running.slack.drain()
    texts = [c.body.get("text", "") for c in running.fake.of("chat.postMessage")]
    assert any("review failed" in t for t in texts)


async def test_outbound_port_sends_a_dm_and_posts_to_a_channel(running: Running) -> None:
    from bot.ports import Courier
    from bot.reply import Action

    port: Courier = running.slack
    reply = running.slack.bot.handle_action(Action("help"))
    # A person's invitation is posted to their user id, which lands in the app's DM with them.
    outcome = await port.deliver("U0USER0001", reply, "m1")
    assert outcome.status == "sent" and outcome.ref.startswith("D0DM000001/")
    assert await port.post_report("C0DIGEST01", reply, None, "") == "sent"
    posts = await running.fake.wait_for("chat.postMessage", 2)
    assert [p.body["channel"] for p in posts] == ["U0USER0001", "C0DIGEST01"]
