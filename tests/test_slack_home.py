"""The Slack App Home end to end: signed ``app_home_opened`` events and Home clicks into a running
server, the operator's CLI in a process of its own, and the Web API answered by the fake Slack.

Home shows the person's open survey (answered from Home, and drawn again showing what was
recorded), the latest digest of their team to PMO admins and to the team's digest channel only,
and buttons for the common questions, within Slack's limits for a view."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from adapters.slack.blocks import MAX_BUTTON_TEXT, MAX_HEADER, MAX_TEXT
from adapters.slack.home import HOME_CROWDED, home_view
from bot.core import HOME_DIGEST
from bot.reply import Action, Button, Choice, Question, Reply, Section
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_USER, TEAM
from tests.test_survey_slack import (
    ADMIN,
    PEOPLE,
    SERVICES,
    Running,
    buttons,
    slack_server,
    survey_post,
)

MEMBERS = [*PEOPLE[:6], ADMIN]  # the admin is on the team too
DIGEST_CHANNEL = "C0DIGEST01"  # the team's digest channel, as teams_file writes it
COMMON = ["Check a risk register", "PMO functions", "A role's competencies", "Where to develop next"]
_EVENT_IDS = itertools.count(1)


@pytest.fixture
async def running(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Running]:
    async with slack_server(kb, tmp_path, members=MEMBERS) as made:
        yield made


@pytest.fixture
async def no_surveys(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Running]:
    async with slack_server(kb, tmp_path, members=MEMBERS, surveys=False) as made:
        yield made


# -- helpers -------------------------------------------------------------------------------------


def published(running: Running, user: str) -> list[dict[str, Any]]:
    """The Home views published for ``user``, oldest first."""
    return [c.body["view"] for c in running.fake.of("views.publish") if c.body.get("user_id") == user]


async def open_home(running: Running, user: str) -> dict[str, Any]:
    """The person opens the app's Home tab; returns the view published for it."""
    before = len(published(running, user))
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
             "event_ts": f"{time.time():.6f}"}  # fmt: skip
    envelope = {"type": "event_callback", "team_id": TEAM, "api_app_id": "A0APP",
                "event_id": f"EvHome{next(_EVENT_IDS)}", "event": event}  # fmt: skip
    assert (await running.post(json.dumps(envelope), "application/json")).status == 200
    return await next_view(running, user, before)


async def next_view(running: Running, user: str, before: int) -> dict[str, Any]:
    total = len(running.fake.of("views.publish"))
    await running.fake.wait_for("views.publish", total + 1, timeout=20)
    views = published(running, user)
    assert len(views) > before, "Home was published for someone else"
    return views[-1]


async def click_on_home(running: Running, user: str, button: dict[str, Any]) -> None:
    """A click on a button of the Home tab: the payload names the view, and there is no channel
    or response URL to answer under."""
    response = await running.interact(
        {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user},
            "api_app_id": "A0APP",
            "trigger_id": f"trigger-{user}",
            "container": {"type": "view", "view_id": "V0HOME0001"},
            "view": {"id": "V0HOME0001", "type": "home", "blocks": [], "hash": "1.1"},
            "actions": [{**button, "type": "button", "block_id": "b", "action_ts": "1"}],
        }
    )
    assert response.status == 200


async def dm_count(running: Running, user: str, count: int, timeout: float = 10) -> None:
    """Wait until ``count`` messages have reached the person's DM."""
    deadline = time.monotonic() + timeout
    while len(running.fake.messages(user)) < count:
        assert time.monotonic() < deadline, texts([m.blocks for m in running.fake.messages(user)])
        await asyncio.sleep(0.02)


def texts(value: Any) -> str:
    """Every text a person sees in blocks, one a line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "text" and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return "\n".join(found)


def button_named(view: dict[str, Any], label: str) -> dict[str, Any]:
    for block in view["blocks"]:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no button {label!r} on Home: {texts(view)}")


def check_limits(view: dict[str, Any]) -> None:
    """What Slack refuses in a Home view: over 100 blocks, texts over their limits, a block id
    twice, an action id twice in a block. slack_sdk's own models check the rest."""
    assert view["type"] == "home"
    blocks = view["blocks"]
    assert 0 < len(blocks) <= 100
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))
    for block in blocks:
        assert block["type"] in {"header", "section", "context", "actions", "divider"}
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_TEXT
        if block["type"] == "context":
            assert all(len(e["text"]) <= MAX_TEXT for e in block["elements"])
        if block["type"] == "actions":
            elements = block["elements"]
            assert len(elements) <= 25
            assert len({e["action_id"] for e in elements}) == len(elements)
            assert all(len(e["text"]["text"]) <= MAX_BUTTON_TEXT for e in elements)
            assert all(len(e["value"]) <= 2000 for e in elements)
    View(**view).validate_json()
    for block in View(**view).blocks or []:
        block.to_dict()  # validates each block and what it holds


async def close_with_answers(running: Running) -> None:
    """A closed run: three members answered in their DMs (reporting 2, governance 4), enough for
    scores (the team's min_responses is 3)."""
    code, _, err = await running.cli("survey", "open", "--team", "t")
    assert code == 0, err
    for n, person in enumerate(PEOPLE[:3]):
        mine = buttons(survey_post(running.fake, person)["blocks"])
        for question, value in (("reporting", "2"), ("governance", "4")):
            await running.click(person, mine[(question, value)], running.fake.response_url(f"d-{n}"))
    await running.fake.wait_for("response_url", 6, timeout=20)
    code, out, err = await running.cli("survey", "close", "--team", "t")
    assert code == 0 and "Posted the digest" in out, err


# -- the journeys --------------------------------------------------------------------------------


async def test_a_member_answers_their_open_survey_on_home_and_home_shows_it_recorded(
    running: Running,
) -> None:
    code, _, err = await running.cli("survey", "open", "--team", "t")
    assert code == 0, err
    person = PEOPLE[0]
    view = await open_home(running, person)
    check_limits(view)
    shown = texts(view)
    assert "Delivery PMO weekly PMO pulse" in shown and "Recorded" not in shown
    choices = buttons(view["blocks"])
    assert {q for q, _ in choices} == set(SERVICES)
    for label in COMMON:
        button_named(view, label)

    before = len(published(running, person))
    await click_on_home(running, person, choices[("reporting", "4")])
    redrawn = await next_view(running, person, before)
    check_limits(redrawn)
    assert "Recorded: 1 of 3 services" in texts(redrawn)
    chosen = [e for b in redrawn["blocks"] for e in b.get("elements") or [] if e.get("style") == "primary"]
    assert [(Action.decode(e["value"]) or Action("")).slots.get("v") for e in chosen] == ["4"]
    with running.storage.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT function_id, score FROM survey_responses").fetchall()
    assert rows == [("reporting", 4)]
    # Home shows what was recorded: nothing more is sent to the person's DM than the invitation.
    assert len(running.fake.messages(person)) == 1
    assert running.fake.of("conversations.open") == []

    # A change of mind from Home counts once.
    before = len(published(running, person))
    await click_on_home(running, person, buttons(redrawn["blocks"])[("reporting", "5")])
    again = await next_view(running, person, before)
    assert "Recorded: 1 of 3 services" in texts(again)
    with running.storage.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT function_id, score FROM survey_responses").fetchall()
    assert rows == [("reporting", 5)]


async def test_a_pick_on_home_after_the_survey_closed_is_refused_in_a_dm_and_home_drops_it(
    running: Running,
) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    person = PEOPLE[1]
    view = await open_home(running, person)
    assert (await running.cli("survey", "close", "--team", "t"))[0] == 0
    before = len(published(running, person))
    await click_on_home(running, person, buttons(view["blocks"])[("governance", "3")])
    redrawn = await next_view(running, person, before)
    assert buttons(redrawn["blocks"]) == {} and "No survey is waiting for you" in texts(redrawn)
    await dm_count(running, person, 2)
    told = running.fake.messages(person)[-1]
    assert "This survey closed on" in texts(told.blocks)
    with running.storage.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM survey_responses").scalar() == 0


async def test_an_admin_sees_the_last_digest_on_home_and_can_open_it_in_full(running: Running) -> None:
    await close_with_answers(running)
    view = await open_home(running, ADMIN)
    check_limits(view)
    shown = texts(view)
    assert "Delivery PMO: PMO pulse, week " in shown
    assert "Invited 7, reached 7, answered 3" in shown
    assert "Reporting: 2.0 out of 5" in shown and "Governance: 4.0 out of 5" in shown
    assert "You see this as a PMO admin." in shown
    # The summary leads to the full digest, sent to the admin's DM.
    await click_on_home(running, ADMIN, button_named(view, "Show the full digest"))
    await dm_count(running, ADMIN, 2)  # the invitation, then the digest
    full = texts([m.blocks for m in running.fake.messages(ADMIN)[1:]])
    assert "Delivery PMO: PMO pulse, week " in full and "4.0" in full and "2.0" in full


async def test_a_digest_channel_member_sees_the_digest_and_a_member_outside_it_does_not(
    running: Running,
) -> None:
    await close_with_answers(running)
    inside, outside = PEOPLE[1], PEOPLE[2]  # both on the team and answered; neither an admin
    running.fake.channel_members[DIGEST_CHANNEL] = [BOT_USER, inside, "U0SOMEONE1"]

    view = await open_home(running, inside)
    check_limits(view)
    shown = texts(view)
    assert "answered 3" in shown and "Reporting: 2.0 out of 5" in shown
    assert "You see this as a member of the team's digest channel." in shown

    view = await open_home(running, outside)
    check_limits(view)
    shown = texts(view)
    for score_text in ("2.0", "4.0", "out of 5", "answered", "PMO pulse", "Show the full digest"):
        assert score_text not in shown
    assert "No survey is waiting for you" in shown
    for label in COMMON:
        button_named(view, label)

    # Someone in the channel but not on the team is not shown the team's digest on their Home,
    # until they join the team (here through the channel its members come from).
    stranger = await open_home(running, "U0SOMEONE1")
    assert "out of 5" not in texts(stranger)
    running.fake.channel_members["C0TEAMCH01"] = [BOT_USER, "U0SOMEONE1"]
    config = running.tmp / "pmo-bot.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("    digest_channel:", "    members_from_channel: C0TEAMCH01\n    digest_channel:"),
        encoding="utf-8",
    )
    joined = await open_home(running, "U0SOMEONE1")
    assert "Reporting: 2.0 out of 5" in texts(joined)
    # Channels' members are kept for a while: opening Home again asks Slack nothing more.
    await open_home(running, inside)
    asked = [c.body["channel"] for c in running.fake.of("conversations.members")]
    assert sorted(asked) == ["C0DIGEST01", "C0TEAMCH01"]

    # A forged "Show the full digest" from outside the channel shows no score either.
    forged = {"action_id": "pmo:0", "value": Action(HOME_DIGEST, {"team": "t"}).encode(),
              "text": {"type": "plain_text", "text": "Show the full digest"}}  # fmt: skip
    await click_on_home(running, outside, forged)
    await dm_count(running, outside, 2)
    told = texts(running.fake.messages(outside)[-1].blocks)
    assert "Digests are shown to PMO admins" in told and "2.0" not in told and "answered" not in told


async def test_without_surveys_home_shows_the_common_questions_only(no_surveys: Running) -> None:
    view = await open_home(no_surveys, PEOPLE[0])
    check_limits(view)
    shown = texts(view)
    assert "Pulse surveys are not set up here" in shown
    assert buttons(view["blocks"]) == {}
    assert "Show the full digest" not in shown
    for label in [*COMMON, "My pulse survey"]:
        button_named(view, label)
    # A common question asked from Home is answered in a DM.
    await click_on_home(no_surveys, PEOPLE[0], button_named(view, "PMO functions"))
    (post,) = await no_surveys.fake.wait_for("chat.postMessage")
    assert "Which function?" in texts(post.body["blocks"])


async def test_home_with_three_long_surveys_keeps_within_slack_limits(
    running: Running, kb: KnowledgeBase
) -> None:
    # Three teams, every service the knowledge base has: three surveys of 22 questions cannot all
    # fit in 100 blocks.
    services = list(kb.functions)
    person = PEOPLE[0]
    config = running.tmp / "pmo-bot.yaml"
    config.write_text(
        "teams:\n"
        + "".join(
            f"  - id: t{n}\n    name: Team {n} {'with a very long name ' * 8}\n    platform: slack\n"
            f"    members: [{person}]\n    digest_channel: {DIGEST_CHANNEL}\n"
            f"    services: [{', '.join(services)}]\n"
            for n in range(1, 4)
        ),
        encoding="utf-8",
    )
    for n in range(1, 4):
        code, _, err = await running.cli("survey", "open", "--team", f"t{n}")
        assert code == 0, err
    view = await open_home(running, person)
    check_limits(view)
    shown = texts(view)
    assert HOME_CROWDED in shown
    assert len({q for q, _ in buttons(view["blocks"])}) == len(services)  # one survey whole
    for label in COMMON:
        button_named(view, label)


def test_the_home_view_stays_within_limits_whatever_it_is_given() -> None:
    def render(reply: Reply) -> Any:
        from adapters.slack.blocks import render_blocks

        return render_blocks(reply), reply.title

    pick = Action("survey_answer", {"run": "1"})
    choices = tuple(Choice(str(n), str(n)) for n in range(1, 6))
    long = "word " * 2000
    survey = Reply(
        "A survey " * 40,
        (Section(text=long),),
        questions=tuple(Question(f"q{n}", long, choices, pick) for n in range(30)),
    )
    digest = Reply(
        "A digest " * 40,
        (Section("Lowest", long, tuple(long for _ in range(5))),),
        buttons=(Button("Show the full digest " * 10, Action(HOME_DIGEST, {"team": "x" * 3000})),),
    )
    common = Reply("Ask me", (Section(text="Ask"),), buttons=(Button("Go", Action("help")),))
    view = home_view([survey, digest, digest, digest, common], render, time.time())
    check_limits(view)
    shown = texts(view)
    assert HOME_CROWDED in shown and "Ask" in shown
