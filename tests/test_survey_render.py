"""Survey rendering: questions and forms as Slack buttons and modals, and as Teams card inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.slack.blocks import (
    ACTION_PREFIX,
    FORM_CALLBACK_ID,
    FORM_OPEN_ACTION_ID,
    MAX_BLOCKS,
    form_values,
    render_blocks,
    render_modal,
)
from adapters.teams.cards import (
    DATA_KEY,
    MAX_CARD_BYTES,
    MAX_SLOT_KEY,
    MAX_SLOT_VALUE,
    ZWSP,
    decode_submit,
    render_cards,
)
from bot.reply import Action, Button, Choice, Form, Question, Reply, Section, TextInput

CHOICES = (
    Choice("5 Excellent", "5"),
    Choice("4 Good", "4"),
    Choice("3 OK", "3"),
    Choice("2 Weak", "2"),
    Choice("1 Poor", "1"),
    Choice("Didn't use it", "na"),
)
PICK = Action("survey_pick", {"survey": "2025-W23"})
SUBMIT = Action("survey_submit", {"survey": "2025-W23"})
OPEN = Action("survey_comment", {"survey": "2025-W23"})
SLACK_HOSTILE = "<!channel> <@U123> <https://evil.example|click> & more"
TEAMS_HOSTILE = "[click](https://evil.example) <at>x</at> {{DATE(2017-02-14T06:00:00Z)}}"

Blocks = list[dict[str, Any]]


def question(key: str, selected: str | None = None, text: str = "") -> Question:
    return Question(key, text or f"How well did {key} work for you this week?", CHOICES, PICK, selected)


def form(value: str = "") -> Form:
    comment = TextInput("comment", "What got in the way?", value, "Optional", 1000)
    return Form("Weekly pulse", "Send", SUBMIT, (comment,), "Add a comment", OPEN)


def survey(questions: tuple[Question, ...], comment: str = "") -> Reply:
    return Reply(
        "Weekly PMO pulse",
        sections=(Section(text="Two minutes: how did the PMO help you this week?"),),
        buttons=(Button("Not this week", Action("survey_skip", {"survey": "2025-W23"})),),
        questions=questions,
        form=form(comment),
    )


def three() -> Reply:
    return survey((question("reporting"), question("risks", selected="4"), question("planning")))


def twenty() -> Reply:
    return survey(tuple(question(f"function_{n:02d}", selected="3" if n % 2 else None) for n in range(20)))


def slack_buttons(blocks: Blocks) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def one_message(reply: Reply) -> Blocks:
    """The only Slack message of a reply, after slack_sdk has validated every block."""
    [blocks] = render_blocks(reply)
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        model = Block.parse(block)
        assert model is not None
        assert model.to_dict() == block
    action_ids = [e["action_id"] for e in slack_buttons(blocks)]
    assert len(action_ids) == len(set(action_ids))
    assert all(a.startswith(ACTION_PREFIX) and len(a) <= 255 for a in action_ids)
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    return blocks


# -- Slack ----------------------------------------------------------------------------------------


def test_slack_survey_is_one_message_of_questions_then_buttons() -> None:
    blocks = one_message(three())
    assert [b["type"] for b in blocks] == ["header", "section"] + ["section", "actions"] * 3 + ["actions"]
    assert blocks[2]["text"]["text"] == "*How well did reporting work for you this week?*"
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == [
        "q:reporting",
        "q:risks",
        "q:planning",
        "pmo_buttons",
    ]
    first = blocks[3]["elements"]
    assert [e["text"]["text"] for e in first] == [c.label for c in CHOICES]
    assert [e["action_id"] for e in first] == [f"pmo:q:reporting:{c.value}" for c in CHOICES]


def test_slack_choice_buttons_decode_to_pick_with_question_and_value() -> None:
    blocks = one_message(three())
    risks = blocks[5]["elements"]
    decoded = [Action.decode(e["value"]) for e in risks]
    assert decoded[1] == Action("survey_pick", {"survey": "2025-W23", "q": "risks", "v": "4"})
    assert [a.slots["v"] for a in decoded if a is not None] == ["5", "4", "3", "2", "1", "na"]
    assert {a.slots["q"] for a in decoded if a is not None} == {"risks"}


def test_slack_selected_choice_is_primary_and_marked() -> None:
    blocks = one_message(three())
    risks = blocks[5]["elements"]
    assert [e.get("style") for e in risks] == [None, "primary", None, None, None, None]
    assert risks[1]["text"]["text"] == "✓ 4 Good"
    # A question with nothing recorded has no primary button.
    assert not any("style" in e for e in blocks[3]["elements"] + blocks[7]["elements"])


def test_slack_comment_button_opens_the_form_beside_the_replys_buttons() -> None:
    final = one_message(three())[-1]
    assert final["block_id"] == "pmo_buttons"
    opener, skip = final["elements"]
    assert opener["action_id"] == FORM_OPEN_ACTION_ID
    assert opener["text"]["text"] == "Add a comment"
    assert Action.decode(opener["value"]) == OPEN
    assert skip["action_id"] == "pmo:0"
    assert Action.decode(skip["value"]) == Action("survey_skip", {"survey": "2025-W23"})


def test_slack_twenty_questions_fit_one_message() -> None:
    blocks = one_message(twenty())
    assert len(blocks) == 2 + 2 * 20 + 1
    choice_buttons = [e for e in slack_buttons(blocks) if e["action_id"].startswith("pmo:q:")]
    assert len(choice_buttons) == 20 * 6
    primaries = [Action.decode(e["value"]) for e in choice_buttons if e.get("style") == "primary"]
    assert [a.slots["q"] for a in primaries if a is not None] == [
        f"function_{n:02d}" for n in range(1, 20, 2)
    ]


def test_slack_long_survey_pages_without_parting_a_question_from_its_buttons() -> None:
    messages = render_blocks(survey(tuple(question(f"f{n}") for n in range(30))))
    assert len(messages) == 2
    for blocks in messages:
        assert len(blocks) <= MAX_BLOCKS
        for n, block in enumerate(blocks):
            if block.get("block_id", "").startswith("q:"):
                assert blocks[n - 1]["type"] == "section"
    keys = [b["block_id"] for blocks in messages for b in blocks if b.get("block_id", "").startswith("q:")]
    assert keys == [f"q:f{n}" for n in range(30)]


def test_slack_long_or_repeated_keys_fall_back_to_unique_short_ids() -> None:
    long_key = "k" * 300
    blocks = one_message(survey((question(long_key), question("same"), question("same"))))
    action_ids = [e["action_id"] for e in slack_buttons(blocks)]
    assert action_ids[:6] == [f"pmo:q#0.{m}" for m in range(6)]
    assert action_ids[6:12] == [f"pmo:q:same:{c.value}" for c in CHOICES]
    assert action_ids[12:18] == [f"pmo:q#2.{m}" for m in range(6)]
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == [
        "q#0.0",
        "q:same",
        "q#2.0",
        "pmo_buttons",
    ]
    # The value still names the long key: it is what routes the click.
    decoded = Action.decode(slack_buttons(blocks)[0]["value"])
    assert decoded is not None and decoded.slots["q"] == long_key


def test_slack_question_text_is_escaped() -> None:
    blocks = one_message(survey((question("x", text=SLACK_HOSTILE),)))
    text = blocks[2]["text"]["text"]
    assert text == "*&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; more*"
    assert blocks[2]["text"]["verbatim"] is True


def test_slack_reply_without_survey_is_unchanged() -> None:
    reply = Reply("Plain", (Section(text="Hi"),), (Button("Go", Action("go")),))
    [blocks] = render_blocks(reply)
    assert [b["type"] for b in blocks] == ["header", "section", "actions"]
    assert [e["action_id"] for e in blocks[2]["elements"]] == ["pmo:0"]


def test_slack_modal_structure() -> None:
    modal = render_modal(survey((), comment="Too many meetings"), '{"channel":"D1"}')
    assert View(**modal).to_dict() == modal  # slack_sdk's validators: title, submit, close, blocks
    assert modal["type"] == "modal"
    assert modal["callback_id"] == FORM_CALLBACK_ID == "pmo:form"
    assert modal["title"] == {"type": "plain_text", "text": "Weekly pulse"}
    assert modal["submit"] == {"type": "plain_text", "text": "Send"}
    assert modal["close"]["text"] == "Cancel"
    assert modal["private_metadata"] == '{"channel":"D1"}'
    [block] = modal["blocks"]
    assert block == {
        "type": "input",
        "block_id": "comment",
        "optional": True,
        "label": {"type": "plain_text", "text": "What got in the way?"},
        "element": {
            "type": "plain_text_input",
            "action_id": "comment",
            "multiline": True,
            "max_length": 1000,
            "initial_value": "Too many meetings",
            "placeholder": {"type": "plain_text", "text": "Optional"},
        },
    }


def test_slack_modal_limits() -> None:
    long_form = Form(
        "A very long form title that goes on",
        "Send my answers right now please",
        SUBMIT,
        (TextInput("comment", "Comment", "x" * 50, max_length=10),),
    )
    modal = render_modal(Reply("Pulse", form=long_form), "")
    assert len(modal["title"]["text"]) <= 24 and modal["title"]["text"].endswith("…")
    assert len(modal["submit"]["text"]) <= 24
    assert modal["blocks"][0]["element"]["initial_value"] == "x" * 10
    assert "placeholder" not in modal["blocks"][0]["element"]
    with pytest.raises(ValueError):
        render_modal(three(), "m" * 3001)


def test_slack_modal_without_a_form_shows_the_text_without_submit() -> None:
    modal = render_modal(Reply("Closed", (Section(text="This week's survey has closed."),)), "W23")
    assert "submit" not in modal
    assert [b["text"]["text"] for b in modal["blocks"]] == ["This week's survey has closed."]
    assert View(**modal).to_dict() == modal


def test_form_values_round_trip() -> None:
    modal = render_modal(three(), "")
    # What Slack sends back: state.values[block_id][action_id].
    state = {
        b["block_id"]: {b["element"]["action_id"]: {"type": "plain_text_input", "value": "Late data"}}
        for b in modal["blocks"]
    }
    assert form_values({"id": "V1", "state": {"values": state}}) == {"comment": "Late data"}
    assert form_values({"state": {"values": state}}["state"]) == {"comment": "Late data"}
    empty = {"comment": {"comment": {"type": "plain_text_input", "value": None}}}
    assert form_values({"state": {"values": empty}}) == {"comment": ""}


@pytest.mark.parametrize(
    "view",
    [
        None,
        "view",
        {},
        {"state": None},
        {"state": {"values": ["comment"]}},
        {"state": {"values": {"comment": "text"}}},
        {"state": {"values": {"comment": {"comment": 5}}}},
        {"state": {"values": {"comment": {"comment": {"value": 5}}}}},
    ],
)
def test_form_values_of_malformed_state_is_empty(view: object) -> None:
    assert form_values(view) == {}


def test_form_values_keeps_what_it_can() -> None:
    values = {"bad": [1], "comment": {"comment": {"value": "ok"}, "other": {"value": ["x"]}}}
    assert form_values({"state": {"values": values}}) == {"comment": "ok"}


# -- Teams ----------------------------------------------------------------------------------------


def teams_elements(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in card["body"] if e["type"] == kind]


def form_submit(card: dict[str, Any]) -> dict[str, Any]:
    [action_set] = teams_elements(card, "ActionSet")
    [submit] = action_set["actions"]
    return dict(submit)


def test_teams_survey_is_one_card_of_choice_sets_inputs_and_submit() -> None:
    [card] = render_cards(three())
    types = [e["type"] for e in card["body"]]
    assert types == ["TextBlock", "TextBlock"] + ["TextBlock", "Input.ChoiceSet"] * 3 + [
        "Input.Text",
        "ActionSet",
    ]
    assert card["body"][2]["text"] == "How well did reporting work for you this week?"
    sets = teams_elements(card, "Input.ChoiceSet")
    assert [s["id"] for s in sets] == ["q:reporting", "q:risks", "q:planning"]
    assert [s.get("value") for s in sets] == [None, "4", None]
    assert all(s["style"] == "expanded" and s["isRequired"] is False for s in sets)
    assert sets[0]["choices"] == [
        {"type": "Input.Choice", "title": c.label, "value": c.value} for c in CHOICES
    ]


def test_teams_text_input_and_submit() -> None:
    [card] = render_cards(survey((question("reporting"),), comment="Too many meetings"))
    [text] = teams_elements(card, "Input.Text")
    assert text == {
        "type": "Input.Text",
        "id": "comment",
        "label": "What got in the way?",
        "isMultiline": True,
        "isRequired": False,
        "maxLength": 1000,
        "value": "Too many meetings",
        "placeholder": "Optional",
    }
    submit = form_submit(card)
    assert submit["type"] == "Action.Submit"
    assert submit["title"] == "Send"
    assert submit["data"] == {DATA_KEY: SUBMIT.encode()}
    # The reply's other buttons stay card actions and do not send the answers.
    [skip] = card["actions"]
    assert skip["title"] == "Not this week" and skip["associatedInputs"] == "none"


def test_teams_twenty_questions_fit_one_card() -> None:
    [card] = render_cards(twenty())
    assert len(json.dumps(card)) <= MAX_CARD_BYTES
    sets = teams_elements(card, "Input.ChoiceSet")
    assert [s["id"] for s in sets] == [f"q:function_{n:02d}" for n in range(20)]
    assert [s.get("value") for s in sets] == ["3" if n % 2 else None for n in range(20)]
    assert {s["style"] for s in sets} == {"compact"}
    assert card["body"][-1]["type"] == "ActionSet"


def test_teams_huge_survey_keeps_a_submit_with_every_part() -> None:
    long_text = "How well did this work for you, considering everything that happened? " * 20
    reply = survey(tuple(question(f"f{n:02d}", text=long_text) for n in range(30)))
    cards = render_cards(reply)
    assert len(cards) > 1
    ids = []
    for card in cards:
        assert len(json.dumps(card)) <= MAX_CARD_BYTES
        inputs = [e for e in card["body"] if e["type"].startswith("Input.")]
        if inputs:
            assert card["body"][-1]["type"] == "ActionSet"
            assert form_submit(card)["data"] == {DATA_KEY: SUBMIT.encode()}
        ids.extend(e["id"] for e in inputs)
    assert ids == [f"q:f{n:02d}" for n in range(30)] + ["comment"]


def test_teams_decode_submit_merges_inputs_into_slots() -> None:
    value = {
        DATA_KEY: SUBMIT.encode(),
        "q:reporting": "4",
        "q:risks": "na",
        "comment": "Late data",
        "msteams": {"text": "x"},
        "count": 3,  # an Input.Number may come as a number: read as its text
        "share": 0.5,
        "flag": True,  # not an input of ours
        "k" * (MAX_SLOT_KEY + 1): "too long a key",
        "long": "y" * 5000,
        # An input cannot overwrite a slot the bot encoded.
        "survey": "forged",
    }
    assert decode_submit(value) == Action(
        "survey_submit",
        {
            "survey": "2025-W23",
            "q:reporting": "4",
            "q:risks": "na",
            "comment": "Late data",
            "count": "3",
            "share": "0.5",
            "long": "y" * MAX_SLOT_VALUE,
        },
    )


def test_teams_decode_submit_of_a_plain_button_is_unchanged() -> None:
    action = Action("survey_skip", {"survey": "2025-W23"}, part="2")
    assert decode_submit({DATA_KEY: action.encode()}) == action
    assert decode_submit({"q:reporting": "4"}) is None
    assert decode_submit({DATA_KEY: "not json", "comment": "x"}) is None


def test_teams_question_text_is_escaped_and_inputs_cannot_take_the_data_key() -> None:
    hostile_form = Form(
        "Pulse", "Send", SUBMIT, (TextInput(DATA_KEY, "Sneaky"), TextInput("comment", "Why?"))
    )
    reply = Reply("Pulse", questions=(question("x", text=TEAMS_HOSTILE),), form=hostile_form)
    [card] = render_cards(reply)
    [text] = [e["text"] for e in teams_elements(card, "TextBlock") if ZWSP in e["text"]]
    assert "](" not in text and "<at>" not in text and "{{" not in text
    assert text.replace(ZWSP, "") == TEAMS_HOSTILE
    assert [e["id"] for e in teams_elements(card, "Input.Text")] == ["comment"]


def test_teams_reply_without_survey_is_unchanged() -> None:
    [card] = render_cards(Reply("Plain", buttons=(Button("Go", Action("go")),)))
    assert card["actions"] == [
        {"type": "Action.Submit", "title": "Go", "data": {DATA_KEY: Action("go").encode()}}
    ]
    assert [e["type"] for e in card["body"]] == ["TextBlock"]
