"""Adaptive Card rendering of a reply for Microsoft Teams.

A reply becomes one or more Adaptive Cards 1.5 (the newest version Teams renders), each small enough
to post, so that a long answer is paged across messages instead of being rejected. Buttons are plain
``Action.Submit`` actions whose ``data`` is ``{"pmo": Action.encode()}``: Teams delivers a click as a
message activity whose ``value`` is that data, and :func:`decode_submit` turns it back into the action.

A TextBlock's text is markdown (bold, italic, lists, links), so everything the bot echoes goes through
:func:`escape`: user text (project names, risk titles, survey comments) must never become a link that
hides its target, a mention or a date function. See :func:`escape` for the rule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.reply import Action, Button, Image, Reply, Section, Table

log = logging.getLogger(__name__)

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
DATA_KEY = "pmo"
DID_YOU_MEAN = "Did you mean:"
MORE = "More"
TYPE_IT = "Type one of these:"

# Teams shows six actions in a card's actions or in one ActionSet and drops or hides the rest
# (bot-docs #2161, go-teams-notify #161): a seventh and later button goes behind "More".
MAX_ACTIONS = 6
# Size of json.dumps(card) with its default ensure_ascii, which is what the Bot Framework client sends
# and an upper bound of the UTF-8 size. Teams' Workflows/connector posts stop at about 28 KB (bot
# messages at about 100 KB); 24,000 leaves room for the activity around the card.
MAX_CARD_BYTES = 24_000
# Encoded size of one TextBlock's text: smaller blocks pack cards more evenly.
MAX_BLOCK_TEXT = 4_000
MAX_TITLE = 200
MAX_BUTTON_TITLE = 80
# The encoded data of one button; the same bound as a Slack button's value, so a reply keeps the
# same buttons on both platforms. A longer action is listed as text: the user can type it.
MAX_ACTION_DATA = 2_000
MAX_CELL = 1_000
MAX_ALT_TEXT = 1_000
MAX_FALLBACK = 4_000

ZWSP = "\u200b"
ELLIPSIS = "…"
# Coarsest first: a paragraph break is the least surprising place for a block to continue.
_SEPARATORS = ("\n\n", "\n", " ")
_NEUTRALISE = str.maketrans({ch: ch + ZWSP for ch in "<]{"})
_JSON_SHORT_ESCAPES = frozenset('"\\\n\r\t\b\f')

Element = dict[str, Any]
Card = dict[str, Any]


def escape(text: str) -> str:
    """Text safe to put in a TextBlock: a zero-width space after every ``<``, ``]`` and ``{``.

    That breaks, in every markdown parser, each construct that could make user text act rather than
    read: ``[text](url)``, ``[text][ref]`` and ``[ref]: url`` (a link that hides its target),
    ``<at>…</at>`` (a mention), ``<https://…>`` and HTML tags, and ``{{DATE(…)}}``/``{{TIME(…)}}``
    functions. The space is invisible, and removing every U+200B gives the text back. Backslash
    escapes are not used because Teams' mobile renderers show the backslash (AdaptiveCards #4677,
    #7474). Emphasis and list markers are left alone: they change how text looks, not where it
    leads or whom it notifies. A bare URL is still linked by Teams, but it shows its own target.
    """
    return text.translate(_NEUTRALISE)


def decode_submit(value: object) -> Action | None:
    """The action an ``Action.Submit`` click carries (the activity's ``value``), or None when the
    value is not one of ours."""
    if not isinstance(value, Mapping):
        return None
    data = value.get(DATA_KEY)
    return Action.decode(data) if isinstance(data, str) else None


def text_fallback(reply: Reply) -> str:
    """A plain summary for the activity's ``text``/``summary`` and notifications: the title and the
    first line of the first section, escaped as TextBlocks are (Teams renders message text as
    markdown too), at most :data:`MAX_FALLBACK` characters."""
    lines = [_one_line(reply.title)]
    first = next((s for s in reply.sections if s.line_count()), None)
    if first is not None:
        lines.append(first.text or _one_line(first.heading) or first.bullets[0])
    text = escape("\n".join(line for line in lines if line) or ELLIPSIS)
    if len(text) <= MAX_FALLBACK:
        return text
    cut = MAX_FALLBACK - len(ELLIPSIS)
    if text[cut - 1] in "<]{":
        cut -= 1  # keep a neutralised character together with the space after it
    return text[:cut].rstrip() + ELLIPSIS


def render_card(reply: Reply) -> Card:
    """The first card of :func:`render_cards`: all of a reply that fits in one message.

    A long reply's buttons are on its last card, so an adapter should send every card of
    :func:`render_cards`.
    """
    return render_cards(reply)[0]


def render_cards(reply: Reply) -> list[Card]:
    """The reply as one or more Adaptive Cards, each at most :data:`MAX_CARD_BYTES` as JSON.

    Content keeps its order across cards (title, sections, tables, images, then buttons). The buttons
    and their "Did you mean:" line come last, on the last card, or on the last few cards when there
    are more than one card holds (a card holding only buttons has an empty body). Always at least
    one card.
    """
    clickable: list[Element] = []
    unclickable: list[str] = []
    for button in reply.buttons:
        action = _submit(button)
        if action is None:
            unclickable.append(button.label)
        else:
            clickable.append(action)

    groups: list[list[Element]] = []
    title = _title_block(reply.title)
    if title is not None:
        groups.append([title])
    for section in reply.sections:
        groups.extend(_section_groups(section))
    for table in reply.tables:
        groups.extend(_table_groups(table))
    groups.extend([element] for image in reply.images if (element := _image(image)) is not None)
    if unclickable:
        groups.extend(_unclickable_groups(unclickable, did_you_mean=reply.suggestions and not clickable))

    cards = _pack(groups)
    lead = [_text_block(DID_YOU_MEAN, weight="Bolder")] if reply.suggestions else []
    for n, chunk in enumerate(_button_chunks(clickable, lead)):
        actions = _actions(chunk)
        last = cards[-1] if cards else None
        if n == 0 and last is not None and _size(_card(last["body"] + lead, actions)) <= MAX_CARD_BYTES:
            last["body"].extend(lead)
            last["actions"] = actions
        else:
            cards.append(_card(list(lead), actions))
    if not cards:
        cards.append(_card([_text_block(ELLIPSIS)], []))
    return cards


# -- packing ------------------------------------------------------------------------------------


def _card(body: list[Element], actions: list[Element]) -> Card:
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body, "actions": actions}


def _size(value: Any) -> int:
    return len(json.dumps(value))


_EMPTY_CARD = _size(_card([], []))
# json.dumps joins list items with ", ".
_ITEM_SEPARATOR = 2


def _pack(groups: list[list[Element]]) -> list[Card]:
    # A group is kept whole, so that a heading never ends one card and its text starts the next.
    cards: list[Card] = []
    used = 0
    for group in groups:
        sizes = [_size(element) for element in group]
        cost = sum(sizes) + _ITEM_SEPARATOR * len(group)
        if _EMPTY_CARD + cost - _ITEM_SEPARATOR > MAX_CARD_BYTES:
            log.warning("card element skipped: %d bytes do not fit in any card", cost)
            continue
        if not cards or used + cost > MAX_CARD_BYTES:
            cards.append(_card([], []))
            used = _EMPTY_CARD - _ITEM_SEPARATOR
        cards[-1]["body"].extend(group)
        used += cost
    return cards


def _button_chunks(clickable: list[Element], lead: list[Element]) -> list[list[Element]]:
    # A reply with more buttons than one card holds continues them on the next card. Every button is
    # under MAX_ACTION_DATA, so one always fits on its own.
    chunks: list[list[Element]] = []
    for action in clickable:
        if chunks and _size(_card(lead, _actions([*chunks[-1], action]))) <= MAX_CARD_BYTES:
            chunks[-1].append(action)
        else:
            chunks.append([action])
    return chunks


def _actions(chunk: list[Element]) -> list[Element]:
    if len(chunk) <= MAX_ACTIONS:
        return list(chunk)
    shown, rest = chunk[: MAX_ACTIONS - 1], chunk[MAX_ACTIONS - 1 :]
    # The rest go in ActionSets of six: a nested card shows no more actions than the top one does.
    sets: list[Element] = [
        {"type": "ActionSet", "actions": rest[i : i + MAX_ACTIONS]} for i in range(0, len(rest), MAX_ACTIONS)
    ]
    more: Element = {"type": "Action.ShowCard", "title": MORE, "card": {"type": "AdaptiveCard", "body": sets}}
    return [*shown, more]


# -- elements -----------------------------------------------------------------------------------


def _text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _text_blocks(escaped: str, **style: Any) -> list[Element]:
    return [_text_block(chunk, **style) for chunk in _split(escaped, MAX_BLOCK_TEXT)]


def _title_block(title: str) -> Element | None:
    text = _truncate(_one_line(title), MAX_TITLE)
    if not text:
        return None
    return _text_block(escape(text), size="Large", weight="Bolder")


def _section_groups(section: Section) -> list[list[Element]]:
    heading: list[Element] = []
    if section.heading:
        heading = _text_blocks(escape(_one_line(section.heading)), weight="Bolder", spacing="Medium")
    blocks: list[Element] = []
    if section.text:
        blocks.extend(_text_blocks(escape(section.text)))
    if section.bullets:
        # One markdown list; a list item is one line, so a bullet's own line breaks become spaces.
        items = "\n".join(f"- {escape(_one_line(bullet))}" for bullet in section.bullets)
        blocks.extend(_text_blocks(items))
    groups = [[block] for block in heading + blocks]
    if heading and blocks:
        # The heading's last block travels with the first block under it.
        groups[len(heading) - 1].extend(groups.pop(len(heading)))
    return groups


def _table_groups(table: Table) -> list[list[Element]]:
    width = max([len(table.columns), *(len(row) for row in table.rows)])
    if not width:
        return []
    # Short rows are padded, so that every row has a column for every cell of the widest one.
    rows = [_row(table.columns, width, header=True)] if table.columns else []
    rows.extend(_row(row, width, header=False) for row in table.rows)
    groups = [[row] for row in rows]
    if table.columns and len(groups) > 1:
        groups[0].extend(groups.pop(1))
    return groups


def _row(cells: tuple[str, ...], width: int, *, header: bool) -> Element:
    # Every row has one stretch column per cell, so columns line up across the rows' ColumnSets.
    style: dict[str, Any] = {"weight": "Bolder"} if header else {}
    columns: list[Element] = []
    for cell in (*cells, *[""] * (width - len(cells))):
        text = _truncate(cell.strip(), MAX_CELL)
        items = [_text_block(escape(text), **style)] if text else []
        columns.append({"type": "Column", "width": "stretch", "items": items})
    return {"type": "ColumnSet", "columns": columns}


def _image(image: Image) -> Element | None:
    if not image.url:
        log.warning("image skipped: its url is empty")
        return None
    # altText is plain text, never parsed as markdown, so it is not escaped.
    alt = _truncate(_one_line(image.alt), MAX_ALT_TEXT) or "image"
    return {"type": "Image", "url": image.url, "altText": alt}


def _submit(button: Button) -> Element | None:
    data = {DATA_KEY: button.action.encode()}
    if _size(data) > MAX_ACTION_DATA:
        log.warning("button %r shown as text: its data is %d bytes", button.action.intent, _size(data))
        return None
    # An action's title is plain text, not markdown.
    title = _truncate(_one_line(button.label), MAX_BUTTON_TITLE) or ELLIPSIS
    return {"type": "Action.Submit", "title": title, "data": data}


def _unclickable_groups(labels: list[str], *, did_you_mean: bool) -> list[list[Element]]:
    lead = DID_YOU_MEAN if did_you_mean else TYPE_IT
    items = "\n".join(f"- {escape(_one_line(label))}" for label in labels)
    groups = [[block] for block in _text_blocks(items)]
    groups[0].insert(0, _text_block(lead, weight="Bolder"))
    return groups


# -- text ---------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _cost(ch: str) -> int:
    """How many characters ``ch`` takes in json.dumps output (ensure_ascii)."""
    code = ord(ch)
    if ch in _JSON_SHORT_ESCAPES:
        return 2
    if 0x20 <= code < 0x7F:
        return 1
    return 12 if code > 0xFFFF else 6  # \uXXXX, or a surrogate pair of them


def _fit(text: str, budget: int) -> int:
    """The length of the longest prefix of ``text`` whose JSON encoding is at most ``budget``."""
    used = 0
    for i, ch in enumerate(text):
        used += _cost(ch)
        if used > budget:
            return i
    return len(text)


def _split(text: str, budget: int) -> list[str]:
    """Text in parts whose JSON encoding is at most ``budget``, cut at the coarsest boundary that fits.

    The separator at a cut is dropped (each part is its own TextBlock); a word longer than the budget
    is cut mid-word. A cut cannot make a link: markdown never spans two TextBlocks.
    """
    parts: list[str] = []
    rest = text
    while True:
        fit = _fit(rest, budget)
        if fit >= len(rest):
            parts.append(rest)
            break
        cut, skip = _cut_point(rest, max(fit, 1))
        parts.append(rest[:cut])
        rest = rest[cut + skip :].lstrip("\n")
    # An empty or blank TextBlock renders as a gap at best.
    return [part for part in parts if part.strip()]


def _cut_point(text: str, limit: int) -> tuple[int, int]:
    # A boundary in the first half would leave a stub block, so a finer boundary later wins over it.
    for floor in (limit // 2, 1):
        for separator in _SEPARATORS:
            at = text.rfind(separator, 0, limit + len(separator))
            if at >= floor:
                return at, len(separator)
    return limit, 0
