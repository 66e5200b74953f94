"""Block Kit rendering: structure, escaping and Slack's limits, checked against slack_sdk's models."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from adapters.slack.blocks import (
    ACTION_PREFIX,
    MAX_BLOCKS,
    MAX_MESSAGE_TEXT,
    decode_action,
    escape,
    fallback_text,
    render_blocks,
)
from bot.reply import Action, Button, Image, Reply, Section, Table

HOSTILE = "<!channel> & <@U123|x> <https://evil|click>"
# After escaping, the only & left are those that start one of Slack's three entities.
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def validated(messages: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The messages, after slack_sdk has parsed and validated every block and every limit we know."""
    assert messages, "a caller answers with messages[0]"
    for blocks in messages:
        assert 1 <= len(blocks) <= MAX_BLOCKS
        block_ids = [b["block_id"] for b in blocks if "block_id" in b]
        assert len(block_ids) == len(set(block_ids))
        action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert len(action_ids) == len(set(action_ids))
        assert sum(len(t["text"]) for t in text_objects(blocks)) <= MAX_MESSAGE_TEXT
        for block in blocks:
            model = Block.parse(block)
            assert model is not None
            # to_dict() runs the validators of the block and of everything in it.
            assert model.to_dict() == block
            for text in text_objects([block]):
                assert 1 <= len(text["text"]) <= 3000
            if block["type"] == "header":
                assert block["text"]["type"] == "plain_text"
                assert len(block["text"]["text"]) <= 150
                assert "\n" not in block["text"]["text"]
            if block["type"] == "actions":
                assert 1 <= len(block["elements"]) <= 25
                for button in block["elements"]:
                    assert len(button["text"]["text"]) <= 75
                    assert len(button["value"]) <= 2000
                    assert button["action_id"].startswith(ACTION_PREFIX)
    return messages


def text_objects(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    def walk(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            if value.get("type") in ("mrkdwn", "plain_text"):
                yield value
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    return walk(blocks)


def mrkdwn_texts(messages: list[list[dict[str, Any]]]) -> list[str]:
    return [t["text"] for blocks in messages for t in text_objects(blocks) if t["type"] == "mrkdwn"]


def section_texts(messages: list[list[dict[str, Any]]]) -> list[str]:
    return [b["text"]["text"] for blocks in messages for b in blocks if b["type"] == "section"]


def buttons(messages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [e for blocks in messages for b in blocks if b["type"] == "actions" for e in b["elements"]]


def sample() -> Reply:
    return Reply(
        "Risk register",
        (
            Section(text="A list of the risks to a project."),
            Section("What good looks like", bullets=("An owner for every risk", "A date for every action")),
        ),
        (
            Button("Common defects", Action("artifact_defects", {"artifact": "risk_register"})),
            Button("Questions to ask", Action("artifact_questions", {"artifact": "risk_register"}, "2")),
        ),
    )


def test_normal_reply_renders_header_sections_and_buttons() -> None:
    messages = validated(render_blocks(sample()))
    assert len(messages) == 1
    blocks = messages[0]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "actions"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "Risk register", "emoji": True}
    assert blocks[1]["text"]["text"] == "A list of the risks to a project."
    assert blocks[3]["block_id"] == "pmo_buttons"
    labels = [e["text"]["text"] for e in blocks[3]["elements"]]
    assert labels == ["Common defects", "Questions to ask"]
    assert [e["action_id"] for e in blocks[3]["elements"]] == ["pmo:0", "pmo:1"]
    # Follow-ups are not calls to action: no primary/danger colouring.
    assert all("style" not in e for e in blocks[3]["elements"])
    assert not any(b["type"] == "context" for b in blocks)


def test_heading_is_bold_and_bullets_are_lines() -> None:
    text = section_texts(render_blocks(sample()))[1]
    assert text == "*What good looks like*\n• An owner for every risk\n• A date for every action"


def test_every_button_value_decodes_to_its_action() -> None:
    reply = sample()
    rendered = buttons(render_blocks(reply))
    assert [decode_action(b["value"]) for b in rendered] == [b.action for b in reply.buttons]
    assert decode_action("not json") is None
    assert decode_action('{"x": 1}') is None


def test_did_you_mean_gets_its_context_block() -> None:
    reply = Reply(
        "I'm not sure what you meant.",
        buttons=(Button("Risk register", Action("artifact", {"artifact": "risk_register"})),),
        suggestions=True,
    )
    blocks = validated(render_blocks(reply))[0]
    assert [b["type"] for b in blocks] == ["header", "context", "actions"]
    assert blocks[1]["elements"][0]["text"] == "Did you mean:"


def test_escape_ampersand_first() -> None:
    assert escape("a & b <c> &lt;") == "a &amp; b &lt;c&gt; &amp;lt;"
    assert unescape(escape(HOSTILE)) == HOSTILE


def test_hostile_text_is_escaped_everywhere() -> None:
    reply = Reply(
        HOSTILE,
        (
            Section(HOSTILE, HOSTILE, (HOSTILE, HOSTILE)),
            Section(text=f"{HOSTILE}\n\n{HOSTILE}"),
        ),
        (Button(HOSTILE, Action("x", {"q": HOSTILE})),),
        suggestions=True,
        images=(Image("https://example.com/chart.png", HOSTILE),),
        tables=(Table((HOSTILE, "b"), ((HOSTILE, HOSTILE),)),),
    )
    messages = validated(render_blocks(reply))
    texts = mrkdwn_texts(messages)
    # heading, text, both bullets, the second section, the table and "Did you mean:".
    assert sum(unescape(t).count(HOSTILE) for t in texts) == 9
    for text in [*texts, fallback_text(reply)]:
        assert "<" not in text and ">" not in text
        assert not BARE_AMPERSAND.search(text)
    assert all(
        t["verbatim"] is True for blocks in messages for t in text_objects(blocks) if t["type"] == "mrkdwn"
    )
    assert HOSTILE in unescape(fallback_text(reply))
    # plain_text is never parsed by Slack: the header and labels show what was typed.
    blocks = messages[0]
    assert blocks[0]["text"]["text"] == HOSTILE
    assert buttons(messages)[0]["text"]["text"] == HOSTILE
    assert decode_action(buttons(messages)[0]["value"]) == Action("x", {"q": HOSTILE})
    image = next(b for b in blocks if b["type"] == "image")
    assert image["alt_text"] == HOSTILE


def test_long_reply_splits_into_messages_and_keeps_everything_in_order() -> None:
    words = [f"w{n}&<{n}>" for n in range(2600)]
    paragraphs = [" ".join(words[i : i + 40]) for i in range(0, len(words), 40)]
    long_text = "\n\n".join(paragraphs)
    assert len(long_text) > 20_000
    sections = [
        Section(f"Part {n}", f"Text {n} & more", (f"bullet {n}a", f"bullet {n}b")) for n in range(200)
    ]
    sections.insert(100, Section("Long", long_text))
    reply = Reply("Digest", tuple(sections), (Button("More", Action("digest", part="2")),))

    messages = validated(render_blocks(reply))
    assert len(messages) > 4
    assert messages[0][0]["type"] == "header"
    assert messages[-1][-1]["type"] == "actions"
    texts = section_texts(messages)
    assert max(len(t) for t in texts) <= 3000
    # The long section is cut only at paragraph boundaries, and into full parts.
    long_parts = [t for t in texts if "&amp;&lt;" in t]
    assert len(long_parts) >= 7
    assert all(len(t) > 1500 for t in long_parts[:-1])

    expected: list[str] = []
    for section in sections:
        expected += [f"*{section.heading}*", section.text, *(f"• {b}" for b in section.bullets)]
    assert " ".join(unescape(t) for t in texts).split() == " ".join(expected).split()


def test_split_prefers_line_breaks_to_words_and_leaves_no_stub() -> None:
    lines = [f"line {n:04d} " + "word " * 18 for n in range(100)]
    parts = section_texts(validated(render_blocks(Reply("x", (Section(text="\n".join(lines)),)))))
    assert len(parts) > 1
    assert [line for part in parts for line in part.split("\n")] == lines

    # An early paragraph break would leave a stub part: a later word boundary is better.
    text = "Intro\n\n" + "word " * 1500
    parts = section_texts(validated(render_blocks(Reply("x", (Section(text=text),)))))
    assert len(parts[0]) > 1500
    assert " ".join(parts).split() == text.split()


def test_unbroken_text_is_cut_between_entities() -> None:
    text = "&<>" * 4000
    messages = validated(render_blocks(Reply("x", (Section(text=text),))))
    parts = section_texts(messages)
    assert len(parts) > 4
    for part in parts:
        assert not BARE_AMPERSAND.search(part)
        assert not re.search(r"&(amp|lt|gt)?$", part), "a part ends inside an entity"
    assert unescape("".join(parts)) == text


def test_blank_text_renders_no_empty_block() -> None:
    messages = validated(render_blocks(Reply("", (Section(), Section(text="\n\n")))))
    assert messages == [[{"type": "section", "text": {"type": "mrkdwn", "text": "…", "verbatim": True}}]]


def test_long_header_is_truncated_with_an_ellipsis() -> None:
    title = "Portfolio\nreview " + "x" * 300
    header = validated(render_blocks(Reply(title)))[0][0]
    text = header["text"]["text"]
    assert len(text) == 150
    assert text.endswith("…")
    assert text.startswith("Portfolio review xxx")


def test_long_button_label_is_truncated() -> None:
    reply = Reply("t", buttons=(Button("L" * 200, Action("a")),))
    label = buttons(validated(render_blocks(reply)))[0]["text"]["text"]
    assert len(label) == 75
    assert label == "L" * 74 + "…"


def test_thirty_buttons_make_several_actions_blocks() -> None:
    reply = Reply("t", buttons=tuple(Button(f"Option {n}", Action("pick", {"n": str(n)})) for n in range(30)))
    messages = validated(render_blocks(reply))
    actions = [b for blocks in messages for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    assert [b["block_id"] for b in actions] == ["pmo_buttons", "pmo_buttons_2"]
    rendered = buttons(messages)
    assert [decode_action(b["value"]) for b in rendered] == [b.action for b in reply.buttons]
    assert len({b["action_id"] for b in rendered}) == 30


def test_buttons_that_spill_over_keep_did_you_mean_with_them() -> None:
    sections = tuple(Section(text=f"s{n}") for n in range(48))
    reply = Reply("t", sections, (Button("Yes", Action("yes")),), suggestions=True)
    messages = validated(render_blocks(reply))
    assert len(messages) == 2
    assert [b["type"] for b in messages[1]] == ["context", "actions"]


def test_button_value_over_the_limit_is_shown_as_text() -> None:
    big = Action("big", {"blob": "x" * 2100})
    reply = Reply("t", buttons=(Button("Keep <me>", Action("ok")), Button("Too big & <b>", big)))
    messages = validated(render_blocks(reply))
    assert [decode_action(b["value"]) for b in buttons(messages)] == [Action("ok")]
    assert section_texts(messages) == ["• Too big &amp; &lt;b&gt;"]


def test_table_is_a_fixed_width_code_block() -> None:
    table = Table(("Risk", "Owner"), (("Supplier <late>", "Ann"), ("Budget", "Bob & Co")))
    text = section_texts(validated(render_blocks(Reply("t", tables=(table,)))))[0]
    assert text == (
        "```\n"
        "Risk             Owner\n"
        "---------------  --------\n"
        "Supplier &lt;late&gt;  Ann\n"
        "Budget           Bob &amp; Co\n"
        "```"
    )


def test_long_table_is_split_into_fenced_parts() -> None:
    table = Table(("n", "text"), tuple((str(n), "row text " * 5) for n in range(300)))
    parts = section_texts(validated(render_blocks(Reply("t", tables=(table,)))))
    assert len(parts) > 1
    assert all(p.startswith("```\n") and p.endswith("\n```") for p in parts)


def test_images_become_image_blocks() -> None:
    reply = Reply(
        "t", images=(Image("https://example.com/a.png", "Burn-down"), Image("x" * 3001, "too long"))
    )
    blocks = validated(render_blocks(reply))[0]
    images = [b for b in blocks if b["type"] == "image"]
    assert images == [{"type": "image", "image_url": "https://example.com/a.png", "alt_text": "Burn-down"}]


@pytest.mark.parametrize(
    "reply",
    [
        sample(),
        Reply("t" * 5000, (Section(text="y & " * 2000),)),
        Reply("only a title"),
        Reply("t", (Section(bullets=("first bullet",)),)),
    ],
)
def test_fallback_text_within_limits(reply: Reply) -> None:
    text = fallback_text(reply)
    assert 1 <= len(text) <= 3000
    assert not BARE_AMPERSAND.search(text)
    assert not re.search(r"&(amp|lt|gt)?$", text.removesuffix("…"))


def test_fallback_text_is_title_and_first_section() -> None:
    assert fallback_text(sample()) == "Risk register\nA list of the risks to a project."
    assert fallback_text(Reply("A & B", (Section(bullets=("<b>",)),))) == "A &amp; B\n&lt;b&gt;"
