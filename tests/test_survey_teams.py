"""Pulse surveys on Microsoft Teams, end to end over loopback HTTP.

The server runs in-process (Teams in local mode, no scheduler) with a fake Bot Framework connector
as every activity's serviceUrl; people "install the app" by posting conversationUpdate activities,
which stores their conversation references. The operator's ``pmo-bot survey ...`` commands run as
real subprocesses against the same SQLite database and send through the fake connector too. Card
submits are posted to ``/api/messages`` as Teams posts them: a message activity whose ``value`` is
the submit button's data with every input's value beside it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.surveys import SurveyStore
from knowledge.base import KnowledgeBase
from tests.fake_connector import FakeConnector, Sent
from tests.loopback import serve

BOT = {"id": "28:11111111-2222-3333-4444-555555555555", "name": "pmo-bot"}
TENANT_ID = "72f9a1b2-0000-4000-8000-0000000000aa"
TENANT = {"tenant": {"id": TENANT_ID}}
TEAM_ID = "t"
TEAM_NAME = "Delivery PMO"
SERVICES = ["reporting", "risk_management", "governance"]
CHANNEL = "19:general0a1b2c@thread.tacv2"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
CLI_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Person:
    name: str

    @property
    def id(self) -> str:
        return f"29:1{self.name}-aad"

    @property
    def conversation(self) -> str:
        return f"a:1chat-{self.name}"

    @property
    def account(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name.title(), "aadObjectId": f"aad-{self.name}"}


ANN, BOB, CAT, DAN, EVE, FAY = (Person(n) for n in ("ann", "bob", "cat", "dan", "eve", "fay"))


@dataclass
class Stack:
    """The running server, the fake connector, and the CLI's environment."""

    fake: FakeConnector
    url: str
    parts: Parts
    storage: Storage
    session: aiohttp.ClientSession
    cwd: Path
    env: dict[str, str]
    _ids: int = 0

    def _next_id(self) -> str:
        self._ids += 1
        return f"1732093{self._ids:06d}"

    async def post(self, activity: dict[str, Any]) -> int:
        async with self.session.post(
            f"{self.url}/api/messages",
            data=json.dumps(activity),
            headers={"Content-Type": "application/json"},
        ) as response:
            return response.status

    def activity(self, person: Person, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "type": "message",
            "id": self._next_id(),
            "channelId": "msteams",
            "serviceUrl": self.fake.service_url,
            "from": person.account,
            "recipient": BOT,
            "conversation": {
                "conversationType": "personal",
                "id": person.conversation,
                "tenantId": TENANT_ID,
            },
            "channelData": TENANT,
            "locale": "en-GB",
        }
        base.update(fields)
        return base

    async def install(self, person: Person) -> None:
        """The person adds the app: Teams sends conversationUpdate in their personal chat."""
        before = len(self.fake.sent)
        update = self.activity(person, type="conversationUpdate", membersAdded=[BOT])
        assert await self.post(update) == 201
        welcome = (await self.fake.wait_for(before + 1))[before]
        assert welcome.conversation == person.conversation  # the welcome card
        row = self.storage.reference("teams", person.id)
        assert row is not None and row.kind == "user" and row.active

    async def add_to_team(self, channel: str) -> None:
        """The app is added to a team: conversationUpdate from the team's General channel."""
        update = {
            "type": "conversationUpdate",
            "id": self._next_id(),
            "channelId": "msteams",
            "serviceUrl": self.fake.service_url,
            "from": ANN.account,
            "recipient": BOT,
            "conversation": {"isGroup": True, "conversationType": "channel", "id": channel},
            "channelData": {"channel": {"id": channel}, "team": {"id": channel}, **TENANT},
            "membersAdded": [BOT],
        }
        assert await self.post(update) == 201
        row = self.storage.reference("teams", channel)
        assert row is not None and row.kind == "channel"

    async def submit(self, person: Person, card_id: str, data: dict[str, str], **inputs: str) -> int:
        """A click on the card's Send button: its data with every input's value beside it."""
        value = {**data, **inputs}
        return await self.post(self.activity(person, value=value, replyToId=card_id))

    async def cli(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.app.cli",
            "survey",
            *args,
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def ok(self, *args: str) -> str:
        code, out, err = await self.cli(*args)
        assert code == 0, f"pmo-bot survey {' '.join(args)} exited {code}: {err}"
        return out.strip()

    async def cli_status(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(await self.ok("status", "--team", TEAM_ID, "--json"))
        return result

    def status(self) -> dict[str, Any]:
        """What ``survey status --json`` prints, read in-process (a CLI run costs seconds)."""
        assert self.parts.survey is not None
        return self.parts.survey.surveys.status(TEAM_ID)

    def run_id(self) -> int:
        run = SurveyStore(self.storage).latest_run(TEAM_ID)
        assert run is not None
        return run.id

    def card_id(self, kind: str, person: Person) -> str:
        """The id the connector gave the person's invitation or reminder, as the sender kept it:
        what Teams puts in a card submit's replyToId."""
        ref = SurveyStore(self.storage).message_ref(self.run_id(), kind, person.id)
        assert ref is not None and ref.startswith(f"{person.conversation}/act-"), ref
        return ref.rsplit("/", 1)[1]


def write_config(path: Path, **team: Any) -> None:
    entry = {
        "id": TEAM_ID,
        "name": TEAM_NAME,
        "platform": "teams",
        "digest_channel": CHANNEL,
        "services": SERVICES,
        **team,
    }
    path.write_text(yaml.safe_dump({"teams": [entry]}), encoding="utf-8")


@asynccontextmanager
async def running(kb: KnowledgeBase, tmp_path: Path, **team: Any) -> AsyncIterator[Stack]:
    fake = FakeConnector()
    await fake.start()
    config = tmp_path / "pmo-bot.yaml"
    write_config(config, **team)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    settings = {"DATABASE_URL": url, "PMO_CONFIG": str(config), "PMO_SCHEDULER": "off"}
    storage = Storage(url)
    storage.upgrade()
    parts = Parts(Settings.model_validate(settings), Bot(kb), storage)
    runner, port = await serve(build_app(parts))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
    env.pop("DATABASE_URL", None)
    # Invitations to people who have not installed the app cost no request, only a token.
    env.update(settings, PMO_TEAMS_RATE="1000")
    session = aiohttp.ClientSession()
    try:
        yield Stack(fake, f"http://127.0.0.1:{port}", parts, storage, session, tmp_path, env)
    finally:
        await session.close()
        await runner.cleanup()
        await fake.stop()


# -- reading cards ----------------------------------------------------------------------------------


def cards(body: dict[str, Any]) -> list[dict[str, Any]]:
    attachments = body.get("attachments") or []
    assert attachments and all(a["contentType"] == ADAPTIVE for a in attachments), body
    return [a["content"] for a in attachments]


def elements(body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "type" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cards(body))
    return found


def text_of(body: dict[str, Any]) -> str:
    return "\n".join(str(e.get("text", "")) for e in elements(body) if e["type"] == "TextBlock")


def inputs(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in elements(body) if str(e["type"]).startswith("Input.") and "id" in e}


def selected(body: dict[str, Any]) -> dict[str, str | None]:
    return {key: element.get("value") for key, element in inputs(body).items()}


def send_data(body: dict[str, Any]) -> dict[str, str]:
    """The data of the form's Send button (the only positive Action.Submit)."""
    buttons = [e for e in elements(body) if e["type"] == "Action.Submit" and e.get("style") == "positive"]
    assert len(buttons) == 1, buttons
    data: dict[str, str] = buttons[0]["data"]
    assert set(data) == {"pmo"}
    return data


def by_conversation(sent: list[Sent]) -> dict[str, list[Sent]]:
    out: dict[str, list[Sent]] = {}
    for s in sent:
        out.setdefault(s.conversation, []).append(s)
    return out


# -- the tests --------------------------------------------------------------------------------------


async def test_a_teams_survey_from_invitation_to_late_answer(kb: KnowledgeBase, tmp_path: Path) -> None:
    team = [p.id for p in (ANN, BOB, CAT, DAN, EVE, FAY)]
    async with running(kb, tmp_path, members=team) as stack:
        fake = stack.fake
        for person in (ANN, BOB, CAT, DAN):
            await stack.install(person)
        fake.block(DAN.conversation)  # Dan blocked the bot: the connector answers 403

        # -- open: cards to those with references; the rest reported, not skipped ------------------
        before = len(fake.sent)
        opened = await stack.ok("open", "--team", TEAM_ID)
        status = await stack.cli_status()
        period = status["run"]
        assert re.fullmatch(rf"{TEAM_ID}/\d{{4}}-W\d\d", period)
        assert opened == (
            f"Opened {period}: 3 of 6 invitations delivered. "
            "2 people have not installed the app yet. 1 people blocked or removed the bot."
        )
        invites = by_conversation(fake.sent[before:])
        assert set(invites) == {ANN.conversation, BOB.conversation, CAT.conversation, DAN.conversation}
        for person in (ANN, BOB, CAT):
            (card,) = invites[person.conversation]
            assert (card.method, card.status) == ("POST", 200)
            assert f"{TEAM_NAME} weekly PMO pulse" in text_of(card.body)
            assert "Recorded" not in text_of(card.body)
            fields = inputs(card.body)
            assert set(fields) == {f"q:{s}" for s in SERVICES} | {"comment"}
            assert all(fields[f"q:{s}"]["type"] == "Input.ChoiceSet" for s in SERVICES)
            assert fields["comment"]["type"] == "Input.Text"
            assert [c["value"] for c in fields["q:reporting"]["choices"]] == ["5", "4", "3", "2", "1", "na"]
            assert all(value is None for value in selected(card.body).values())
        (refused,) = invites[DAN.conversation]  # one try: a 403 is final, not retried
        assert refused.status == 403
        dan = stack.storage.reference("teams", DAN.id)
        assert dan is not None and dan.active is False
        assert {k: status[k] for k in ("invited", "delivered", "not_installed", "unreachable")} == {
            "invited": 6,
            "delivered": 3,
            "not_installed": 2,
            "unreachable": 1,
        }
        assert (status["answered"], status["failed"], status["waiting"], status["state"]) == (0, 0, 0, "open")
        assert status["invites"] == {"inactive": 1, "sent": 3, "unknown": 2}

        # -- answers: a submitted card is recorded and redrawn in place ------------------------------
        data = send_data(invites[ANN.conversation][0].body)
        ann_card = stack.card_id("invite", ANN)
        posts_before = len(fake.posts())
        status_code = await stack.submit(
            ANN,
            ann_card,
            data,
            **{"q:reporting": "4", "q:risk_management": "na", "q:governance": "2"},
            comment="More notice of the gate reviews, please",
        )
        assert status_code == 201
        (put,) = fake.updates()
        assert (put.conversation, put.reply_to) == (ANN.conversation, ann_card)
        assert len(fake.posts()) == posts_before  # updated in place, not answered with a new message
        assert "Recorded: 3 of 3 services and your comment." in text_of(put.body)
        assert selected(put.body) == {
            "q:reporting": "4",
            "q:risk_management": "na",
            "q:governance": "2",
            "comment": "More notice of the gate reviews, please",
        }

        bob_card = stack.card_id("invite", BOB)
        data_bob = send_data(invites[BOB.conversation][0].body)
        picks = {"q:reporting": "5", "q:risk_management": "", "q:governance": "3"}
        assert await stack.submit(BOB, bob_card, data_bob, **picks, comment="") == 201
        put = fake.updates()[-1]
        assert (put.conversation, put.reply_to) == (BOB.conversation, bob_card)
        assert "Recorded: 2 of 3 services." in text_of(put.body)
        assert selected(put.body)["q:reporting"] == "5"
        assert selected(put.body)["q:risk_management"] is None

        # Ann changes her mind: the card shows the new answer, and she is still counted once.
        picks = {"q:reporting": "2", "q:risk_management": "3", "q:governance": "2"}
        assert await stack.submit(ANN, ann_card, data, **picks, comment="Fine now") == 201
        put = fake.updates()[-1]
        assert (put.conversation, put.reply_to) == (ANN.conversation, ann_card)
        assert selected(put.body) == {**picks, "comment": "Fine now"}
        assert len(fake.updates()) == 3 and len(fake.posts()) == posts_before

        status = stack.status()
        # Dan blocked the bot, Eve and Fay have no app: three reached, and the rate is of those.
        assert (status["answered"], status["reached"], status["invited"]) == (2, 3, 6)
        assert (status["response_rate"], status["turnout"]) == (
            0.667,
            "invited 6, reached 3, answered 2 (67% of those reached)",
        )

        # -- remind: only the non-responders who can be reached --------------------------------------
        await stack.install(FAY)  # Fay adds the app after the invitations went out
        before = len(fake.sent)
        reminded = await stack.ok("remind", "--team", TEAM_ID)
        # Cat, Eve and Fay have not answered (Dan blocked the bot): Eve still has no app.
        assert (
            reminded == "Reminded 3 of 6 people (those who have not answered); 2 reminders delivered in all."
        )
        reminders = by_conversation(fake.sent[before:])
        assert set(reminders) == {CAT.conversation, FAY.conversation}
        for person in (CAT, FAY):
            (card,) = reminders[person.conversation]
            assert card.status == 200
            assert f"Reminder: {TEAM_NAME} weekly PMO pulse" in text_of(card.body)
            assert "A reminder:" in text_of(card.body)
        status = stack.status()
        assert status["reminders"] == {"sent": 2, "unknown": 1}
        assert status["reminded_at"] is not None

        # -- close, then a late answer -------------------------------------------------------------
        closed_line = await stack.ok("close", "--team", TEAM_ID)
        # Fay's reminder reached her once she had the app.
        turnout = "invited 6, reached 4, answered 2 (50% of those reached)"
        assert closed_line.startswith(f"Closed {period}: {turnout}. The digest was not posted: ")
        assert "add the app to that channel first" in closed_line
        status = stack.status()
        assert status["state"] == "closed" and status["closed_at"] is not None

        cat_card = stack.card_id("reminder", CAT)
        data_cat = send_data(reminders[CAT.conversation][0].body)
        posts_before = len(fake.posts())
        assert await stack.submit(CAT, cat_card, data_cat, **{"q:reporting": "5"}, comment="late") == 201
        put = fake.updates()[-1]
        assert (put.conversation, put.reply_to) == (CAT.conversation, cat_card)
        assert len(fake.posts()) == posts_before
        london = dt.datetime.fromisoformat(status["closed_at"]).astimezone(ZoneInfo("Europe/London"))
        when = f"on {london:%A} {london.day} {london:%B} at {london:%H:%M} (Europe/London)"
        late = text_of(put.body)
        assert "This survey has closed" in late
        assert f"This survey closed {when}, so your answer was not recorded." in late
        assert inputs(put.body) == {}  # nothing left to answer

        status = await stack.cli_status()
        assert (status["answered"], status["reached"], status["invited"]) == (2, 4, 6)
        assert status["state"] == "closed"


async def test_members_from_a_teams_channel(kb: KnowledgeBase, tmp_path: Path) -> None:
    # More than the adapter's page of 500: the roster arrives in two pages of pagedmembers.
    others = [f"29:1member-{n:03d}" for n in range(500)]
    async with running(kb, tmp_path, members=[ANN.id], members_from_channel=CHANNEL) as stack:
        fake = stack.fake
        for person in (ANN, CAT):
            await stack.install(person)

        # Without a stored reference for the team, nobody can be listed: said so, nothing opened.
        code, out, err = await stack.cli("open", "--team", TEAM_ID)
        assert (code, out) == (1, "")
        assert f"Teams team {CHANNEL} is unknown: add the app to that team first" in err
        assert stack.status()["run"] is None

        await stack.add_to_team(CHANNEL)
        # The connector cannot list the team (404): an error, not a survey of the listed members
        # alone, and no apology posted in the channel.
        before = len(fake.sent)
        code, out, err = await stack.cli("open", "--team", TEAM_ID)
        assert (code, out) == (1, "")
        assert f"pmo-bot: Teams could not list the members of {CHANNEL}: HTTP 404" in err
        assert "Traceback" not in err
        assert fake.sent[before:] == []
        assert stack.status()["run"] is None

        fake.rosters[CHANNEL] = [ANN.id, BOB.id, *others, CAT.id]
        opened = await stack.ok("open", "--team", TEAM_ID)
        status = stack.status()
        # Ann is both listed and in the channel: invited once.
        assert opened == (
            f"Opened {status['run']}: 2 of 503 invitations delivered. "
            "501 people have not installed the app yet."
        )
        assert (status["invited"], status["delivered"], status["not_installed"]) == (503, 2, 501)
        invited = {r.user for r in SurveyStore(stack.storage).recipients(stack.run_id())}
        assert invited == {ANN.id, BOB.id, CAT.id, *others}
        sent = by_conversation(fake.sent[before:])
        assert set(sent) == {ANN.conversation, CAT.conversation}
        for person in (ANN, CAT):
            (card,) = sent[person.conversation]
            assert f"{TEAM_NAME} weekly PMO pulse" in text_of(card.body)

        # Someone invited through the roster can answer.
        card_id = stack.card_id("invite", CAT)
        data = send_data(sent[CAT.conversation][0].body)
        assert await stack.submit(CAT, card_id, data, **{"q:governance": "4"}, comment="") == 201
        (put,) = fake.updates()
        assert (put.conversation, put.reply_to) == (CAT.conversation, card_id)
        assert "Recorded: 1 of 3 services." in text_of(put.body)
        assert stack.status()["answered"] == 1


async def test_a_storm_of_429s_from_teams_delays_the_invitations_and_sends_each_once(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    people = (ANN, BOB, CAT, EVE, FAY)
    async with running(kb, tmp_path, members=[p.id for p in people]) as stack:
        fake = stack.fake
        for person in people:
            await stack.install(person)
        before = len(fake.sent)
        fake.throttle_all(times=8)  # more refusals than people: some are refused twice
        opened = await stack.ok("open", "--team", TEAM_ID)
        assert opened.endswith("5 of 5 invitations delivered."), opened
        invites = by_conversation(fake.sent[before:])
        assert sum(s.status == 429 for sends in invites.values() for s in sends) == 8
        for person in people:
            delivered = [s for s in invites[person.conversation] if s.status == 200]
            assert len(delivered) == 1, (person.id, [s.status for s in invites[person.conversation]])
        status = await stack.cli_status()
        assert (status["delivered"], status["failed"], status["waiting"]) == (5, 0, 0)
