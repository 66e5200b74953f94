"""Pulse surveys on Slack, end to end as the issue's acceptance runs them: the operator's CLI in a
process of its own, people clicking in their DMs (signed ``block_actions`` into a running server),
and every Web API call answered by the fake Slack on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import inspect

from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.reply import Action
from bot.settings import Settings
from bot.storage import Storage
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.loopback import serve

SECRET = "survey-signing-secret"
ADMIN = "U0ADMIN001"
PEOPLE = [f"U0P{n:07d}" for n in range(1, 21)]
SERVICES = ["reporting", "risk_management", "governance"]


@dataclass
class Running:
    fake: FakeSlack
    url: str
    env: dict[str, str]
    tmp: Path
    storage: Storage
    session: aiohttp.ClientSession
    parts: Parts | None = None

    async def cli(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.app.cli", *args, env=self.env, cwd=self.tmp,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def post(self, body: str, content_type: str) -> aiohttp.ClientResponse:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
        }
        return await self.session.post(f"{self.url}/slack/events", data=body.encode(), headers=headers)

    async def interact(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        return await self.post(
            "payload=" + urllib.parse.quote(json.dumps(payload)), "application/x-www-form-urlencoded"
        )

    async def click(self, user: str, button: dict[str, Any], response_url: str) -> None:
        dm = self.fake.dm_channel(user)
        response = await self.interact(
            {
                "type": "block_actions",
                "team": {"id": TEAM},
                "user": {"id": user},
                "api_app_id": "A0APP",
                "trigger_id": f"trigger-{user}",
                "channel": {"id": dm},
                "container": {"type": "message", "message_ts": "1.2", "channel_id": dm},
                "response_url": response_url,
                "actions": [{**button, "type": "button", "block_id": "q", "action_ts": "1"}],
            }
        )
        assert response.status == 200

    async def command(self, user: str, text: str) -> dict[str, Any]:
        fields = {
            "team_id": TEAM, "channel_id": "C0CHAN0001", "user_id": user, "command": "/pmo",
            "text": text, "response_url": self.fake.response_url(f"cmd-{user}"), "trigger_id": "t",
        }  # fmt: skip
        response = await self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")
        assert response.status == 200
        text = await response.text()
        body: dict[str, Any] = json.loads(text) if text else {}  # empty: a form was opened instead
        return body


def teams_file(path: Path, members: list[str]) -> None:
    path.write_text(
        "teams:\n"
        "  - id: t\n"
        "    name: Delivery PMO\n"
        "    platform: slack\n"
        f"    members: [{', '.join(members)}]\n"
        "    digest_channel: C0DIGEST01\n"
        f"    services: [{', '.join(SERVICES)}]\n"
        "    survey: {schedule: '0 9 * * mon', open_hours: 72, reminder_after_hours: 48, min_responses: 3}\n",
        encoding="utf-8",
    )


@contextlib.asynccontextmanager
async def slack_server(
    kb: KnowledgeBase,
    tmp_path: Path,
    teams: str | None = None,
    surveys: bool = True,
    members: list[str] | None = None,
) -> AsyncIterator[Running]:
    """The real ``serve`` app on loopback with Slack over HTTP, against a fake Slack; ``teams`` is
    the teams file's text (by default team ``t`` of ``members``, or PEOPLE). Without ``surveys`` there is no
    database, so nothing of surveys is put together."""
    fake = FakeSlack()
    await fake.start()
    config = tmp_path / "pmo-bot.yaml"
    if teams is None:
        teams_file(config, members or PEOPLE)
    else:
        config.write_text(teams, encoding="utf-8")
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PMO_CONFIG": str(config),
        "PMO_ADMINS": f"slack:{ADMIN}",
        "PMO_SCHEDULER": "off",
    }
    storage = Storage(values["DATABASE_URL"])
    storage.upgrade()
    parts = Parts(Settings.model_validate(values), Bot(kb), storage if surveys else None)
    runner, port = await serve(build_app(parts))
    assert (parts.bot.surveys is not None) == surveys
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
    env.update(values)
    try:
        async with aiohttp.ClientSession() as session:
            yield Running(fake, f"http://127.0.0.1:{port}", env, tmp_path, storage, session, parts)
    finally:
        await runner.cleanup()
        await fake.stop()


@pytest.fixture
async def running(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Running]:
    async with slack_server(kb, tmp_path) as made:
        yield made


def buttons(blocks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(question, value) → the button, from a survey message's blocks."""
    found = {}
    for block in blocks:
        for element in block.get("elements") or []:
            action = Action.decode(element.get("value") or "")
            if action is not None and action.intent == "survey_answer":
                found[(action.slots["q"], action.slots["v"])] = element
    return found


def survey_post(fake: FakeSlack, user: str, kind: str = "") -> dict[str, Any]:
    posts = [c.body for c in fake.of("chat.postMessage") if c.body.get("channel") == user]
    assert posts, f"no message to {user}"
    return posts[-1]


async def test_twenty_people_fifteen_answer_five_are_reminded_and_late_clicks_are_turned_away(
    running: Running,
) -> None:
    code, out, err = await running.cli("survey", "open", "--team", "t")
    assert code == 0, err
    assert "20 of 20 invitations delivered" in out
    posts = running.fake.of("chat.postMessage")
    assert sorted(c.body["channel"] for c in posts) == sorted(PEOPLE)
    first = posts[0].body
    assert first["metadata"]["event_payload"]["outbox"].startswith("pmo-outbox-")
    choices = buttons(first["blocks"])
    assert {q for q, _ in choices} == set(SERVICES)
    assert {v for _, v in choices} == {"1", "2", "3", "4", "5", "na"}

    # Fifteen people answer; each clicks the buttons of their own DM.
    clicks = {"reporting": "4", "risk_management": "2", "governance": "na"}
    for n, person in enumerate(PEOPLE[:15]):
        mine = buttons(survey_post(running.fake, person)["blocks"])
        for question, value in clicks.items():
            await running.click(person, mine[(question, value)], running.fake.response_url(f"r-{n}"))
    await running.fake.wait_for("response_url", 45, timeout=20)
    redrawn = [c.body for c in running.fake.of("response_url")]
    assert all(body.get("replace_original") is True for body in redrawn)
    # Each person's third click shows all three recorded (people are answered side by side).
    complete = [body["blocks"] for body in redrawn if "Recorded: 3 of 3 services" in json.dumps(body)]
    assert len(complete) == 15
    last = complete[-1]
    # The choice made shows as chosen.
    styled = [e for b in last for e in b.get("elements") or [] if e.get("style") == "primary"]
    assert {Action.decode(e["value"]).slots["v"] for e in styled} == {"4", "2", "na"}  # type: ignore[union-attr]

    code, out, err = await running.cli("survey", "status", "--team", "t", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert (status["answered"], status["invited"], status["delivered"]) == (15, 20, 20)

    before = len(running.fake.of("chat.postMessage"))
    code, out, err = await running.cli("survey", "remind", "--team", "t")
    assert code == 0, err
    reminded = [c.body["channel"] for c in running.fake.of("chat.postMessage")[before:]]
    assert sorted(reminded) == sorted(PEOPLE[15:])
    assert "Reminder" in json.dumps(running.fake.of("chat.postMessage")[-1].body["blocks"])

    code, out, err = await running.cli("survey", "close", "--team", "t")
    assert code == 0, err
    assert "invited 20, reached 20, answered 15 (75% of those reached)" in out
    late = buttons(survey_post(running.fake, PEOPLE[16])["blocks"])
    await running.click(PEOPLE[16], late[("reporting", "5")], running.fake.response_url("late"))
    await running.fake.wait_for("response_url", 46, timeout=10)
    closed = running.fake.of("response_url")[-1].body
    assert closed["replace_original"] is True
    assert "This survey closed on" in json.dumps(closed["blocks"])
    code, out, _ = await running.cli("survey", "status", "--team", "t", "--json")
    assert code == 0 and json.loads(out)["answered"] == 15


async def test_an_answer_can_be_changed_and_counts_once(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    person = PEOPLE[0]
    mine = buttons(survey_post(running.fake, person)["blocks"])
    await running.click(person, mine[("reporting", "2")], running.fake.response_url("a"))
    await running.click(person, mine[("reporting", "5")], running.fake.response_url("b"))
    await running.fake.wait_for("response_url", 2)
    styled = [
        e for b in running.fake.of("response_url")[-1].body["blocks"]
        for e in b.get("elements") or [] if e.get("style") == "primary"
    ]  # fmt: skip
    assert [Action.decode(e["value"]).slots["v"] for e in styled] == ["5"]  # type: ignore[union-attr]
    with running.storage.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT function_id, score FROM survey_responses").fetchall()
    assert rows == [("reporting", 5)]


async def test_nobody_answers_for_someone_else_and_forged_values_are_ignored(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    theirs = buttons(survey_post(running.fake, PEOPLE[0])["blocks"])
    await running.click("U0STRANGER", theirs[("reporting", "1")], running.fake.response_url("x"))
    forged = dict(theirs[("reporting", "1")])
    forged["value"] = Action("survey_answer", {"run": "1", "q": "finance", "v": "9"}).encode()
    await running.click(PEOPLE[1], forged, running.fake.response_url("y"))
    answers = [json.dumps(c.body) for c in await running.fake.wait_for("response_url", 2)]
    # The two clicks are handled side by side, so their answers may come in either order.
    assert sum("sent to someone else" in a for a in answers) == 1
    with running.storage.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM survey_responses").scalar() == 0


async def test_a_comment_goes_through_a_modal_and_updates_the_dm(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    person = PEOPLE[2]
    post = survey_post(running.fake, person)
    opener = next(
        e for b in post["blocks"] for e in b.get("elements") or []
        if (Action.decode(e.get("value") or "") or Action("")).intent == "survey_form"
    )  # fmt: skip
    await running.click(person, opener, running.fake.response_url("c"))
    (opened,) = await running.fake.wait_for("views.open")
    view = opened.body["view"]
    assert view["type"] == "modal" and view["callback_id"] == "pmo:form"
    state = {"values": {"comment": {"comment": {"type": "plain_text_input", "value": "Reports came late"}}}}
    response = await running.interact(
        {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": person},
            "view": {**view, "state": state},
        }
    )
    assert response.status == 200
    (updated,) = await running.fake.wait_for("chat.update")
    assert updated.body["channel"] == running.fake.dm_channel(person)
    assert "Change your comment" in json.dumps(updated.body["blocks"])
    with running.storage.engine.connect() as connection:
        comments = connection.exec_driver_sql("SELECT text FROM survey_comments").fetchall()
    assert comments == [("Reports came late",)]


async def test_pmo_survey_shows_what_is_pending(running: Running) -> None:
    answer = await running.command(PEOPLE[3], "survey")
    assert "no survey to answer" in json.dumps(answer)
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    answer = await running.command(PEOPLE[3], "survey")
    assert {q for q, _ in buttons(answer["blocks"])} == set(SERVICES)
    outsider = await running.command("U0OUTSIDER", "survey")
    assert "no survey to answer" in json.dumps(outsider)


async def test_only_admins_run_surveys_from_chat(running: Running) -> None:
    refused = await running.command(PEOPLE[0], "survey open t")
    assert "Only PMO admins" in json.dumps(refused)
    assert running.fake.of("chat.postMessage") == []
    opened = await running.command(ADMIN, "survey open t")
    assert "Opening the survey for Delivery PMO" in json.dumps(opened)
    await running.fake.wait_for("chat.postMessage", 20, timeout=20)
    deadline = asyncio.get_running_loop().time() + 10
    nobody_yet = "Invited 20, reached 20, answered 0"
    while True:
        status = await running.command(ADMIN, "survey status t")
        if nobody_yet in json.dumps(status) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert nobody_yet in json.dumps(status)


async def test_the_answers_table_names_nobody(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    mine = buttons(survey_post(running.fake, PEOPLE[4])["blocks"])
    await running.click(PEOPLE[4], mine[("governance", "3")], running.fake.response_url("p"))
    await running.fake.wait_for("response_url")
    columns = {c["name"] for c in inspect(running.storage.engine).get_columns("survey_responses")}
    assert columns == {"run_id", "respondent", "function_id", "score"}
    with running.storage.engine.connect() as connection:
        (respondent,) = connection.exec_driver_sql("SELECT respondent FROM survey_responses").one()
    assert PEOPLE[4] not in respondent and len(respondent) == 64


async def test_unknown_team_and_broken_config_are_one_line(running: Running) -> None:
    code, _, err = await running.cli("survey", "status", "--team", "nope")
    assert code == 1 and err.strip().splitlines()[-1].startswith("pmo-bot: unknown team 'nope'")
    assert "Traceback" not in err
    (running.tmp / "pmo-bot.yaml").write_text("teams:\n  - id: t\n    platform: fax\n", encoding="utf-8")
    code, _, err = await running.cli("survey", "open", "--team", "t")
    assert code == 1 and "platform" in err.strip().splitlines()[-1] and "Traceback" not in err


async def test_the_clock_process_opens_a_survey_that_fell_due_and_stops_cleanly(running: Running) -> None:
    # Due at midnight today, open for two days: whenever this runs, that midnight is inside the
    # window, so the clock must catch up on it at once.
    today = datetime.now(ZoneInfo("Europe/London")).strftime("%a").lower()
    config = running.tmp / "pmo-bot.yaml"
    config.write_text(
        config.read_text(encoding="utf-8")
        .replace("'0 9 * * mon'", f"'0 0 * * {today}'")
        .replace("open_hours: 72, reminder_after_hours: 48", "open_hours: 48, reminder_after_hours: 24"),
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.app.cli", "clock", env=running.env, cwd=running.tmp,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await running.fake.wait_for("chat.postMessage", 20, timeout=60)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert sorted(c.body["channel"] for c in running.fake.of("chat.postMessage")) == sorted(PEOPLE)
    logged = err.decode()
    assert "survey:t" in logged and "scheduled survey opened" in logged and "Traceback" not in logged
    code, out, _ = await running.cli("survey", "status", "--team", "t", "--json")
    assert code == 0
    assert json.loads(out)["run"].startswith("t/") and json.loads(out)["invited"] == 20


async def test_asking_for_the_survey_in_a_channel_shows_nothing_personal(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    mine = buttons(survey_post(running.fake, PEOPLE[5])["blocks"])
    await running.click(PEOPLE[5], mine[("reporting", "1")], running.fake.response_url("m"))
    await running.fake.wait_for("response_url")
    event = {"type": "app_mention", "user": PEOPLE[5], "text": "<@U0BOT00001> survey", "ts": "5.5",
             "channel": "C0CHAN0001", "team": TEAM}  # fmt: skip
    envelope = {"type": "event_callback", "team_id": TEAM, "event_id": "EvMention1", "event": event}
    assert (await running.post(json.dumps(envelope), "application/json")).status == 200
    await running.fake.wait_for("chat.postMessage", 21)
    public = running.fake.of("chat.postMessage")[-1].body
    assert public["channel"] == "C0CHAN0001"
    assert "direct message" in json.dumps(public) and buttons(public["blocks"]) == {}


async def test_asking_for_the_survey_in_a_dm_answers_with_it_and_keeps_sql_off_the_loop(
    running: Running,
) -> None:
    # The DM's answer reads the database; a query on the event loop would fail this test (see
    # conftest), so the answer arriving at all shows it ran on a worker thread.
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    await running.fake.wait_for("chat.postMessage", 20)
    dm = running.fake.dm_channel(PEOPLE[2])
    event = {"type": "message", "channel_type": "im", "user": PEOPLE[2], "text": "my pulse survey",
             "ts": "6.6", "channel": dm, "team": TEAM}  # fmt: skip
    envelope = {"type": "event_callback", "team_id": TEAM, "event_id": "EvDm1", "event": event}
    assert (await running.post(json.dumps(envelope), "application/json")).status == 200
    await running.fake.wait_for("chat.postMessage", 21)
    answer = running.fake.of("chat.postMessage")[-1].body
    assert answer["channel"] == dm
    assert {q for q, _ in buttons(answer["blocks"])} == set(SERVICES)


async def test_operator_mistakes_are_one_line_and_lose_nothing(running: Running) -> None:
    good = running.env["SLACK_BOT_TOKEN"]
    running.env["SLACK_BOT_TOKEN"] = "xoxb-revoked"
    code, _, err = await running.cli("survey", "open", "--team", "t")
    last = err.strip().splitlines()[-1]
    assert code == 1 and "Slack refused the bot: invalid_auth" in last and "Traceback" not in err
    running.env["SLACK_BOT_TOKEN"] = good
    code, out, err = await running.cli("survey", "open", "--team", "t")  # resumes: nothing was lost
    assert code == 0 and "20 of 20 invitations delivered" in out, err
    code, _, err = await running.cli("survey", "open", "--team", "t", "--period", "other/2026-W49")
    assert code == 1 and "starts with 't/'" in err.strip().splitlines()[-1]
    config = running.tmp / "pmo-bot.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "    digest_channel:", "    members_from_channel: C0NOPE\n    digest_channel:"
        ),
        encoding="utf-8",
    )
    code, _, err = await running.cli("survey", "open", "--team", "t", "--period", "t/extra")
    assert code == 1 and "Traceback" not in err
    assert (
        err.strip().splitlines()[-1]
        == "pmo-bot: Slack could not list the members of C0NOPE: channel_not_found"
    )


async def test_a_comment_from_the_pmo_survey_copy_redraws_it_through_its_response_url(
    running: Running,
) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    person = PEOPLE[6]
    answer = await running.command(person, "survey")  # the ephemeral copy
    opener = next(
        e for b in answer["blocks"] for e in b.get("elements") or []
        if (Action.decode(e.get("value") or "") or Action("")).intent == "survey_form"
    )  # fmt: skip
    response = await running.interact(
        {
            "type": "block_actions", "team": {"id": TEAM}, "user": {"id": person}, "trigger_id": "t6",
            "channel": {"id": "C0CHAN0001"}, "response_url": running.fake.response_url("eph"),
            "container": {"type": "message", "message_ts": "9.9", "channel_id": "C0CHAN0001",
                          "is_ephemeral": True},
            "actions": [{**opener, "type": "button", "block_id": "b", "action_ts": "1"}],
        }
    )  # fmt: skip
    assert response.status == 200
    (opened,) = await running.fake.wait_for("views.open")
    state = {"values": {"comment": {"comment": {"type": "plain_text_input", "value": "More notice please"}}}}
    view = {**opened.body["view"], "state": state}
    submitted = await running.interact(
        {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": person}, "view": view}
    )
    assert submitted.status == 200
    (redrawn,) = await running.fake.wait_for("response_url")
    assert redrawn.body["replace_original"] is True and "Change your comment" in json.dumps(redrawn.body)
    assert running.fake.of("chat.update") == []


async def test_closing_posts_the_digest_with_hand_computed_means_a_change_and_a_chart(
    running: Running,
) -> None:
    # Last week: 5 people answer, so there is a previous run to compare with.
    assert (await running.cli("survey", "open", "--team", "t", "--period", "t/2026-W01"))[0] == 0
    for n, person in enumerate(PEOPLE[:5]):
        mine = buttons(survey_post(running.fake, person)["blocks"])
        for question in SERVICES:
            await running.click(person, mine[(question, "2")], running.fake.response_url(f"w1-{n}"))
    await running.fake.wait_for("response_url", 15, timeout=20)
    assert (await running.cli("survey", "close", "--team", "t"))[0] == 0
    first_digest = len(running.fake.of("chat.postMessage"))

    # This week: 15 of 20 answer, each with their own clicks.
    code, _, err = await running.cli("survey", "open", "--team", "t", "--period", "t/2026-W02")
    assert code == 0, err
    picks: dict[str, list[int]] = {q: [] for q in SERVICES}
    for n, person in enumerate(PEOPLE[:15]):
        mine = buttons(survey_post(running.fake, person)["blocks"])
        for question, value in (("reporting", 1 + n % 5), ("risk_management", 5 - n % 3), ("governance", 3)):
            await running.click(person, mine[(question, str(value))], running.fake.response_url(f"w2-{n}"))
            picks[question].append(value)
    await running.fake.wait_for("response_url", 15 + 45, timeout=30)
    code, out, err = await running.cli("survey", "close", "--team", "t")
    assert code == 0, err
    assert "Posted the digest of t/2026-W02 to C0DIGEST01" in out

    digest = [
        c.body
        for c in running.fake.of("chat.postMessage")[first_digest:]
        if c.body["channel"] == "C0DIGEST01"
    ]
    text = json.dumps(digest, ensure_ascii=False)
    assert "Invited 20, reached 20, answered 15 (75% of those reached)" in text
    for question in SERVICES:
        mean = round(sum(picks[question]) / 15, 2)
        assert f"{mean:.1f}" in text
    reporting_change = f"▲{round(sum(picks['reporting']) / 15, 2) - 2.0:.1f}"
    assert reporting_change in text  # against last week's 2.0
    (upload, *_) = [u for u in running.fake.uploads() if u[3] == "C0DIGEST01"][-1:]
    assert upload[2].startswith(b"\x89PNG\r\n\x1a\n") and upload[1].endswith(".png")
    code, out, _ = await running.cli("digest", "--team", "t", "--json")
    figures = json.loads(out)
    assert (figures["answered"], figures["reached"], figures["invited"]) == (15, 20, 20)
    by_id = {s["function_id"]: s for s in figures["scores"]}
    assert by_id["reporting"]["mean"] == round(sum(picks["reporting"]) / 15, 2)
    assert by_id["reporting"]["previous_mean"] == 2.0


async def test_two_answers_post_a_digest_without_scores(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    for n, person in enumerate(PEOPLE[:2]):
        mine = buttons(survey_post(running.fake, person)["blocks"])
        await running.click(person, mine[("reporting", "5")], running.fake.response_url(f"two-{n}"))
    await running.fake.wait_for("response_url", 2)
    code, out, err = await running.cli("survey", "close", "--team", "t")
    assert code == 0 and "Posted the digest" in out, err
    posted = [c.body for c in running.fake.of("chat.postMessage") if c.body["channel"] == "C0DIGEST01"]
    text = json.dumps(posted)
    assert "Invited 20, reached 20, answered 2" in text and "Scores are withheld" in text
    assert "5.0" not in text
    assert [u for u in running.fake.uploads() if u[3] == "C0DIGEST01"] == []  # no chart without scores


async def test_pmo_digest_for_admins_anywhere_and_for_anyone_in_the_digest_channel(running: Running) -> None:
    assert (await running.cli("survey", "open", "--team", "t"))[0] == 0
    for n, person in enumerate(PEOPLE[:5]):
        mine = buttons(survey_post(running.fake, person)["blocks"])
        await running.click(person, mine[("governance", "4")], running.fake.response_url(f"d-{n}"))
    await running.fake.wait_for("response_url", 5)
    assert (await running.cli("survey", "close", "--team", "t"))[0] == 0
    assert "reached 20, answered 5" in json.dumps(await running.command(ADMIN, "digest t"))
    assert "Digests are shown in the team's channel" in json.dumps(
        await running.command(PEOPLE[0], "digest t")
    )
    fields = {
        "team_id": TEAM, "channel_id": "C0DIGEST01", "user_id": PEOPLE[0], "command": "/pmo",
        "text": "digest",
        "response_url": running.fake.response_url("dg"), "trigger_id": "t",
    }  # fmt: skip
    response = await running.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")
    shown = json.dumps(await response.json())
    assert "reached 20, answered 5" in shown and "4.0" in shown
