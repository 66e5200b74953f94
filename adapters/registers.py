"""Risk registers shared as files in a chat: which files are reviewed, fetching one within the size
limit, and the notes that say why a file was left alone.

Slack and Teams each say in their own way where a shared file is; from its name and address on,
reviewing it is the same on both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import aiohttp

from bot.core import Bot
from bot.reply import Reply, Section
from bot.review.reader import MAX_BYTES
from bot.turn import Turn

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".xlsm")
CHUNK_BYTES = 64 * 1024


class TooBig(Exception):
    """The file turned out to be over :data:`MAX_BYTES` while it was being downloaded."""


async def review(
    bot: Bot,
    turn: Turn,
    name: str,
    url: object,
    unreadable: str,
    headers: Mapping[str, str] | None = None,
) -> list[Reply]:
    """The review of the register called ``name`` at ``url`` that ``turn``'s person shared, or a
    note saying why there is none; ``unreadable`` says why the platform may not have let the file
    be read."""
    if not is_register(name):
        return [not_a_register(name)]
    try:
        data = await download(url, headers) if isinstance(url, str) and url else None
    except TooBig:
        return [too_big(name)]
    if data is None:
        return [note("I couldn't download that file", unreadable)]
    # Off the event loop: reading a workbook and checking its rows take a while.
    return await asyncio.to_thread(bot.handle_file_report, data, name, turn=turn)


def is_register(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="review")


def not_a_register(name: str) -> Reply:
    return note("That isn't a register", f"{name} is not a CSV or Excel file, so I left it.")


def too_big(name: str) -> Reply:
    return note(
        "That file is too big",
        f"{name} is over 10 MB; registers that size are not reviewed. "
        "Split it, or send the risks sheet alone.",
    )


def review_failed() -> Reply:
    return note(
        "Sorry, the review failed",
        "Something went wrong on my side while reviewing that file. Please try again in a minute.",
    )


async def download(url: str, headers: Mapping[str, str] | None = None) -> bytes | None:
    """The file at ``url``, or None when it cannot be read: an answer other than 200, a web page
    instead of a file (Slack serves its sign-in page to an app without the files:read scope), or
    the network failing. Raises :class:`TooBig` past :data:`MAX_BYTES`, without reading the rest."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
            if response.status != 200 or response.content_type == "text/html":
                return None
            chunks, size = [], 0
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise TooBig(url)
                chunks.append(chunk)
            return b"".join(chunks)
    except aiohttp.ClientError as exc:
        log.warning("file download failed: %s", type(exc).__name__)
        return None
