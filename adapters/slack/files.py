"""Registers shared in Slack (in a DM, or with a mention): each file fetched with the bot token,
reviewed, and the review posted where the file was shared."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from adapters import registers
from adapters.slack.courier import SlackCourier
from bot.core import Bot
from bot.reply import Reply
from bot.review.reader import MAX_BYTES
from bot.turn import Turn

log = logging.getLogger(__name__)


async def review_files(
    bot: Bot, courier: SlackCourier, event: dict[str, Any], channel: str, thread: str | None, turn: Turn
) -> None:
    """Reviews every file of ``event`` (shared by ``turn``'s person) in turn; a failure is said in
    the conversation, so that nobody waits for a review that will not come."""
    try:
        for item in event.get("files") or []:
            for reply in await _review(bot, courier.token, item, turn):
                await courier.post(reply, channel, thread)
    except Exception:
        log.exception("file review failed", extra={"channel": channel})
        with contextlib.suppress(Exception):
            await courier.post(registers.review_failed(), channel, thread)


async def _review(bot: Bot, token: str, item: dict[str, Any], turn: Turn) -> list[Reply]:
    name = str(item.get("name") or item.get("title") or "file")
    # Slack says the size up front: a file too big is not fetched at all.
    if registers.is_register(name) and int(item.get("size") or 0) > MAX_BYTES:
        return [registers.too_big(name)]
    return await registers.review(
        bot,
        turn,
        name,
        item.get("url_private_download") or item.get("url_private"),
        f"Slack did not let me read {name}. Check that the app has the files:read scope.",
        {"Authorization": f"Bearer {token}"},
    )
