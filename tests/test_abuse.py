"""Bad input and abuse (issue 15), over the real platform paths on loopback.

Rate limits: one person's flood is refused with one friendly line while a second person at the same
moment is answered as usual; the budget refills as a test clock moves; file reviews have a tighter
budget of their own; a refused survey answer says it was not recorded. Admin rights: every admin
path (``/pmo survey open|close|remind|status``, ``/pmo pulse ...``, ``/pmo digest`` of another
team) refuses a person who is not an admin, on Slack, Teams and the web chat, and the database is
left as it was.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.limits import FILES, TURNS, Buckets, Budget, Limits
from bot.settings import Settings
from bot.storage import Storage
from bot.turn import Turn
from knowledge.base import KnowledgeBase
from tests.fake_connector import FakeConnector, Sent
from tests.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.loopback import serve
from tests.test_survey_slack import PEOPLE, buttons, survey_post, teams_file
from tests.test_survey_slack import SECRET as SLACK_SECRET
from tests.test_survey_slack import Running as SlackRunning
from tests.test_survey_teams import (
    ANN,
    BOB,
    BOT,
    CHANNEL,
    TENANT,
    Person,
    Stack,
    send_data,
    text_of,
    write_config,
)
from tests.web_client import ADMIN as WEB_ADMIN
from tests.web_client import RISK_REGISTER, browser, one_line_error, register_csv, served, sqlite, titles

TOO_FAST = "You're going faster than I can keep up with: please try again in a second."
NOT_RECORDED = (
    "That was a lot of clicks at once, so your answer was not recorded: please try again in a second."
)
TOO_MANY_FILES = "That's more files than I review at once: please send it again in 20 seconds."
SLACK_ADMIN = "U0ADMIN001"
FAY = Person("fay")  # the Teams admin


class Clock:
    """A clock the test moves by hand: budgets refill only when it says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.asynccontextmanager
async def server(kb: KnowledgeBase, values: dict[str, str], clock: Clock) -> AsyncIterator[tuple[Parts, str]]:
    """The real ``serve`` app on a free loopback port, over a bot whose clock is ``clock``."""
    storage = Storage(values["DATABASE_URL"])
    storage.upgrade()
    parts = Parts(Settings.model_validate(values), Bot(kb, clock=clock), storage)
    runner, port = await serve(build_app(parts))
    try:
        yield parts, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# The team set-up commands, each refused to a non-admin like the run commands.
SETUP_COMMANDS = (
    "/pmo survey setup",
    "/pmo survey setup t",
    "/pmo survey list",
    "/pmo survey pause t",
    "/pmo survey resume t",
    "/pmo survey preview t",
    "/pmo survey history t",
    "/pmo survey remove t",
)


def snapshot(storage: Storage) -> dict[str, list[tuple[Any, ...]]]:
    """What the survey tables hold: runs (and whether reminded or closed), the outbox, answers."""
    columns = {
        "survey_runs": "id, period_key, state, reminded_at, closed_at",
        "survey_outbox": "id, kind, recipient, state",
        "survey_responses": "run_id, respondent, function_id, score",
        "survey_comments": "run_id, respondent, text",
        "survey_teams": "id, definition, paused_at, resumed_at",
        "survey_team_changes": "id, team_id, action",
    }
    with storage.engine.connect() as connection:
        return {
            table: sorted(
                (tuple(row) for row in connection.exec_driver_sql(f"SELECT {cols} FROM {table}")), key=repr
            )
            for table, cols in columns.items()
        }


def answers(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM survey_responses").scalar()
    return int(count or 0)


# -- the limiter itself ---------------------------------------------------------------------------


def test_a_budget_refills_with_time_and_the_table_stays_bounded() -> None:
    clock = Clock()
    buckets = Buckets("turns", Budget(burst=3, per_s=1.0), clock, limit=100)
    assert [buckets.take("slack:U1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("slack:U1") == pytest.approx(1.0)
    assert buckets.take("slack:U2") == 0.0  # someone else is untouched
    clock.advance(0.5)
    assert buckets.take("slack:U1") == pytest.approx(0.5)  # half a request earned: not yet
    clock.advance(0.5)
    assert buckets.take("slack:U1") == 0.0
    clock.advance(-60)  # a clock stepped back takes nothing away and gives nothing
    assert buckets.take("slack:U2") == 0.0

    # Ten thousand people at once: never more buckets than the limit.
    for n in range(10_000):
        buckets.take(f"web:{n:032x}")
        assert len(buckets) <= 100
    # Once everyone's bucket has filled up again, the next request finds all of them gone.
    clock.advance(3.0)
    assert buckets.take("slack:U3") == 0.0
    assert len(buckets) == 1


def test_a_turn_with_no_person_is_never_limited() -> None:
    limits = Limits(Budget(1, 0.001), Budget(1, 0.001), clock=Clock())
    local = Turn.local("me")
    assert all(limits.turn(local) is None and limits.file(local) is None for _ in range(50))
    person = Turn("slack", "U1", "D1")
    assert limits.turn(person) is None
    refused = limits.turn(person, answer=True)
    assert refused is not None and "your answer was not recorded" in refused.title
    assert refused.sections == () and "\n" not in refused.title


# -- the web chat ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def web_chat(kb: KnowledgeBase, tmp_path: Path, clock: Clock) -> AsyncIterator[str]:
    values = {
        "DATABASE_URL": sqlite(tmp_path),
        "PMO_CONFIG": str(tmp_path / "none.yaml"),
        "PMO_SCHEDULER": "off",
    }
    async with server(kb, values, clock) as (_, base):
        yield base


async def test_one_browser_flooding_is_refused_while_another_is_answered(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    clock = Clock()
    async with web_chat(kb, tmp_path, clock) as base, browser(base) as flooder, browser(base) as other:
        for _ in range(int(TURNS.burst)):
            assert (await flooder.post("/web/message", json={"text": "help"})).status == 200
        refused = await flooder.post("/web/message", json={"text": "what should I check in a risk register?"})
        assert refused.status == 429 and refused.headers["Retry-After"] == "1"
        assert one_line_error(await refused.json()) == TOO_FAST
        # Clicks draw on the same budget.
        clicked = await flooder.post("/web/action", json={"action": RISK_REGISTER.encode()})
        assert clicked.status == 429
        # The other browser, at the same moment, is answered as usual.
        assert titles(await other.say("what should I check in a risk register?")) == [
            "Checking a risk register"
        ]
        assert titles(await other.click(RISK_REGISTER)) == ["Checking a risk register"]
        clock.advance(1.0)
        assert titles(await flooder.say("what should I check in a risk register?")) == [
            "Checking a risk register"
        ]
        assert (await flooder.post("/web/message", json={"text": "help"})).status == 429


async def test_file_reviews_have_a_tighter_budget_of_their_own(kb: KnowledgeBase, tmp_path: Path) -> None:
    clock = Clock()
    register = register_csv("Supplier late", "Ana")
    async with web_chat(kb, tmp_path, clock) as base, browser(base) as flooder, browser(base) as other:
        await flooder.say("help")  # the browser's id, kept from here on
        for n in range(int(FILES.burst)):
            assert (await flooder.upload(f"register-{n}.csv", register)).status == 200
        refused = await flooder.upload("register-x.csv", register)
        assert refused.status == 429 and refused.headers["Retry-After"] == "20"
        assert one_line_error(await refused.json()) == TOO_MANY_FILES
        # Questions are still answered: they have a budget of their own.
        assert titles(await flooder.say("what should I check in a risk register?")) == [
            "Checking a risk register"
        ]
        assert (await other.upload("register.csv", register)).status == 200
        clock.advance(19.0)
        assert (await flooder.upload("register-x.csv", register)).status == 429
        clock.advance(1.0)
        reviewed = await flooder.upload("register-x.csv", register)
        assert reviewed.status == 200 and (await reviewed.json())["messages"][0]["intent"] == "review"


# -- Slack ----------------------------------------------------------------------------------------


@pytest.fixture
async def slack(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[tuple[SlackRunning, Clock]]:
    """A Slack server with one team of PEOPLE and one admin, and the clock its bot keeps."""
    fake = FakeSlack()
    await fake.start()
    teams_file(tmp_path / "pmo-bot.yaml", PEOPLE)
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": fake.api_url,
        "PMO_CONFIG": str(tmp_path / "pmo-bot.yaml"),
        "PMO_ADMINS": f"slack:{SLACK_ADMIN}",
        "PMO_SCHEDULER": "off",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
    env.update(values)
    clock = Clock()
    try:
        async with server(kb, values, clock) as (parts, url), aiohttp.ClientSession() as session:
            assert parts.storage is not None
            yield SlackRunning(fake, url, env, tmp_path, parts.storage, session), clock
    finally:
        await fake.stop()


def said(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


async def exhaust(slack: SlackRunning, person: str) -> None:
    """Spend ``person``'s budget with slash commands, until one is refused."""
    for _ in range(int(TURNS.burst) + 1):
        if TOO_FAST in said(await slack.command(person, "help")):
            return
    raise AssertionError(f"{person} was never refused")


async def test_one_slack_user_flooding_is_refused_while_another_is_answered(
    slack: tuple[SlackRunning, Clock],
) -> None:
    running, clock = slack
    flooder, other = PEOPLE[0], PEOPLE[1]
    for _ in range(int(TURNS.burst)):
        assert "PMO Analyst: what the role does" in said(await running.command(flooder, "role analyst"))
    refused = await running.command(flooder, "role analyst")
    assert TOO_FAST in said(refused) and "PMO Analyst" not in said(refused)
    assert "PMO Analyst: what the role does" in said(await running.command(other, "role analyst"))
    # A DM from the flooder is refused too, and nothing else is posted.
    event = {"type": "message", "channel": running.fake.dm_channel(flooder), "channel_type": "im",
             "user": flooder, "text": "role analyst", "ts": "1.1", "team": TEAM}  # fmt: skip
    envelope = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev0FLOOD01", "event": event}
    assert (await running.post(json.dumps(envelope), "application/json")).status == 200
    (posted,) = await running.fake.wait_for("chat.postMessage")
    assert TOO_FAST in said(posted.body) and "PMO Analyst" not in said(posted.body)
    clock.advance(1.0)
    assert "PMO Analyst: what the role does" in said(await running.command(flooder, "role analyst"))


async def test_a_refused_slack_survey_answer_says_it_was_not_recorded(
    slack: tuple[SlackRunning, Clock],
) -> None:
    running, clock = slack
    code, _, err = await running.cli("survey", "open", "--team", "t")
    assert code == 0, err
    person, other = PEOPLE[2], PEOPLE[3]
    post = survey_post(running.fake, person)
    opener = next(
        e for b in post["blocks"] for e in b.get("elements") or []
        if '"survey_form"' in (e.get("value") or "")
    )  # fmt: skip
    await running.click(person, opener, running.fake.response_url("form"))
    (opened,) = await running.fake.wait_for("views.open")
    await exhaust(running, person)

    mine = buttons(post["blocks"])
    await running.click(person, mine[("reporting", "4")], running.fake.response_url("refused"))
    (refused,) = await running.fake.wait_for("response_url")
    assert NOT_RECORDED in said(refused.body)
    assert refused.body.get("replace_original") is not True  # the survey stays, to be answered again
    # The comment form sent now is refused the same way: said in a message, the survey left alone.
    state = {"values": {"comment": {"comment": {"type": "plain_text_input", "value": "Too slow"}}}}
    view = {**opened.body["view"], "state": state}
    form = {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": person}, "view": view}
    assert (await running.interact(form)).status == 200
    (note,) = (await running.fake.wait_for("chat.postMessage", len(PEOPLE) + 1))[len(PEOPLE) :]
    assert note.body["channel"] == person and NOT_RECORDED in said(note.body)
    assert running.fake.of("chat.update") == []

    # Someone else answering at the same moment is recorded as usual.
    theirs = buttons(survey_post(running.fake, other)["blocks"])
    await running.click(other, theirs[("reporting", "2")], running.fake.response_url("other"))
    recorded = (await running.fake.wait_for("response_url", 2))[1]
    assert recorded.body["replace_original"] is True and "Recorded: 1 of 3 services" in said(recorded.body)
    assert snapshot(running.storage)["survey_comments"] == []
    assert answers(running.storage) == 1

    clock.advance(1.0)
    await running.click(person, mine[("reporting", "4")], running.fake.response_url("again"))
    again = (await running.fake.wait_for("response_url", 3))[2]
    assert "Recorded: 1 of 3 services" in said(again.body)
    assert answers(running.storage) == 2


async def test_slack_admin_commands_refuse_a_non_admin_on_every_path(
    slack: tuple[SlackRunning, Clock],
) -> None:
    running, _ = slack
    fake = running.fake
    ids = itertools.count(1)

    async def in_dm(person: str, text: str) -> str:
        before = len(fake.of("chat.postMessage"))
        event = {"type": "message", "channel": fake.dm_channel(person), "channel_type": "im",
                 "user": person, "text": text, "ts": f"{next(ids)}.1", "team": TEAM}  # fmt: skip
        envelope = {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev0DM{next(ids):05d}",
            "event": event,
        }
        assert (await running.post(json.dumps(envelope), "application/json")).status == 200
        posted = (await fake.wait_for("chat.postMessage", before + 1))[before]
        assert posted.body["channel"] == fake.dm_channel(person)
        return said(posted.body)

    async def mentioned(person: str, text: str) -> str:
        before = len(fake.of("chat.postMessage"))
        ts = f"{next(ids)}.2"
        event = {"type": "app_mention", "channel": "C0CHAN0001", "user": person,
                 "text": f"<@U0BOT00001> {text}", "ts": ts, "team": TEAM}  # fmt: skip
        envelope = {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev0AT{next(ids):05d}",
            "event": event,
        }
        assert (await running.post(json.dumps(envelope), "application/json")).status == 200
        posted = (await fake.wait_for("chat.postMessage", before + 1))[before]
        assert posted.body["thread_ts"] == ts
        return said(posted.body)

    async def slash(person: str, text: str) -> str:
        return said(await running.command(person, text.removeprefix("/pmo ")))

    # Nobody but an admin opens a survey: no run, no invitation.
    for ask, person in ((slash, PEOPLE[0]), (in_dm, PEOPLE[1]), (mentioned, PEOPLE[2])):
        assert "Only PMO admins can do that" in await ask(person, "/pmo survey open t")
    assert snapshot(running.storage)["survey_runs"] == []
    assert [c for c in fake.of("chat.postMessage") if c.body["channel"] in PEOPLE] == []

    code, _, err = await running.cli("survey", "open", "--team", "t")
    assert code == 0, err
    before, posts = snapshot(running.storage), len(fake.of("chat.postMessage"))
    commands = ["/pmo survey close t", "/pmo survey remind t", "/pmo survey status t", "/pmo pulse close t",
                "/pmo survey open t", *SETUP_COMMANDS]  # fmt: skip
    for ask, person in ((slash, PEOPLE[0]), (in_dm, PEOPLE[1]), (mentioned, PEOPLE[2])):
        for command in commands:
            refused = await ask(person, command)
            assert "Only PMO admins can do that" in refused and "answered" not in refused, (command, refused)
        refused = await ask(person, "/pmo digest t")  # another team's digest, outside its channel
        assert "Digests are shown in the team's channel" in refused
    assert snapshot(running.storage) == before
    # The only posts since are the refusals themselves (a DM and a thread reply each): no reminder.
    assert all(c.body["channel"] not in PEOPLE for c in fake.of("chat.postMessage")[posts:])
    # The admin is answered (status changes nothing).
    assert "Invited 20, reached 20, answered 0" in await slash(SLACK_ADMIN, "/pmo survey status t")
    assert snapshot(running.storage) == before


# -- Teams ----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def teams(kb: KnowledgeBase, tmp_path: Path, clock: Clock) -> AsyncIterator[Stack]:
    """A Teams server (local mode) with one team of Ann, Bob and Fay, Fay its admin."""
    fake = FakeConnector()
    await fake.start()
    config = tmp_path / "pmo-bot.yaml"
    write_config(config, members=[ANN.id, BOB.id, FAY.id])
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "PMO_CONFIG": str(config),
        "PMO_SCHEDULER": "off",
        "PMO_ADMINS": f"teams:{FAY.id}",
        "PMO_DEMO": "off",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
    env.pop("DATABASE_URL", None)
    env.update(values, PMO_TEAMS_RATE="1000")
    try:
        async with server(kb, values, clock) as (parts, url), aiohttp.ClientSession() as session:
            assert parts.storage is not None
            stack = Stack(fake, url, parts, parts.storage, session, tmp_path, env)
            for person in (ANN, BOB, FAY):
                await stack.install(person)
            yield stack
    finally:
        await fake.stop()


async def say(stack: Stack, person: Person, text: str, **fields: Any) -> Sent:
    """``person`` says ``text`` in their personal chat (or where ``fields`` say); the one reply."""
    before = len(stack.fake.sent)
    assert await stack.post(stack.activity(person, text=text, **fields)) == 201
    (reply,) = stack.fake.sent[before:]
    return reply


async def test_a_teams_flood_is_refused_and_a_refused_card_says_nothing_was_recorded(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    clock = Clock()
    async with teams(kb, tmp_path, clock) as stack:
        await stack.ok("open", "--team", "t")
        ann_card, bob_card = stack.card_id("invite", ANN), stack.card_id("invite", BOB)
        invites = {s.conversation: s for s in stack.fake.posts() if "weekly PMO pulse" in text_of(s.body)}
        data = send_data(invites[ANN.conversation].body)
        for _ in range(int(TURNS.burst)):
            assert "PMO Analyst: what the role does" in text_of((await say(stack, ANN, "role analyst")).body)
        assert text_of((await say(stack, ANN, "role analyst")).body) == TOO_FAST

        # Ann's card, sent now, is answered with a new message saying so; the card stays as it was.
        updates = len(stack.fake.updates())
        before = len(stack.fake.sent)
        assert await stack.submit(ANN, ann_card, data, **{"q:reporting": "5"}, comment="") == 201
        (note,) = stack.fake.sent[before:]
        assert note.method == "POST" and text_of(note.body) == NOT_RECORDED
        assert len(stack.fake.updates()) == updates and stack.status()["answered"] == 0

        # Bob, at the same moment, is recorded and his card redrawn.
        assert await stack.submit(BOB, bob_card, data, **{"q:reporting": "3"}, comment="") == 201
        assert "Recorded: 1 of 3 services." in text_of(stack.fake.updates()[-1].body)
        assert stack.status()["answered"] == 1

        clock.advance(1.0)
        assert await stack.submit(ANN, ann_card, data, **{"q:reporting": "5"}, comment="") == 201
        put = stack.fake.updates()[-1]
        assert put.reply_to == ann_card and "Recorded: 1 of 3 services." in text_of(put.body)
        assert stack.status()["answered"] == 2


async def test_teams_admin_commands_refuse_a_non_admin_on_every_path(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    clock = Clock()
    async with teams(kb, tmp_path, clock) as stack:
        channel = {
            "conversation": {"isGroup": True, "conversationType": "channel", "id": f"{CHANNEL};messageid=77",
                             "tenantId": TENANT["tenant"]["id"]},
            "channelData": {"channel": {"id": CHANNEL}, "team": {"id": CHANNEL}, **TENANT},
        }  # fmt: skip

        async def personal(text: str) -> str:
            return text_of((await say(stack, ANN, text)).body)

        async def menu(text: str) -> str:
            # A command picked from the app's menu arrives as its bare title and what follows.
            return text_of((await say(stack, ANN, text.removeprefix("/pmo "))).body)

        async def mention(text: str) -> str:
            return text_of((await say(stack, ANN, f"<at>{BOT['name']}</at> {text}", **channel)).body)

        assert "Only PMO admins can do that" in await personal("/pmo survey open t")
        assert snapshot(stack.storage)["survey_runs"] == []
        await stack.ok("open", "--team", "t")
        before, sent = snapshot(stack.storage), len(stack.fake.sent)
        for ask in (personal, menu, mention):
            clock.advance(60)  # one person asks all of it: a new minute's budget for each path
            for command in ("/pmo survey close t", "/pmo survey remind t", "/pmo survey status t",
                            "/pmo pulse close t", "/pmo survey open t", *SETUP_COMMANDS):  # fmt: skip
                if ask is menu and "pulse" in command:
                    continue  # the menu offers "survey" alone
                refused = await ask(command)
                assert "Only PMO admins can do that" in refused and "answered" not in refused, (
                    command,
                    refused,
                )
        # Another team's digest, asked outside its channel.
        assert "Digests are shown in the team's channel" in await personal("/pmo digest t")
        assert snapshot(stack.storage) == before
        conversations = {s.conversation for s in stack.fake.sent[sent:]}
        assert conversations <= {ANN.conversation, f"{CHANNEL};messageid=77"}  # no card to anyone else
        # The admin is answered.
        assert "(open)" in text_of((await say(stack, FAY, "/pmo survey status t")).body)
        assert snapshot(stack.storage) == before


# -- the web chat's admin paths -------------------------------------------------------------------


async def test_a_browser_named_in_pmo_admins_is_no_admin_of_a_real_team(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    # The cookie is all that names a browser, and anyone can send any cookie: being listed is no
    # credential, for the survey commands nor for another team's digest.
    config = tmp_path / "pmo-bot.yaml"
    teams_file(config, PEOPLE)
    url = sqlite(tmp_path)
    async with (
        served(kb, url, tmp_path, PMO_CONFIG=str(config), PMO_DEMO="off") as base,
        browser(base) as chat,
    ):
        chat.be(WEB_ADMIN)
        for command in ("/pmo survey open t", "/pmo survey close t", "/pmo survey status t"):
            assert titles(await chat.say(command)) == ["Survey commands are for Slack and Teams admins"]
        assert titles(await chat.say("/pmo digest t")) == ["Digests are shown in the team's channel"]
        assert chat.id == WEB_ADMIN
    with Storage(url) as storage:
        assert snapshot(storage)["survey_runs"] == []


def test_the_survey_commands_are_the_ones_checked() -> None:
    """If the desk grows an admin command, this file must refuse it on every path too."""
    from jobs.desk import ADMIN_COMMANDS

    assert set(ADMIN_COMMANDS) == {"open", "close", "remind", "status"} | {
        c.split()[2] for c in SETUP_COMMANDS
    }
