"""Block Kit rendering of a reply.

A reply becomes one or more Slack messages, each a list of blocks, so that a long answer is paged
across messages instead of being rejected for breaking a Block Kit limit. Everything the bot echoes
into mrkdwn goes through :func:`escape`, because user text (project names, risk titles, survey
comments) must never turn into ``<!channel>``, ``<@U…>`` or a disguised link.

A survey's questions are rows of buttons, one click recording one answer; its text inputs go in a
modal (:func:`render_modal`) opened by a button, and :func:`form_values` reads the modal's answers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from adapters.fitting import ELLIPSIS, one_line, split, truncate
from bot.reply import (
    Action,
    Button,
    Choice,
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
)

log = logging.getLogger(__name__)

ACTION_PREFIX = "pmo:"
BUTTONS_BLOCK_ID = "pmo_buttons"
DID_YOU_MEAN = "Did you mean:"
# A question's actions block is "q:<key>" and a choice's button "pmo:q:<key>:<value>". When that is
# too long or already taken, the "#" forms built from positions are used; they cannot clash with the
# preferred forms, whose prefix ends in ":".
QUESTION_BLOCK_PREFIX = "q:"
QUESTION_ACTION_PREFIX = f"{ACTION_PREFIX}q:"
FORM_OPEN_ACTION_ID = f"{ACTION_PREFIX}form"
FORM_CALLBACK_ID = "pmo:form"
SELECTED_MARK = "✓ "
MODAL_CLOSE = "Cancel"

# Block Kit limits (docs.slack.dev/reference/block-kit; the same numbers as slack_sdk's validators).
MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS = 25
MAX_IMAGE_URL = 3000
MAX_ALT_TEXT = 2000
MAX_ID = 255  # block_id, action_id and callback_id
# Modal views.
MAX_VIEW_TEXT = 24  # title, submit and close
MAX_VIEW_BLOCKS = 100
MAX_METADATA = 3000
MAX_INPUT_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_INPUT_LENGTH = 3000
MAX_OPTIONS = 100
MAX_ERROR_TEXT = 150  # Slack's practical limit for a field error under an input
MAX_OPTION_TEXT = 75
# Slack has rejected messages with msg_blocks_too_long at ~13k characters of text in total, below
# every documented per-block limit (slackapi/bolt-js #2509, #2867), so a message also stops here.
MAX_MESSAGE_TEXT = 10_000

_CODE_FENCE = "```"
NBSP = "\u00a0"

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
    lines = [one_line(reply.title)]
    first = next((s for s in reply.sections if s.line_count()), None)
    if first is not None:
        lines.append(first.text or first.heading or first.bullets[0])
    return truncate(escape("\n".join(line for line in lines if line)), MAX_TEXT, _safe_cut)


def render_blocks(reply: Reply) -> list[list[Block]]:
    """The reply as one or more messages, each within Slack's per-message limits.

    Always at least one message, so that a caller can answer with the first one.
    """
    groups: list[list[Block]] = []
    header = _header(reply.title)
    if header is not None:
        groups.append([header])
    for part in reply.body():
        if isinstance(part, Section):
            groups.extend([block] for block in _section_blocks(part))
        else:
            groups.extend(_scorecard_groups(part))
    groups.extend([block] for table in reply.tables for block in _table_blocks(table))
    groups.extend([block] for image in reply.images if (block := _image_block(image)) is not None)
    groups.extend(_question_groups(reply.questions))
    groups.extend(_button_groups(reply))
    if not groups:
        groups.append([_section(ELLIPSIS)])
    return _pack(groups)


def render_modal(reply: Reply, private_metadata: str) -> Block:
    """A modal view asking for ``reply.form``'s text inputs, for ``views.open``.

    ``private_metadata`` comes back untouched with the view_submission (the adapter keeps there
    what it needs to send ``form.submit``); it raises ValueError over Slack's 3,000 characters
    rather than being cut, which would corrupt it. A reply without a form or without inputs (the
    survey has closed, say) is shown as text, with no submit button.
    """
    if len(private_metadata) > MAX_METADATA:
        raise ValueError(f"private_metadata is {len(private_metadata)} characters, over {MAX_METADATA}")
    form = reply.form
    inputs = _input_blocks(form.inputs) if form is not None else []
    title = (form.title if form is not None else "") or reply.title
    view: Block = {
        "type": "modal",
        "callback_id": FORM_CALLBACK_ID,
        "title": _plain(truncate(one_line(title), MAX_VIEW_TEXT) or ELLIPSIS),
    }
    if form is not None and inputs:
        # Slack requires a submit button on a view with inputs, and only then.
        view["submit"] = _plain(truncate(one_line(form.submit_label), MAX_VIEW_TEXT) or ELLIPSIS)
    view["close"] = _plain(MODAL_CLOSE)
    view["private_metadata"] = private_metadata
    note = [_form_note(form.note)] if form is not None and form.note and inputs else []
    view["blocks"] = (note + inputs)[:MAX_VIEW_BLOCKS] if inputs else _modal_text(reply)
    return view


def modal_errors(form: Form) -> dict[str, str]:
    """A refused form's reasons by block id, for a view_submission's ``response_action: errors``
    (Slack shows each under its input). A reason about no input shown goes under the first."""
    keys = [item.key for item in form.inputs]
    out: dict[str, str] = {}
    for key, reason in form.errors:
        target = key if key in keys else (keys[0] if keys else key)
        out[target] = (out[target] + " " if target in out else "") + reason
    return {k: truncate(v, MAX_ERROR_TEXT) for k, v in out.items()}


def form_values(view_state: object) -> dict[str, str]:
    """The text of each input of a submitted modal, by input key: ``{"comment": "…"}``.

    ``view_state`` is the view of a view_submission (``body["view"]``); its ``state`` alone is
    accepted too. An input left empty arrives as None and reads as "". Whatever is malformed is
    skipped, so that a payload we do not expect gives fewer answers rather than an exception.
    """
    if not isinstance(view_state, Mapping):
        return {}
    state = view_state.get("state", view_state)
    values = state.get("values") if isinstance(state, Mapping) else None
    if not isinstance(values, Mapping):
        return {}
    answers: dict[str, str] = {}
    for block in values.values():
        if not isinstance(block, Mapping):
            continue
        for key, element in block.items():
            if not isinstance(key, str) or not isinstance(element, Mapping):
                continue
            text = _element_value(element)
            if text is not None:
                answers[key] = text
    return answers


def _element_value(element: Mapping[str, Any]) -> str | None:
    """What one input holds, as text: people, channels and options joined by commas."""
    kind = element.get("type")
    if kind in ("multi_users_select", "multi_conversations_select", "multi_static_select"):
        field = {
            "multi_users_select": "selected_users",
            "multi_conversations_select": "selected_conversations",
        }.get(str(kind), "selected_options")
        picked = element.get(field) or []
        if not isinstance(picked, list):
            return ""
        values = [p.get("value") if isinstance(p, Mapping) else p for p in picked]
        return ",".join(v for v in values if isinstance(v, str))
    if kind == "static_select":
        option = element.get("selected_option")
        value = option.get("value") if isinstance(option, Mapping) else None
        return value if isinstance(value, str) else ""
    if kind in ("conversations_select", "channels_select", "users_select"):
        field = {"channels_select": "selected_channel", "users_select": "selected_user"}.get(
            str(kind), "selected_conversation"
        )
        value = element.get(field)
        return value if isinstance(value, str) else ""
    text = element.get("value")
    if text is None or isinstance(text, str):
        return text or ""
    return None


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
    text = truncate(one_line(title), MAX_HEADER)
    if not text:
        return None
    # plain_text is never parsed for mentions or links, so the title goes in unescaped.
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section_blocks(section: Section) -> list[Block]:
    lines: list[str] = []
    if section.heading:
        lines.append(f"*{escape(one_line(section.heading))}*")
    if section.text:
        lines.append(escape(section.text))
    lines.extend(f"• {escape(bullet)}" for bullet in section.bullets)
    return [_section(chunk) for chunk in _split(("\n".join(lines)), MAX_TEXT)]


def _scorecard_groups(scorecard: Scorecard) -> list[list[Block]]:
    """A scorecard for Slack's narrow sidebar and phones: no code-block grid, which keeps its
    width whatever the screen and scrolls sideways. Each item is a section (its name in bold, then
    its score and change where shown) and a context block of its details in small grey text, each
    detail held together by no-break spaces. An item's two blocks are one group, so paging never
    parts them; the heading and note travel with the first item."""
    head: list[Block] = []
    if scorecard.heading:
        head.append(_section(f"*{truncate(escape(one_line(scorecard.heading)), MAX_TEXT - 2, _safe_cut)}*"))
    if scorecard.note:
        head.append(_context(one_line(scorecard.note)))
    groups = [_score_item(row) for row in scorecard.rows]
    if groups:
        groups[0][:0] = head
    elif head:
        groups.append(head)
    return groups


def _score_item(row: ScoreRow) -> list[Block]:
    line = f"*{escape(one_line(row.name)) or ELLIPSIS}*"
    if row.score:
        line += f"   *{escape(one_line(row.score))}*"
        if row.change:
            line += f" {escape(one_line(row.change))}"
    blocks = [_section(truncate(line, MAX_TEXT, _safe_cut))]
    if row.details:
        blocks.append(_context(" · ".join(one_line(d).replace(" ", NBSP) for d in row.details)))
    return blocks


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(truncate(escape(text), MAX_TEXT, _safe_cut))]}


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
    cells = [[one_line(cell) for cell in row] + [""] * (width - len(row)) for row in rows]
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
    alt = truncate(one_line(image.alt), MAX_ALT_TEXT) or "image"
    return {"type": "image", "image_url": image.url, "alt_text": alt}


def _question_groups(questions: tuple[Question, ...]) -> list[list[Block]]:
    # One group per question, so that paging never parts a question from its buttons.
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    groups: list[list[Block]] = []
    for n, question in enumerate(questions):
        group = [_question_text(question)]
        buttons = [
            button
            for m, choice in enumerate(question.choices)
            if (button := _choice_button(question, choice, action_ids, f"{n}.{m}")) is not None
        ]
        for k, start in enumerate(range(0, len(buttons), MAX_ACTIONS)):
            preferred = QUESTION_BLOCK_PREFIX + question.key + (f":{k + 1}" if k else "")
            block_id = _unique_id(preferred, f"q#{n}.{k}", block_ids)
            group.append(
                {"type": "actions", "block_id": block_id, "elements": buttons[start : start + MAX_ACTIONS]}
            )
        groups.append(group)
    return groups


def _question_text(question: Question) -> Block:
    # Two characters are kept for the asterisks, so that cutting a long question keeps it bold.
    text = truncate(escape(one_line(question.text)), MAX_TEXT - 2, _safe_cut)
    return _section(f"*{text}*" if text else ELLIPSIS)


def _choice_button(question: Question, choice: Choice, used: set[str], position: str) -> Block | None:
    value = question.pick_action(choice).encode()
    if len(value) > MAX_BUTTON_VALUE:
        log.warning(
            "choice %r of question %r skipped: its value is %d characters",
            choice.value,
            question.key,
            len(value),
        )
        return None
    selected = choice.value == question.selected
    # The mark says which answer is recorded even where a client does not colour primary buttons.
    label = (SELECTED_MARK if selected else "") + (one_line(choice.label) or choice.value)
    action_id = f"{QUESTION_ACTION_PREFIX}{question.key}:{choice.value}"
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(label, MAX_BUTTON_TEXT) or ELLIPSIS, "emoji": True},
        "value": value,
        "action_id": _unique_id(action_id, f"{ACTION_PREFIX}q#{position}", used),
    }
    if selected:
        button["style"] = "primary"
    return button


def _unique_id(preferred: str, fallback: str, used: set[str]) -> str:
    chosen = preferred if len(preferred) <= MAX_ID and preferred not in used else fallback
    used.add(chosen)
    return chosen


def _form_open_button(form: Form | None) -> Block | None:
    if form is None or form.open is None or not form.open_label:
        return None
    value = form.open.encode()
    if len(value) > MAX_BUTTON_VALUE:
        log.warning("form button %r skipped: its value is %d characters", form.open.intent, len(value))
        return None
    label = truncate(one_line(form.open_label), MAX_BUTTON_TEXT) or ELLIPSIS
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
        "action_id": FORM_OPEN_ACTION_ID,
    }


def _input_blocks(inputs: tuple[TextInput | Pick, ...]) -> list[Block]:
    blocks: list[Block] = []
    keys: set[str] = set()
    for item in inputs:
        # The key is both ids, so that form_values reads it back; Slack wants them unique and short.
        if not item.key or len(item.key) > MAX_ID or item.key in keys:
            log.warning("input %r skipped: its key is empty, too long or repeated", item.key[:MAX_ID])
            continue
        keys.add(item.key)
        blocks.append(_input_block(item) if isinstance(item, TextInput) else _pick_block(item))
    return blocks[:MAX_VIEW_BLOCKS]


def _input_block(item: TextInput) -> Block:
    limit = min(max(item.max_length, 1), MAX_INPUT_LENGTH)
    element: Block
    if item.kind == "people":
        element = {"type": "multi_users_select", "action_id": item.key}
        people = [p for p in (_slack_id(v) for v in item.value.split(",")) if p]
        if people:
            element["initial_users"] = people
    elif item.kind == "channel":
        # Channels only (public or private), not DMs: a digest goes to a channel.
        element = {
            "type": "conversations_select",
            "action_id": item.key,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if item.value:
            element["initial_conversation"] = item.value
    elif item.kind == "number":
        element = {"type": "number_input", "action_id": item.key, "is_decimal_allowed": item.decimals}
        if item.value:
            element["initial_value"] = item.value
    else:
        element = {
            "type": "plain_text_input",
            "action_id": item.key,
            "multiline": item.kind == "text",
            "max_length": limit,
        }
        if item.value:
            # Slack rejects an initial value longer than the input allows.
            element["initial_value"] = item.value[:limit]
    placeholder = truncate(one_line(item.placeholder), MAX_PLACEHOLDER)
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    return _input(item.key, item.label, item.hint, item.optional, element)


def _pick_block(item: Pick) -> Block:
    options = [_option(c) for c in item.choices[:MAX_OPTIONS]]
    chosen = [o for o, c in zip(options, item.choices, strict=False) if c.value in item.selected]
    element: Block = {
        "type": "multi_static_select" if item.multiple else "static_select",
        "action_id": item.key,
        "options": options,
    }
    if item.multiple and chosen:
        element["initial_options"] = chosen
    elif chosen:
        element["initial_option"] = chosen[0]
    return _input(item.key, item.label, item.hint, False, element)


def _input(key: str, label: str, hint: str, optional: bool, element: Block) -> Block:
    block: Block = {
        "type": "input",
        "block_id": key,
        "optional": optional,
        "label": _plain(truncate(one_line(label), MAX_INPUT_LABEL) or ELLIPSIS),
        "element": element,
    }
    if hint:
        block["hint"] = _plain(truncate(one_line(hint), MAX_INPUT_LABEL))
    return block


def _option(choice: Choice) -> Block:
    label = truncate(one_line(choice.label), MAX_OPTION_TEXT) or ELLIPSIS
    return {"text": _plain(label), "value": choice.value}


def _slack_id(member: str) -> str:
    member = member.strip()
    return member.removeprefix("slack:") if member and not member.startswith("teams:") else ""


def _modal_text(reply: Reply) -> list[Block]:
    blocks = [block for section in reply.sections for block in _section_blocks(section)]
    return blocks[:MAX_VIEW_BLOCKS] or [_section(ELLIPSIS)]


def _button_groups(reply: Reply) -> list[list[Block]]:
    elements: list[Block] = []
    # The survey's "Add a comment" leads the row: it belongs to the questions just above it.
    if (open_button := _form_open_button(reply.form)) is not None:
        elements.append(open_button)
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
    label = truncate(one_line(button.label), MAX_BUTTON_TEXT) or ELLIPSIS
    # action_id need only be unique in a message and match the listener's prefix: the value routes the click.
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
        "action_id": f"{ACTION_PREFIX}{n}",
    }


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {escape(one_line(item))}" for item in items)


def _plain(text: str) -> dict[str, Any]:
    # plain_text is never parsed for mentions or links, so it is not escaped.
    return {"type": "plain_text", "text": text}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim stops Slack auto-linking bare channel names, URLs and @-words in what the bot echoes.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _split(text: str, limit: int) -> list[str]:
    """Escaped text in parts of at most ``limit`` characters (see :func:`adapters.fitting.split`);
    a word longer than ``limit`` is cut mid-word, but never inside an entity, which would show as a
    stray ``&am`` and ``p;``."""
    return split(text, lambda _: limit, _safe_cut)


def _safe_cut(text: str, limit: int) -> int:
    # Every & in escaped text starts an entity, and the longest (&amp;) is five characters long.
    amp = text.rfind("&", max(0, limit - 4), limit)
    if amp > 0 and ";" not in text[amp:limit]:
        return amp
    return limit


def _form_note(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(truncate(text, MAX_TEXT))]}
