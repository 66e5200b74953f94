"""Adaptive Card rendering of a reply for Microsoft Teams.

A reply becomes one or more Adaptive Cards 1.5 (the newest version Teams renders), each small enough
to post, so that a long answer is paged across messages instead of being rejected. Buttons are plain
``Action.Submit`` actions whose ``data`` is ``{"pmo": Action.encode()}``: Teams delivers a click as a
message activity whose ``value`` is that data, and :func:`decode_submit` turns it back into the action.

A TextBlock's text is markdown (bold, italic, lists, links), so everything the bot echoes goes through
:func:`escape`: user text (project names, risk titles, survey comments) must never become a link that
hides its target, a mention or a date function. See :func:`escape` for the rule.

A survey's questions are ``Input.ChoiceSet`` inputs and its text inputs ``Input.Text``, sent together
by the form's submit button: Teams adds every input's value beside ``"pmo"`` in the activity's
``value``, and :func:`decode_submit` adds them to the action's slots.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

from adapters.fitting import ELLIPSIS, one_line, split, truncate
from bot.reply import (
    Action,
    Button,
    Form,
    Image,
    Pick,
    Question,
    Reply,
    Scorecard,
    ScoreRow,
    Section,
    Table,
    TextInput,
    number_of,
    number_text,
)

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
# A card that carries a chart inline (with_inline_png) may grow to this. Bot messages may be about
# 100 KB ("Format your bot messages", which advises keeping under 80 KB; 413 MessageSizeTooBig
# over it): far more than MAX_CARD_BYTES, but a data: URI is over that on its own for most charts.
MAX_INLINE_CARD_BYTES = 80_000
INLINE_PNG = "data:image/png;base64,"
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
MAX_CHOICE_TITLE = 80
MAX_INPUT_LABEL = 200
# What decode_submit takes from a submitted card's inputs: enough for any of our input ids and for
# a survey comment, and no more, whatever a client sends.
MAX_SLOT_KEY = 64
MAX_SLOT_VALUE = 2_000
# Radio buttons answer in one click, but six of them per question make a long survey a long scroll:
# beyond this many questions each is a drop-down instead.
MAX_EXPANDED_QUESTIONS = 5

ZWSP = "\u200b"
NBSP = "\u00a0"
_NEUTRALISED = "<]{"
_NEUTRALISE = str.maketrans({ch: ch + ZWSP for ch in _NEUTRALISED})
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
    action = Action.decode(data) if isinstance(data, str) else None
    if action is None:
        return None
    inputs = _input_values(value)
    if not inputs:
        return action
    # The action's own slots win over an input of the same name: the bot encoded them, a user typed the input.
    return Action(action.intent, {**inputs, **action.slots}, action.part)


def _input_values(value: Mapping[Any, Any]) -> dict[str, str]:
    # A question's choice arrives under "q:<key>" and a text input under its key; values that are not
    # strings (Teams' own "msteams" object, say) are not inputs of ours.
    # Input.Number may arrive as a number rather than text.
    return {
        key: (text if isinstance(text, str) else number_text(text))[:MAX_SLOT_VALUE]
        for key, text in value.items()
        if isinstance(key, str)
        and key != DATA_KEY
        and len(key) <= MAX_SLOT_KEY
        and (isinstance(text, str) or (isinstance(text, int | float) and not isinstance(text, bool)))
    }


def text_fallback(reply: Reply) -> str:
    """A plain summary for the activity's ``text``/``summary`` and notifications: the title and the
    first line of the first section, escaped as TextBlocks are (Teams renders message text as
    markdown too), at most :data:`MAX_FALLBACK` characters."""
    lines = [one_line(reply.title)]
    first = next((s for s in reply.sections if s.line_count()), None)
    if first is not None:
        lines.append(first.text or one_line(first.heading) or first.bullets[0])
    return truncate(escape("\n".join(line for line in lines if line) or ELLIPSIS), MAX_FALLBACK, _whole)


def render_cards(reply: Reply) -> list[Card]:
    """The reply as one or more Adaptive Cards, each at most :data:`MAX_CARD_BYTES` as JSON.

    Content keeps its order across cards (title, sections, scorecards, tables, images, survey, then
    buttons). The buttons
    and their "Did you mean:" line come last, on the last card, or on the last few cards when there
    are more than one card holds (a card holding only buttons has an empty body). Always at least
    one card.
    """
    survey = _survey_groups(reply)
    has_inputs = any(e["type"].startswith("Input.") for group in survey for e in group)
    clickable: list[Element] = []
    unclickable: list[str] = []
    for button in reply.buttons:
        action = _submit(button)
        if action is None:
            unclickable.append(button.label)
        else:
            if has_inputs:
                # Only the form's own button sends the answers: "Not this week" should not carry them.
                action["associatedInputs"] = "none"
            clickable.append(action)

    groups: list[list[Element]] = []
    title = _title_block(reply.title)
    if title is not None:
        groups.append([title])
    for part in reply.body():
        groups.extend(_section_groups(part) if isinstance(part, Section) else _scorecard_groups(part))
    for table in reply.tables:
        groups.extend(_table_groups(table))
    groups.extend([element] for image in reply.images if (element := _image(image)) is not None)
    groups.extend(survey)
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
    text = truncate(one_line(title), MAX_TITLE)
    if not text:
        return None
    return _text_block(escape(text), size="Large", weight="Bolder")


def _section_groups(section: Section) -> list[list[Element]]:
    heading: list[Element] = []
    if section.heading:
        heading = _text_blocks(escape(one_line(section.heading)), weight="Bolder", spacing="Medium")
    blocks: list[Element] = []
    if section.text:
        blocks.extend(_text_blocks(escape(section.text)))
    if section.bullets:
        # One markdown list; a list item is one line, so a bullet's own line breaks become spaces.
        items = "\n".join(f"- {escape(one_line(bullet))}" for bullet in section.bullets)
        blocks.extend(_text_blocks(items))
    groups = [[block] for block in heading + blocks]
    if heading and blocks:
        # The heading's last block travels with the first block under it.
        groups[len(heading) - 1].extend(groups.pop(len(heading)))
    return groups


def _scorecard_groups(scorecard: Scorecard) -> list[list[Element]]:
    """A scorecard for a card 446 px wide or a phone: one Container an item, never a grid.

    Each item is a ColumnSet of at most three columns: its name in a ``stretch`` column (wrapping
    between words), and its score and change in ``auto`` columns, a few characters each, that take
    only the width they need. Where no score is shown (withheld) there is no ColumnSet, only the
    name: no column is left empty. The details go under it in small, subtle text, each detail
    held together (no-break spaces) and the details parted by " · ", so that a line wraps between
    details rather than inside one.
    """
    head: list[Element] = []
    if scorecard.heading:
        head.append(_text_block(escape(one_line(scorecard.heading)), weight="Bolder", spacing="Medium"))
    if scorecard.note:
        head.append(
            _text_block(escape(one_line(scorecard.note)), isSubtle=True, size="Small", spacing="None")
        )
    groups = [[_score_item(row)] for row in scorecard.rows]
    if groups:
        groups[0][:0] = head
    elif head:
        groups.append(head)
    return groups


def _score_item(row: ScoreRow) -> Element:
    name = truncate(one_line(row.name), MAX_CELL) or ELLIPSIS
    items: list[Element] = []
    if row.score:
        columns: list[Element] = [
            {"type": "Column", "width": "stretch", "items": [_text_block(escape(name), weight="Bolder")]},
            {
                "type": "Column",
                "width": "auto",
                "items": [_text_block(escape(one_line(row.score)), weight="Bolder")],
            },
        ]
        if row.change:
            color = {"up": "Good", "down": "Attention"}.get(row.direction, "Default")
            change = _text_block(escape(one_line(row.change)), color=color)
            columns.append({"type": "Column", "width": "auto", "items": [change]})
        items.append({"type": "ColumnSet", "columns": columns})
    else:
        items.append(_text_block(escape(name), weight="Bolder"))
    if row.details:
        details = " · ".join(_unbroken(escape(one_line(detail))) for detail in row.details)
        items.append(_text_block(details, isSubtle=True, size="Small", spacing="None"))
    return {"type": "Container", "separator": True, "spacing": "Small", "items": items}


def _unbroken(text: str) -> str:
    # No-break spaces: a detail ("15 rated", "1–5: 3 0 0 7 5") wraps as a whole or not at all.
    return text.replace(" ", NBSP)


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
        text = truncate(cell.strip(), MAX_CELL)
        items = [_text_block(escape(text), **style)] if text else []
        columns.append({"type": "Column", "width": "stretch", "items": items})
    return {"type": "ColumnSet", "columns": columns}


def _image(image: Image) -> Element | None:
    if not image.url:
        log.warning("image skipped: its url is empty")
        return None
    # altText is plain text, never parsed as markdown, so it is not escaped.
    alt = truncate(one_line(image.alt), MAX_ALT_TEXT) or "image"
    return {"type": "Image", "url": image.url, "altText": alt}


def with_inline_png(cards: list[Card], png: bytes, alt: str) -> list[Card]:
    """``cards`` (from :func:`render_cards`) with ``png`` shown inline, as a data: URI Image.

    The image follows the content of the last card that has any (above its buttons), so that a
    digest's chart comes right after its figures; when that card would then be over
    :data:`MAX_INLINE_CARD_BYTES`, the image goes on a card of its own after it. An image too big
    even for a card of its own is left out, with a warning: the text carries the figures. The
    cards given are not changed.
    """
    out = [{**card, "body": list(card["body"])} for card in cards]
    element = _image(Image(INLINE_PNG + base64.b64encode(png).decode("ascii"), alt))
    if element is None:
        return out
    at = max((n for n, card in enumerate(out) if card["body"]), default=-1)
    if at >= 0 and _size(out[at]) + _size(element) + _ITEM_SEPARATOR <= MAX_INLINE_CARD_BYTES:
        out[at]["body"].append(element)
        return out
    own = _card([element], [])
    if _size(own) > MAX_INLINE_CARD_BYTES:
        log.warning("inline image left out: %d bytes do not fit in a card", _size(element))
        return out
    out.insert(at + 1, own)
    return out


def _submit(button: Button) -> Element | None:
    data = {DATA_KEY: button.action.encode()}
    if _size(data) > MAX_ACTION_DATA:
        log.warning("button %r shown as text: its data is %d bytes", button.action.intent, _size(data))
        return None
    # An action's title is plain text, not markdown.
    title = truncate(one_line(button.label), MAX_BUTTON_TITLE) or ELLIPSIS
    return {"type": "Action.Submit", "title": title, "data": data}


# -- survey -------------------------------------------------------------------------------------


def _survey_groups(reply: Reply) -> list[list[Element]]:
    """The questions and the form's inputs, followed by the form's submit button.

    One group, so that the inputs travel with the button that sends them. A survey too big for one
    card is cut between questions, and each part gets its own submit button: a button sends only
    the inputs of its own card.
    """
    ids = {DATA_KEY}  # an input named "pmo" would overwrite the action in the submitted value
    style = "expanded" if len(reply.questions) <= MAX_EXPANDED_QUESTIONS else "compact"
    units = [unit for question in reply.questions if (unit := _question_elements(question, style, ids))]
    form = reply.form
    if form is not None:
        if form.note:
            units.append(_text_blocks(escape(form.note), size="Small", isSubtle=True))
        errors = dict(form.errors)
        for item in form.inputs:
            element = _text_input(item, ids) if isinstance(item, TextInput) else _pick(item, ids)
            if element is None:
                continue
            unit = [element]
            if item.hint:
                # Under the input in small print: a card's input has no hint of its own.
                unit.extend(_text_blocks(escape(item.hint), size="Small", isSubtle=True, spacing="None"))
            if item.key in errors:
                # Said under the input it is about, as a form on the web would.
                unit.extend(_text_blocks(escape(errors[item.key]), color="Attention", spacing="None"))
            units.append(unit)
    submit = _form_submit(form) if form is not None else None
    if units and submit is None:
        log.warning("survey inputs shown without a button to send them")
    tail: list[Element] = [{"type": "ActionSet", "actions": [submit]}] if submit is not None else []
    if not units:
        return [tail] if tail else []
    return [part + tail for part in _fill(units, MAX_CARD_BYTES - _EMPTY_CARD - _cost_of(tail))]


def _fill(units: list[list[Element]], budget: int) -> list[list[Element]]:
    # Units in order, as few parts as the budget allows; a unit bigger than the budget is left for
    # _pack to skip with its warning.
    parts: list[list[Element]] = [[]]
    used = 0
    for unit in units:
        cost = _cost_of(unit)
        if parts[-1] and used + cost > budget:
            parts.append([])
            used = 0
        parts[-1].extend(unit)
        used += cost
    return parts


def _cost_of(elements: list[Element]) -> int:
    return sum(_size(element) + _ITEM_SEPARATOR for element in elements)


def _question_elements(question: Question, style: str, ids: set[str]) -> list[Element]:
    if not question.choices or question.input_id in ids:
        log.warning("question %r skipped: it has no choices or its id is repeated", question.key)
        return []
    ids.add(question.input_id)
    # A choice's title is plain text, not markdown.
    choices = [
        {
            "type": "Input.Choice",
            "title": truncate(one_line(c.label), MAX_CHOICE_TITLE) or c.value,
            "value": c.value,
        }
        for c in question.choices
    ]
    choice_set: Element = {
        "type": "Input.ChoiceSet",
        "id": question.input_id,
        "style": style,
        "isMultiSelect": False,
        "isRequired": False,
        "choices": choices,
    }
    if question.selected is not None and any(c.value == question.selected for c in question.choices):
        choice_set["value"] = question.selected
    return [*_text_blocks(escape(one_line(question.text)), weight="Bolder", spacing="Medium"), choice_set]


def _text_input(item: TextInput, ids: set[str]) -> Element | None:
    if not item.key or item.key in ids:
        log.warning("text input %r skipped: its id is empty, repeated or reserved", item.key)
        return None
    ids.add(item.key)
    limit = max(item.max_length, 1)
    label = item.label
    # A label and a placeholder are plain text, not markdown.
    element: Element = {
        "type": "Input.Number" if item.kind == "number" else "Input.Text",
        "id": item.key,
        "label": truncate(one_line(label), MAX_INPUT_LABEL) or ELLIPSIS,
        "isRequired": False,
    }
    if item.kind != "number":
        element["isMultiline"] = item.kind == "text"
        element["maxLength"] = limit
    if item.value and item.kind == "number":
        # Input.Number takes a number: a renderer ignores text there and shows the box empty.
        number = number_of(item.value)
        if number is not None:
            element["value"] = number
    elif item.value:
        element["value"] = item.value[:limit]
    placeholder = truncate(one_line(item.placeholder), MAX_INPUT_LABEL)
    if placeholder:
        element["placeholder"] = placeholder
    return element


def _pick(item: Pick, ids: set[str]) -> Element | None:
    if not item.key or item.key in ids or not item.choices:
        log.warning("choice input %r skipped: its id is empty, repeated or reserved", item.key)
        return None
    ids.add(item.key)
    label = item.label
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": item.key,
        "label": truncate(one_line(label), MAX_INPUT_LABEL) or ELLIPSIS,
        "style": "compact",
        "isMultiSelect": item.multiple,
        "isRequired": False,
        "choices": [
            {
                "type": "Input.Choice",
                "title": truncate(one_line(c.label), MAX_CHOICE_TITLE) or c.value,
                "value": c.value,
            }
            for c in item.choices
        ],
    }
    chosen = [c.value for c in item.choices if c.value in item.selected]
    if chosen:
        element["value"] = ",".join(chosen)
    return element


def _form_submit(form: Form) -> Element | None:
    submit = _submit(Button(form.submit_label, form.submit))
    if submit is not None:
        submit["style"] = "positive"
    return submit


def _unclickable_groups(labels: list[str], *, did_you_mean: bool) -> list[list[Element]]:
    lead = DID_YOU_MEAN if did_you_mean else TYPE_IT
    items = "\n".join(f"- {escape(one_line(label))}" for label in labels)
    groups = [[block] for block in _text_blocks(items)]
    groups[0].insert(0, _text_block(lead, weight="Bolder"))
    return groups


# -- text ---------------------------------------------------------------------------------------


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
    """Text in parts whose JSON encoding is at most ``budget`` (see :func:`adapters.fitting.split`).
    A cut cannot make a link: markdown never spans two TextBlocks."""
    return split(text, lambda rest: _fit(rest, budget))


def _whole(text: str, at: int) -> int:
    """A cut at or before ``at`` that keeps a neutralised character with the space after it."""
    return at - 1 if at > 0 and text[at - 1] in _NEUTRALISED else at
