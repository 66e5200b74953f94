"""Adaptive Card rendering for Teams: structure, buttons, escaping and the message size limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.teams.cards import (
    DATA_KEY,
    DID_YOU_MEAN,
    MAX_ACTIONS,
    MAX_CARD_BYTES,
    MAX_FALLBACK,
    MORE,
    SCHEMA,
    VERSION,
    ZWSP,
    decode_submit,
    escape,
    render_cards,
    text_fallback,
)
from bot.reply import Action, Button, Image, Reply, Section, Table

TEAMS_LIMIT = 28 * 1024
HOSTILE = (
    "[click me](https://evil.example) [ref][1] [1]: https://evil.example <at>Everyone</at> "
    "<https://evil.example> <a href='https://evil.example'>x</a> {{DATE(2017-02-14T06:00:00Z, SHORT)}}"
)
# Every character that could open a link, a mention, a tag or a function is followed by U+200B.
UNNEUTRALISED = re.compile(f"[<\\]{{](?!{ZWSP})")

Card = dict[str, Any]


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card, depth first in document order."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def text_blocks(cards: list[Card]) -> list[str]:
    return [e["text"] for card in cards for e in walk(card["body"]) if e.get("type") == "TextBlock"]


def submits(cards: list[Card]) -> list[dict[str, Any]]:
    return [e for card in cards for e in walk(card["actions"]) if e.get("type") == "Action.Submit"]


def checked(cards: list[Card]) -> list[Card]:
    """The cards, after the checks every rendering must pass."""
    assert cards
    for card in cards:
        assert card["type"] == "AdaptiveCard"
        assert card["$schema"] == SCHEMA
        assert card["version"] == VERSION == "1.5"
        assert isinstance(card["body"], list)
        assert isinstance(card["actions"], list)
        assert card["body"] or card["actions"]
        encoded = json.dumps(card)
        assert len(encoded) <= MAX_CARD_BYTES < TEAMS_LIMIT
        assert len(json.dumps(card, ensure_ascii=False).encode()) <= len(encoded)
        assert len(card["actions"]) <= MAX_ACTIONS
        for element in walk(card):
            if element.get("type") == "TextBlock":
                assert element["text"].strip()
                assert element["wrap"] is True
                assert not UNNEUTRALISED.search(element["text"])
            if element.get("type") == "ActionSet":
                assert 1 <= len(element["actions"]) <= MAX_ACTIONS
            if element.get("type") == "Action.Submit":
                assert isinstance(element["data"], dict)
                assert decode_submit(element["data"]) is not None
    return cards


def buttons(n: int, prefix: str = "opt") -> tuple[Button, ...]:
    return tuple(
        Button(f"{prefix} {i}", Action("risk_lookup", {"id": f"R{i:03d}"}, part=str(i))) for i in range(n)
    )


def test_card_structure() -> None:
    reply = Reply(
        "Risk register",
        sections=(Section("Top risks", "Three are red.", ("Supplier late", "Budget\nover")),),
        images=(Image("https://example.com/chart.png", "Burn-down chart"),),
        tables=(Table(("Id", "Title", "Owner"), (("R1", "Late supplier", "Ann"), ("R2", "Budget"))),),
    )
    [card] = checked(render_cards(reply))
    assert list(card) == ["type", "$schema", "version", "body", "actions"]
    title, heading, text, bullets, header, row1, row2, image = card["body"]
    assert title == {
        "type": "TextBlock",
        "text": "Risk register",
        "wrap": True,
        "size": "Large",
        "weight": "Bolder",
    }
    assert heading["text"] == "Top risks" and heading["weight"] == "Bolder"
    assert text["text"] == "Three are red." and "weight" not in text
    assert bullets["text"] == "- Supplier late\n- Budget over"
    for row in (header, row1, row2):
        assert row["type"] == "ColumnSet"
        assert [c["width"] for c in row["columns"]] == ["stretch"] * 3
    assert [c["items"][0]["text"] for c in header["columns"]] == ["Id", "Title", "Owner"]
    assert all(c["items"][0]["weight"] == "Bolder" for c in header["columns"])
    assert [c["items"][0]["text"] for c in row1["columns"]] == ["R1", "Late supplier", "Ann"]
    # A short row is padded with an empty column, so the columns still line up.
    assert [[i["text"] for i in c["items"]] for c in row2["columns"]] == [["R2"], ["Budget"], []]
    assert image == {"type": "Image", "url": "https://example.com/chart.png", "altText": "Burn-down chart"}
    assert card["actions"] == []


def test_empty_reply_still_renders_a_card() -> None:
    [card] = checked(render_cards(Reply("")))
    assert text_blocks([card]) == ["…"]


def test_image_without_url_is_skipped() -> None:
    [card] = checked(render_cards(Reply("Chart", images=(Image("", "nothing"),))))
    assert not [e for e in walk(card) if e.get("type") == "Image"]


def test_every_button_decodes_back_to_its_action() -> None:
    reply = Reply("Pick", buttons=(*buttons(3), Button('Odd "quotes" <at>x</at>', Action("x", {"k": "]{<"}))))
    [card] = checked(render_cards(reply))
    assert [a["type"] for a in card["actions"]] == ["Action.Submit"] * 4
    assert [decode_submit(a["data"]) for a in card["actions"]] == [b.action for b in reply.buttons]
    assert [a["data"] for a in card["actions"]] == [{DATA_KEY: b.action.encode()} for b in reply.buttons]
    # An action's title is plain text, never markdown, so it is shown as written.
    assert [a["title"] for a in card["actions"]] == [b.label for b in reply.buttons]


def test_did_you_mean_precedes_suggestion_buttons() -> None:
    [card] = checked(render_cards(Reply("Not sure what you meant", buttons=buttons(2), suggestions=True)))
    assert card["body"][-1]["text"] == DID_YOU_MEAN
    assert len(card["actions"]) == 2
    [plain] = checked(render_cards(Reply("Next steps", buttons=buttons(2))))
    assert DID_YOU_MEAN not in text_blocks([plain])


def test_six_buttons_fit_without_more() -> None:
    [card] = checked(render_cards(Reply("Pick", buttons=buttons(MAX_ACTIONS))))
    assert [a["type"] for a in card["actions"]] == ["Action.Submit"] * MAX_ACTIONS


@pytest.mark.parametrize("count", [7, 20])
def test_more_than_six_buttons_put_the_rest_behind_more(count: int) -> None:
    reply = Reply("Pick", buttons=buttons(count), suggestions=True)
    [card] = checked(render_cards(reply))
    actions = card["actions"]
    assert [a["type"] for a in actions] == ["Action.Submit"] * 5 + ["Action.ShowCard"]
    more = actions[-1]
    assert more["title"] == MORE
    assert more["card"]["type"] == "AdaptiveCard"
    sets = more["card"]["body"]
    assert all(s["type"] == "ActionSet" for s in sets)
    assert sum(len(s["actions"]) for s in sets) == count - 5
    assert [decode_submit(a["data"]) for a in submits([card])] == [b.action for b in reply.buttons]
    assert card["body"][-1]["text"] == DID_YOU_MEAN


def test_button_too_big_to_click_is_listed_as_text() -> None:
    huge = Action("survey_answer", {"comment": "x" * 3000})
    reply = Reply("Pick", buttons=(Button("Keep the long comment", huge), *buttons(1)))
    [card] = checked(render_cards(reply))
    assert [decode_submit(a["data"]) for a in card["actions"]] == [reply.buttons[1].action]
    assert "- Keep the long comment" in text_blocks([card])


@pytest.mark.parametrize(
    "text",
    [HOSTILE, "[a](b)", "]]((", "<at>", "<<>>", "{{", "a]\n(b)", "plain text stays plain", ""],
)
def test_escape_neutralises_and_is_reversible(text: str) -> None:
    escaped = escape(text)
    assert not UNNEUTRALISED.search(escaped)
    assert "](" not in escaped and "][" not in escaped and "]:" not in escaped
    assert "<at" not in escaped and "{{" not in escaped
    assert escaped.replace(ZWSP, "") == text
    if not set(text) & set("<]{"):
        assert escaped == text


def test_hostile_text_is_neutralised_everywhere() -> None:
    reply = Reply(
        HOSTILE,
        sections=(Section(HOSTILE, HOSTILE, (HOSTILE, HOSTILE)),),
        tables=(Table((HOSTILE,), ((HOSTILE,),)),),
        buttons=(Button(HOSTILE, Action("x")),),
        images=(Image("https://example.com/i.png", HOSTILE),),
    )
    cards = checked(render_cards(reply))
    texts = text_blocks(cards)
    assert len(texts) == 6
    for text in texts:
        assert "](" not in text and "<at>" not in text and "<https" not in text and "{{" not in text
        assert HOSTILE in text.replace(ZWSP, "")
    fallback = text_fallback(reply)
    assert not UNNEUTRALISED.search(fallback)
    assert fallback.replace(ZWSP, "") == f"{HOSTILE}\n{HOSTILE}"


def test_huge_reply_splits_into_cards_in_order_with_all_content() -> None:
    sections = tuple(
        Section(
            f"Heading {n:04d} ⚠️",
            f"Section {n:04d} text ünïcødé 📈 [link](x) <at>y</at> "
            + "word " * 60
            + ("z" * 900 if n % 50 == 0 else ""),
            tuple(f'bullet {n:04d}.{b} “quoted” "json" \\ {{' for b in range(5)),
        )
        for n in range(400)
    )
    table = Table(("Id", "Title"), tuple((f"R{n:04d}", f"Row {n} ✅ " * 10) for n in range(300)))
    reply = Reply(
        "Portfolio digest", sections=sections, tables=(table,), buttons=buttons(8), suggestions=True
    )
    cards = checked(render_cards(reply))
    assert len(cards) > 5

    # Everything shows, in order: whitespace aside, the card text is the reply's text.
    expected = [reply.title]
    for s in sections:
        expected += [s.heading, s.text, *(f"- {b}" for b in s.bullets)]
    for row in (table.columns, *table.rows):
        expected += list(row)
    expected.append(DID_YOU_MEAN)
    shown = "".join("".join(text_blocks(cards)).replace(ZWSP, "").split())
    assert shown == "".join("".join(expected).split())

    # A heading never ends a card: the text under it starts on the same card.
    for card in cards:
        last = card["body"][-1]
        assert not (last.get("type") == "TextBlock" and last.get("spacing") == "Medium")
    # Buttons are on the last card only, with the "Did you mean:" line right before them.
    assert all(not card["actions"] for card in cards[:-1])
    assert cards[-1]["body"][-1]["text"] == DID_YOU_MEAN
    assert [decode_submit(a["data"]) for a in submits(cards)] == [b.action for b in reply.buttons]


def test_one_huge_text_and_many_big_buttons_are_split() -> None:
    text = "x" * 100_000 + " " + "😀" * 5_000
    fat = tuple(Button(f"Option {i}", Action("pick", {"v": f"{i:03d}" + "y" * 1_900})) for i in range(40))
    reply = Reply("Big", sections=(Section(text=text),), buttons=fat, suggestions=True)
    cards = checked(render_cards(reply))
    shown = "".join(text_blocks(cards)).replace(ZWSP, "").replace(DID_YOU_MEAN, "")
    # The one space was a cut: each part is its own TextBlock.
    assert shown == "Big" + text.replace(" ", "")
    assert [decode_submit(a["data"]) for a in submits(cards)] == [b.action for b in fat]
    for card in cards:
        if card["actions"]:
            assert card["body"][-1]["text"] == DID_YOU_MEAN


def test_element_too_big_for_any_card_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    reply = Reply("Chart", images=(Image("data:image/png;base64," + "A" * 40_000, "chart"),))
    [card] = checked(render_cards(reply))
    assert text_blocks([card]) == ["Chart"]
    assert "do not fit" in caplog.text


@pytest.mark.parametrize(
    "value",
    [
        None,
        "pmo",
        '{"i":"x"}',
        42,
        [],
        ["pmo"],
        {"pmo": 3},
        {"pmo": None},
        {"other": 1},
        {"pmo": "not json"},
        {"pmo": '{"x": 1}'},
        {"pmo": '{"i": "x", "s": {"k": 1}}'},
        {"i": "x", "s": {}, "p": ""},
    ],
)
def test_decode_submit_rejects_junk(value: object) -> None:
    assert decode_submit(value) is None


def test_decode_submit_accepts_ours_with_input_values_merged_in() -> None:
    action = Action("survey_answer", {"survey": "w42"}, part="2")
    # Teams merges the card's input values into the submitted data; they join the action's slots.
    merged = decode_submit({DATA_KEY: action.encode(), "mood": "4"})
    assert merged == Action("survey_answer", {"survey": "w42", "mood": "4"}, "2")


def test_text_fallback_is_title_and_first_section() -> None:
    reply = Reply(
        "Risk R1", sections=(Section(), Section("Owner", "Ann owns it.\nSince May."), Section(text="no"))
    )
    assert text_fallback(reply) == "Risk R1\nAnn owns it.\nSince May."
    assert text_fallback(Reply("Only a title")) == "Only a title"
    assert text_fallback(Reply("  ", sections=(Section(bullets=("first", "second")),))) == "first"
    assert text_fallback(Reply("")) == "…"


@pytest.mark.parametrize("filler", ["a", "<", "]x", "ü 😀 "])
def test_text_fallback_limit(filler: str) -> None:
    fallback = text_fallback(Reply("Long", sections=(Section(text=filler * 5_000),)))
    assert len(fallback) <= MAX_FALLBACK
    assert fallback.endswith("…")
    assert not UNNEUTRALISED.search(fallback)
