"""Block Kit rendering of a reply.

A reply becomes one or more Slack messages, each a list of blocks, so that a long answer is paged
across messages instead of being rejected for breaking a Block Kit limit. Everything the bot echoes
into mrkdwn goes through :func:`escape`, because user text (project names, risk titles, survey
comments) must never turn into ``<!channel>``, ``<@U…>`` or a disguised link.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.reply import Action, Button, Image, Reply, Section, Table

log = logging.getLogger(__name__)

ACTION_PREFIX = "pmo:"
BUTTONS_BLOCK_ID = "pmo_buttons"
DID_YOU_MEAN = "Did you mean:"

# Block Kit limits (docs.slack.dev/reference/block-kit; the same numbers as slack_sdk's validators).
MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS = 25
MAX_IMAGE_URL = 3000
MAX_ALT_TEXT = 2000
# Slack has rejected messages with msg_blocks_too_long at ~13k characters of text in total, below
# every documented per-block limit (slackapi/bolt-js #2509, #2867), so a message also stops here.
MAX_MESSAGE_TEXT = 10_000

ELLIPSIS = "…"
_CODE_FENCE = "```"
# Coarsest first: a paragraph break is the least surprising place for a message to continue.
_SEPARATORS = ("\n\n", "\n", " ")

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text safe to put in mrkdwn: Slack's three control characters as entities, nothing else."""
    # & first, or the & of the entities made for < and > would be escaped again.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def decode_action(value: str) -> Action | None:
    """The action a button's value carries, or None when the value is not one of ours."""
    return Action.decode(value)


def fallback_text(reply: Reply) -> str:
    """The message's top-level ``text``: what notifications and screen readers show."""
    lines = [_one_line(reply.title)]
    first = next((s for s in reply.sections if s.line_count()), None)
    if first is not None:
        lines.append(first.text or first.heading or first.bullets[0])
    return _truncate_escaped(escape("\n".join(line for line in lines if line)), MAX_TEXT)


def render_blocks(reply: Reply) -> list[list[Block]]:
    """The reply as one or more messages, each within Slack's per-message limits.

    Always at least one message, so that a caller can answer with the first one.
    """
    groups: list[list[Block]] = []
    header = _header(reply.title)
    if header is not None:
        groups.append([header])
    groups.extend([block] for section in reply.sections for block in _section_blocks(section))
    groups.extend([block] for table in reply.tables for block in _table_blocks(table))
    groups.extend([block] for image in reply.images if (block := _image_block(image)) is not None)
    groups.extend(_button_groups(reply))
    if not groups:
        groups.append([_section(ELLIPSIS)])
    return _pack(groups)


def _pack(groups: list[list[Block]]) -> list[list[Block]]:
    # A group is kept whole so that "Did you mean:" never ends one message and its buttons start the next.
    messages: list[list[Block]] = [[]]
    used = 0
    for group in groups:
        size = sum(_text_size(block) for block in group)
        if messages[-1] and (len(messages[-1]) + len(group) > MAX_BLOCKS or used + size > MAX_MESSAGE_TEXT):
            messages.append([])
            used = 0
        messages[-1].extend(group)
        used += size
    return messages


def _text_size(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    return 0


def _header(title: str) -> Block | None:
    text = _truncate(_one_line(title), MAX_HEADER)
    if not text:
        return None
    # plain_text is never parsed for mentions or links, so the title goes in unescaped.
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section_blocks(section: Section) -> list[Block]:
    lines: list[str] = []
    if section.heading:
        lines.append(f"*{escape(_one_line(section.heading))}*")
    if section.text:
        lines.append(escape(section.text))
    lines.extend(f"• {escape(bullet)}" for bullet in section.bullets)
    return [_section(chunk) for chunk in _split(("\n".join(lines)), MAX_TEXT)]


def _table_blocks(table: Table) -> list[Block]:
    lines = _table_lines(table)
    if not lines:
        return []
    body = escape("\n".join(lines))
    budget = MAX_TEXT - len(f"{_CODE_FENCE}\n\n{_CODE_FENCE}")
    # Each part is fenced on its own: a code block cannot span two section blocks.
    return [_section(f"{_CODE_FENCE}\n{chunk}\n{_CODE_FENCE}") for chunk in _split(body, budget)]


def _table_lines(table: Table) -> list[str]:
    rows = ([table.columns] if table.columns else []) + list(table.rows)
    if not rows:
        return []
    width = max(len(row) for row in rows)
    cells = [[_one_line(cell) for cell in row] + [""] * (width - len(row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(width)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    if table.columns:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _image_block(image: Image) -> Block | None:
    if not image.url or len(image.url) > MAX_IMAGE_URL:
        log.warning("image skipped: its url is empty or over %d characters", MAX_IMAGE_URL)
        return None
    # alt_text is a plain string that Slack never parses, so it is not escaped.
    alt = _truncate(_one_line(image.alt), MAX_ALT_TEXT) or "image"
    return {"type": "image", "image_url": image.url, "alt_text": alt}


def _button_groups(reply: Reply) -> list[list[Block]]:
    elements: list[Block] = []
    unclickable: list[str] = []
    for n, button in enumerate(reply.buttons):
        element = _button(n, button)
        if element is None:
            unclickable.append(button.label)
        else:
            elements.append(element)
    groups: list[list[Block]] = []
    for k, start in enumerate(range(0, len(elements), MAX_ACTIONS)):
        block_id = BUTTONS_BLOCK_ID if k == 0 else f"{BUTTONS_BLOCK_ID}_{k + 1}"
        chunk = elements[start : start + MAX_ACTIONS]
        groups.append([{"type": "actions", "block_id": block_id, "elements": chunk}])
    # A choice whose value cannot fit a button is still worth showing: the user can type it.
    if unclickable:
        groups.extend([_section(chunk)] for chunk in _split(_bullets(unclickable), MAX_TEXT))
    if reply.suggestions and groups:
        groups[0].insert(0, {"type": "context", "elements": [_mrkdwn(DID_YOU_MEAN)]})
    return groups


def _button(n: int, button: Button) -> Block | None:
    value = button.action.encode()
    if len(value) > MAX_BUTTON_VALUE:
        log.warning("button %r shown as text: its value is %d characters", button.action.intent, len(value))
        return None
    label = _truncate(_one_line(button.label), MAX_BUTTON_TEXT) or ELLIPSIS
    # action_id need only be unique in a message and match the listener's prefix: the value routes the click.
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
        "action_id": f"{ACTION_PREFIX}{n}",
    }


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {escape(_one_line(item))}" for item in items)


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim stops Slack auto-linking bare channel names, URLs and @-words in what the bot echoes.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _truncate_escaped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: _safe_cut(text, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def _split(text: str, limit: int) -> list[str]:
    """Escaped text in parts of at most ``limit`` characters, cut at the coarsest boundary that fits.

    The separator at a cut is dropped (each part is its own block); a word longer than ``limit`` is
    cut mid-word, but never inside an entity, which would show as a stray ``&am`` and ``p;``.
    """
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut, skip = _cut_point(rest, limit)
        parts.append(rest[:cut])
        rest = rest[cut + skip :].lstrip("\n")
    parts.append(rest)
    # Slack rejects an empty or blank text object.
    return [part for part in parts if part.strip()]


def _cut_point(text: str, limit: int) -> tuple[int, int]:
    # A boundary in the first half would leave a stub block, so a finer boundary later wins over it.
    for floor in (limit // 2, 1):
        for separator in _SEPARATORS:
            at = text.rfind(separator, 0, limit + len(separator))
            if at >= floor:
                return at, len(separator)
    return _safe_cut(text, limit), 0


def _safe_cut(text: str, limit: int) -> int:
    # Every & in escaped text starts an entity, and the longest (&amp;) is five characters long.
    amp = text.rfind("&", max(0, limit - 4), limit)
    if amp > 0 and ";" not in text[amp:limit]:
        return amp
    return limit
