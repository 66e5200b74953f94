"""The App Home tab's view: what the core says for Home (``Bot.home``), laid out within Slack's
limits for a view, with block ids made unique across its parts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from adapters.slack.blocks import MAX_ID, MAX_TEXT, MAX_VIEW_BLOCKS
from adapters.slack.courier import Messages
from bot.reply import Reply

HOME_INTRO = (
    "Your pulse survey, your team's latest digest where you can see it, and a quick way into "
    "common questions."
)
HOME_CROWDED = (
    "Not everything fits on this tab. Answer a survey from the message I sent you, and ask for a "
    "team's digest with /pmo digest followed by the team's name."
)


def home_view(
    parts: list[Reply], render: Callable[[Reply], tuple[Messages, str]], now: float
) -> dict[str, Any]:
    """The App Home view of :meth:`Bot.home`'s parts: each part's blocks as a message would show
    them, a divider between parts, within Slack's 100 blocks a view. The last part (the common
    questions) always shows; a part before it that would not fit is left out, with a line saying
    where to find it instead. Block ids are made unique across the view, as Slack requires."""
    rendered = [[block for message in render(reply)[0] for block in message] for reply in parts]
    last = rendered.pop() if rendered else []
    stamp = time.strftime("%H:%M UTC", time.gmtime(now))
    footer = _context(
        f"Updated <!date^{int(now)}^{{date_short_pretty}} at {{time}}|{stamp}>. "
        "Open this tab again to refresh it."
    )
    # The intro, the footer, a divider before the last part, and room for the note.
    room = MAX_VIEW_BLOCKS - 4 - len(last)
    blocks: list[dict[str, Any]] = [_context(HOME_INTRO)]
    used: set[str] = set()
    crowded = False
    for n, part in enumerate(rendered):
        if len(part) + 1 > room:
            crowded = True
            continue
        blocks += [*_home_ids(part, n, used), {"type": "divider"}]
        room -= len(part) + 1
    if crowded:
        note = {"type": "section", "text": {"type": "mrkdwn", "text": HOME_CROWDED, "verbatim": True}}
        blocks += [note, {"type": "divider"}]
    blocks += [*_home_ids(last[: MAX_VIEW_BLOCKS - len(blocks) - 1], len(rendered), used), footer]
    return {"type": "home", "blocks": blocks}


def _home_ids(blocks: list[dict[str, Any]], part: int, used: set[str]) -> list[dict[str, Any]]:
    """The blocks with their ids made unique in the view ("h<part>.<id>"); copies, since the
    courier keeps what it rendered."""
    out = []
    for n, block in enumerate(blocks):
        block_id = block.get("block_id")
        if not isinstance(block_id, str):
            out.append(block)
            continue
        chosen = f"h{part}.{block_id}"
        if len(chosen) > MAX_ID or chosen in used:
            chosen = f"h{part}#{n}"
        used.add(chosen)
        out.append({**block, "block_id": chosen})
    return out


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_TEXT], "verbatim": True}]}


def on_home_tab(body: dict[str, Any]) -> bool:
    """Whether a click came from the App Home (its payload names the view, and no message)."""
    view = body.get("view")
    return isinstance(view, dict) and view.get("type") == "home" and not body.get("response_url")


class PerUser:
    """One lock per person, dropped once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def busy(self, user: str) -> bool:
        return user in self._locks

    @contextlib.asynccontextmanager
    async def hold(self, user: str) -> AsyncIterator[None]:
        lock, waiting = self._locks.setdefault(user, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            async with lock:
                yield
        finally:
            waiting[0] -= 1
            if not waiting[0]:
                del self._locks[user]
