"""Posting a report (a digest and its PNG chart) to a channel, over real HTTP on loopback: Slack posts
the message and uploads the chart with files_upload_v2 into a fake Slack; Teams starts a thread
whose card shows the chart inline, through a fake connector."""

from __future__ import annotations

import base64
import json
import logging
import random
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.app import SlackAdapter
from adapters.teams.cards import (
    INLINE_PNG,
    MAX_CARD_BYTES,
    MAX_INLINE_CARD_BYTES,
    render_cards,
    with_inline_png,
)
from bot.core import Bot
from bot.ports import Outbound
from bot.reply import Action, Button, Image, Reply, Section
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.test_teams import BOT, TENANT, USER, Running, start

CHANNEL = "C0DIGEST01"
TEAMS_CHANNEL = "19:digest@thread.tacv2"


def png(width: int = 4, height: int = 3, noise: int = 0) -> bytes:
    """A valid RGB PNG; with ``noise``, about that many bytes of random (incompressible) pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    if noise:
        width, height = 64, max(1, noise // (64 * 3))
        rows = random.Random(noise).randbytes(height * width * 3)
    else:
        rows = bytes(c for y in range(height) for x in range(width) for c in (x * 40, y * 60, 200))
    stride = width * 3
    # Each row starts with its filter type (0: none).
    raw = b"".join(b"\x00" + rows[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def digest() -> Reply:
    return Reply(
        "Weekly digest: Delivery PMO",
        sections=(Section("Scores", "7 of 9 answered.", ("Governance 4.2 (+0.3)", "Reporting 3.1")),),
        intent="digest",
    )


@pytest.fixture
async def slack(kb: KnowledgeBase) -> AsyncIterator[tuple[SlackAdapter, FakeSlack]]:
    fake = FakeSlack()
    await fake.start()
    adapter = SlackAdapter(Bot(kb), BOT_TOKEN, "secret", fake.api_url)
    yield adapter, fake
    await fake.stop()


@pytest.fixture
async def teams(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Running]:
    run, runner = await start(kb, tmp_path, {})
    yield run
    await run.session.close()
    await runner.cleanup()
    await run.connector.stop()


def image_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("type") == "image"]


# -- Slack ---------------------------------------------------------------------------------------


async def test_slack_posts_the_message_then_uploads_the_chart(slack: tuple[SlackAdapter, FakeSlack]) -> None:
    adapter, fake = slack
    chart = png()
    port: Outbound = adapter
    assert await port.post_report(CHANNEL, digest(), chart, "digest-2025-W47.png") == "sent"
    [message] = fake.messages(CHANNEL)
    assert "Weekly digest" in message.text and message.thread_ts is None
    [upload] = fake.uploads()
    file_id, filename, data, channel, title = upload
    assert (filename, data, channel, title) == (
        "digest-2025-W47.png",
        chart,
        CHANNEL,
        "Weekly digest: Delivery PMO",
    )
    # The three steps of files_upload_v2, in order, after the message.
    steps = [c.method for c in fake.calls]
    assert steps == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [asked] = fake.of("files.getUploadURLExternal")
    assert asked.body["filename"] == "digest-2025-W47.png" and int(asked.body["length"]) == len(chart)
    assert asked.body["alt_txt"] == "Weekly digest: Delivery PMO"
    [sent] = fake.of("upload")
    assert sent.body == {"file_id": file_id, "length": len(chart)}
    assert "Authorization" not in sent.headers  # the upload URL is the credential
    [done] = fake.of("files.completeUploadExternal")
    assert done.body["channel_id"] == CHANNEL
    assert json.loads(done.body["files"]) == [{"id": file_id, "title": "Weekly digest: Delivery PMO"}]
    assert "thread_ts" not in done.body  # into the channel, right after the message


async def test_slack_without_a_chart_posts_only_the_message(slack: tuple[SlackAdapter, FakeSlack]) -> None:
    adapter, fake = slack
    assert await adapter.post_report(CHANNEL, digest(), None, "digest.png") == "sent"
    assert len(fake.messages(CHANNEL)) == 1
    assert [c.method for c in fake.calls] == ["chat.postMessage"]
    assert fake.uploads() == []


async def test_slack_a_channel_that_refuses_the_bot_is_inactive(
    slack: tuple[SlackAdapter, FakeSlack],
) -> None:
    adapter, fake = slack
    fake.refuse(CHANNEL, "not_in_channel")
    assert await adapter.post_report(CHANNEL, digest(), png(), "digest.png") == "inactive"
    assert fake.uploads() == [] and not fake.of("files.getUploadURLExternal")


async def test_slack_a_failed_upload_is_logged_and_the_message_stands(
    slack: tuple[SlackAdapter, FakeSlack], caplog: pytest.LogCaptureFixture
) -> None:
    adapter, fake = slack
    fake.fail("files.completeUploadExternal", 400)
    with caplog.at_level(logging.ERROR, logger="adapters.slack.courier"):
        assert await adapter.post_report(CHANNEL, digest(), png(), "digest.png") == "sent"
    assert len(fake.messages(CHANNEL)) == 1
    assert fake.uploads() == []
    assert "chart upload to C0DIGEST01 failed: fatal_error" in caplog.text


async def test_slack_a_missing_scope_names_files_write(
    slack: tuple[SlackAdapter, FakeSlack], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, fake = slack
    answer = fake._answer

    def no_scope(method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "files.getUploadURLExternal":
            return {"ok": False, "error": "missing_scope", "needed": "files:write"}
        return answer(method, body)

    monkeypatch.setattr(fake, "_answer", no_scope)
    assert await adapter.post_report(CHANNEL, digest(), png(), "digest.png") == "sent"
    assert "files:write" in caplog.text


async def test_slack_a_report_to_a_user_uploads_into_their_dm(slack: tuple[SlackAdapter, FakeSlack]) -> None:
    # files.completeUploadExternal refuses a user id: the chart goes where the message went.
    adapter, fake = slack
    assert await adapter.post_report("U0USER0001", digest(), png(), "digest.png") == "sent"
    assert [u.channel for u in fake.uploads()] == ["D0DM000001"]


async def test_slack_never_renders_a_data_uri_as_an_image_block(
    slack: tuple[SlackAdapter, FakeSlack],
) -> None:
    adapter, fake = slack
    inline = Image(INLINE_PNG + base64.b64encode(png()).decode(), "chart")
    linked = Image("https://example.com/chart.png", "chart")
    messages, _ = adapter.render(Reply("Digest", images=(inline, linked)))
    assert [b["image_url"] for m in messages for b in image_blocks(m)] == [linked.url]
    assert await adapter.post_report(CHANNEL, Reply("Digest", images=(inline,)), None, "x.png") == "sent"
    [message] = fake.messages(CHANNEL)
    assert image_blocks(message.blocks or []) == []


# -- Teams ---------------------------------------------------------------------------------------


async def channel_installed(teams: Running) -> None:
    """The app added to a team: Teams sends a conversationUpdate from its General channel."""
    update = teams.activity(
        type="conversationUpdate",
        id="f:digest",
        text=None,
        membersAdded=[BOT],
        conversation={"isGroup": True, "conversationType": "channel", "id": TEAMS_CHANNEL},
        channelData={"channel": {"id": TEAMS_CHANNEL}, "team": {"id": TEAMS_CHANNEL}, **TENANT},
        **{"from": USER},
    )
    assert (await teams.post(update)).status == 201
    row = teams.storage.reference("teams", TEAMS_CHANNEL)
    assert row is not None and row.kind == "channel"


def images_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if e.get("type") == "Image"]


async def test_teams_starts_a_thread_with_the_chart_inline(teams: Running) -> None:
    await channel_installed(teams)
    chart = png()
    port: Outbound = teams.teams
    assert await port.post_report(TEAMS_CHANNEL, digest(), chart, "digest.png") == "sent"
    [created] = [s for s in await teams.connector.wait_for(1) if s.path == "/v3/conversations"]
    assert created.body["channelData"]["channel"]["id"] == TEAMS_CHANNEL
    card = created.body["activity"]["attachments"][0]["content"]
    [image] = images_of(card)
    assert image["url"].startswith(INLINE_PNG)
    assert base64.b64decode(image["url"][len(INLINE_PNG) :]) == chart
    assert image["altText"] == "Weekly digest: Delivery PMO"
    # The chart follows the figures, in the one card that opens the thread: nothing else is sent.
    assert card["body"][-1] == image
    assert [s.path for s in teams.connector.sent] == ["/v3/conversations"]


async def test_teams_without_a_chart_posts_the_card_alone(teams: Running) -> None:
    await channel_installed(teams)
    assert await teams.teams.post_report(TEAMS_CHANNEL, digest(), None, "digest.png") == "sent"
    [created] = [s for s in await teams.connector.wait_for(1) if s.path == "/v3/conversations"]
    assert images_of(created.body["activity"]["attachments"][0]["content"]) == []


async def test_teams_a_channel_never_installed_is_unknown(teams: Running) -> None:
    assert await teams.teams.post_report("19:nowhere@thread.tacv2", digest(), png(), "d.png") == "unknown"


# -- Teams card sizes ----------------------------------------------------------------------------


def test_a_chart_bigger_than_a_plain_card_still_rides_in_the_card() -> None:
    chart = png(noise=30_000)
    assert len(INLINE_PNG) + len(base64.b64encode(chart)) > MAX_CARD_BYTES
    cards = with_inline_png(render_cards(digest()), chart, "chart")
    [card] = cards
    assert base64.b64decode(images_of(card)[0]["url"][len(INLINE_PNG) :]) == chart
    assert MAX_CARD_BYTES < len(json.dumps(card)) <= MAX_INLINE_CARD_BYTES


def test_a_chart_that_does_not_fit_beside_the_text_gets_a_card_of_its_own() -> None:
    long = Reply("Digest", sections=(Section(text="word " * 4_500),))
    plain = render_cards(long)
    chart = png(noise=45_000)
    cards = with_inline_png(plain, chart, "chart")
    assert len(cards) == len(plain) + 1
    assert cards[:-1] == plain and images_of(cards[-1]) and len(cards[-1]["body"]) == 1
    assert all(len(json.dumps(c)) <= MAX_INLINE_CARD_BYTES for c in cards)


def test_a_chart_too_big_for_any_card_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    plain = render_cards(digest())
    cards = with_inline_png(plain, png(noise=70_000), "chart")
    assert cards == plain
    assert "inline image left out" in caplog.text


def test_buttons_stay_below_the_chart() -> None:
    reply = Reply("Digest", sections=(Section(text="Scores"),), buttons=(Button("Details", Action("help")),))
    [card] = with_inline_png(render_cards(reply), png(), "chart")
    assert card["body"][-1]["type"] == "Image" and card["actions"][0]["title"] == "Details"
