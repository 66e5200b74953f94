"""The fake Slack and fake connector themselves, over real loopback HTTP: DM channels, history,
updates, member lists, refusals, rate limits, the standalone fake Slack, and Teams rosters."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fake_connector import FakeConnector
from tests.fake_slack import BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    yield client
    if client.session is not None:
        await client.session.close()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    connector = FakeConnector()
    await connector.start()
    yield connector
    await connector.stop()


SURVEY = {"event_type": "pulse_survey", "event_payload": {"survey": "w48", "user": "U0ANN00001"}}


async def test_a_post_to_a_user_lands_in_their_dm(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="U0ANN00001", text="hi", metadata=SURVEY)
    opened = await client.conversations_open(users="W0BOB00001")
    assert posted["channel"] == "D0ANN00001"
    assert opened["channel"]["id"] == "D0BOB00001"
    assert (await client.api_call("conversations.open"))["channel"]["id"] == "D0DM000001"
    [message] = fake.messages("D0ANN00001")
    assert (message.ts, message.text, message.metadata) == (posted["ts"], "hi", SURVEY)
    assert fake.delivered() == [("D0ANN00001", posted["ts"], SURVEY)]


async def test_form_posts_carry_metadata_as_a_json_string(fake: FakeSlack) -> None:
    form = {"channel": "C0TEAM0001", "text": "hi", "metadata": json.dumps(SURVEY)}
    headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
    url = f"{fake.api_url}chat.postMessage"
    async with aiohttp.ClientSession() as session, session.post(url, data=form, headers=headers) as response:
        assert (await response.json())["channel"] == "C0TEAM0001"
    assert fake.messages("C0TEAM0001")[0].metadata == SURVEY


async def test_history_is_newest_first_with_metadata_on_request(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel="U0ANN00001", text="one", metadata=SURVEY)
    second = await client.chat_postMessage(channel="U0ANN00001", text="two", thread_ts=first["ts"])
    history = await client.conversations_history(channel="D0ANN00001", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["two", "one"]
    assert history["has_more"] is False
    assert history["messages"][1]["metadata"] == SURVEY
    assert history["messages"][0]["thread_ts"] == first["ts"]
    assert all(m["bot_id"] and "blocks" in m for m in history["messages"])
    plain = await client.conversations_history(channel="D0ANN00001")
    assert all("metadata" not in m for m in plain["messages"])
    newer = await client.conversations_history(channel="D0ANN00001", oldest=first["ts"])
    assert [m["ts"] for m in newer["messages"]] == [second["ts"]]
    older = await client.conversations_history(channel="D0ANN00001", latest=second["ts"])
    assert [m["ts"] for m in older["messages"]] == [first["ts"]]
    with pytest.raises(SlackApiError) as missing:
        await client.conversations_history(channel="C0NOWHERE1")
    assert missing.value.response["error"] == "channel_not_found"


async def test_update_changes_the_stored_message(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="U0ANN00001", text="how was your week?")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks!"}}]
    updated = await client.chat_update(channel="D0ANN00001", ts=posted["ts"], text="Thanks!", blocks=blocks)
    assert (updated["channel"], updated["ts"]) == ("D0ANN00001", posted["ts"])
    [message] = fake.messages("D0ANN00001")
    assert (message.text, message.blocks) == ("Thanks!", blocks)
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="D0ANN00001", ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"


async def test_members_come_in_pages(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.channel_members["C0PMO00001"] = [f"U{i:09d}" for i in range(250)]
    seen: list[str] = []
    cursors: list[str] = []
    cursor = ""
    for _ in range(10):  # a cursor that never ends fails rather than hangs
        page = await client.conversations_members(channel="C0PMO00001", cursor=cursor)
        seen += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
        cursors.append(cursor)
        if not cursor:
            break
    assert seen == fake.channel_members["C0PMO00001"]
    assert len(cursors) == 3 and cursors[-1] == ""
    small = await client.conversations_members(channel="C0PMO00001", limit=7)
    assert len(small["members"]) == 7
    with pytest.raises(SlackApiError) as missing:
        await client.conversations_members(channel="C0NOWHERE1")
    assert missing.value.response["error"] == "channel_not_found"


async def test_views_open_answers_a_view(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Pulse"}, "blocks": []}
    opened = await client.views_open(trigger_id="123.456", view=view)
    assert opened["view"]["id"].startswith("V") and opened["view"]["type"] == "modal"
    assert fake.of("views.open")[0].body["trigger_id"] == "123.456"


async def test_refused_targets_fail_every_time(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.refuse("U0GONE0001", "user_not_found")
    fake.refuse("U0ROBOT001", "cannot_dm_bot")
    for _ in range(2):
        with pytest.raises(SlackApiError) as gone:
            await client.chat_postMessage(channel="U0GONE0001", text="hi")
        assert gone.value.response.status_code == 200
        assert gone.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as robot:
        await client.conversations_open(users="U0ROBOT001")
    assert robot.value.response["error"] == "cannot_dm_bot"
    await client.chat_postMessage(channel="U0ANN00001", text="hi")
    assert [channel for channel, _, _ in fake.delivered()] == ["D0ANN00001"]


async def test_rate_limit_rejects_calls_over_it(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.limit("chat.postMessage", 5)

    async def post(i: int) -> tuple[int, str | None]:
        try:
            await client.chat_postMessage(channel=f"U0USER{i:04d}", text="pulse")
        except SlackApiError as exc:
            return exc.response.status_code, exc.response.headers.get("retry-after")
        return 200, None

    answers = await asyncio.gather(*(post(i) for i in range(7)))
    assert sorted(answers) == [(200, None)] * 5 + [(429, "1")] * 2
    assert len(fake.delivered()) == 5
    assert fake.rejected["chat.postMessage"] == 2
    assert fake.rejected["conversations.open"] == 0
    assert len(fake.of("chat.postMessage")) == 7
    await asyncio.sleep(1.05)  # the window slides: the next call gets through
    await client.chat_postMessage(channel="U0LATE0001", text="pulse")
    assert len(fake.delivered()) == 6


async def test_fail_still_comes_first(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail("chat.postMessage", 500)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="U0ANN00001", text="hi")
    await client.chat_postMessage(channel="U0ANN00001", text="hi")
    assert len(fake.delivered()) == 1


async def _line(stream: Any) -> str:
    return (await asyncio.to_thread(stream.readline)).strip()


async def test_standalone_fake_slack_logs_each_delivery(tmp_path: Path) -> None:
    log = tmp_path / "delivered.jsonl"
    command = [sys.executable, "-m", "tests.fake_slack", "--rate", "50", "--log", str(log)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        first = await asyncio.wait_for(_line(process.stdout), 20)
        assert first.startswith("PORT ")
        base = f"http://127.0.0.1:{int(first.split()[1])}"
        client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{base}/api/")
        for i in range(3):
            metadata = {"event_type": "pulse_survey", "event_payload": {"n": i}}
            await client.chat_postMessage(channel="U0ANN00001", text="pulse", metadata=metadata)
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        assert [line["metadata"]["event_payload"]["n"] for line in lines] == [0, 1, 2]
        assert {line["channel"] for line in lines} == {"D0ANN00001"}
        assert lines[0]["ts"] < lines[1]["ts"] < lines[2]["ts"]
        assert all(isinstance(line["t"], float) for line in lines)
        async with aiohttp.ClientSession() as session, session.get(f"{base}/_stats") as response:
            stats = await response.json()
        assert stats == {"delivered": 3, "rejected": {}, "per_channel_max": 3}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None
        process.stdout.close()


async def test_paged_members_and_roster(connector: FakeConnector) -> None:
    connector.rosters["19:team@thread.tacv2"] = [f"29:user-{i}" for i in range(5)]
    url = f"{connector.service_url}v3/conversations/19:team@thread.tacv2"
    seen: list[dict[str, Any]] = []
    token = None
    pages = 0
    async with aiohttp.ClientSession() as session:
        for _ in range(10):  # a token that never ends fails rather than hangs
            params = {"pageSize": "2", **({"continuationToken": token} if token else {})}
            async with session.get(f"{url}/pagedmembers", params=params) as response:
                page = await response.json()
            seen += page["members"]
            pages += 1
            token = page.get("continuationToken")
            if token is None:
                break
        async with session.get(f"{url}/members") as response:
            everyone = await response.json()
        async with session.get(f"{connector.service_url}v3/conversations/19:nope/pagedmembers") as missing:
            assert missing.status == 404
            assert (await missing.json())["error"]["code"] == "ConversationNotFound"
    assert pages == 3
    assert [m["id"] for m in seen] == connector.rosters["19:team@thread.tacv2"]
    assert everyone == seen
    assert set(seen[0]) == {"id", "name", "aadObjectId", "userPrincipalName"}


async def test_connector_updates_throttles_and_failures(connector: FakeConnector) -> None:
    activities = f"{connector.service_url}v3/conversations/a:ann/activities"
    activity = {"type": "message", "text": "pulse"}
    connector.throttle_all(2)
    connector.fail_next(1, status=502)
    statuses = []
    async with aiohttp.ClientSession() as session:
        for _ in range(4):
            async with session.post(activities, json=activity) as response:
                statuses.append((response.status, response.headers.get("Retry-After")))
                answer = await response.json()
        async with session.put(f"{activities}/{answer['id']}", json=activity) as response:
            assert await response.json() == {"id": answer["id"]}
        async with session.post(f"{activities}/{answer['id']}", json=activity) as response:
            assert response.status == 200  # a reply is an activity post too
    assert statuses == [(429, "1"), (429, "1"), (502, None), (200, None)]
    assert [s.status for s in connector.posts()] == [429, 429, 502, 200, 200]
    assert [u.reply_to for u in connector.updates()] == [answer["id"]]
