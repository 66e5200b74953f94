"""Teams set up and run from chat (issue 16): the form's rules, the teams file winning, the stored
teams on both databases, and an admin doing it all from Slack over signed HTTP, up to the survey
opening on its schedule and its digest being posted; paused over a holiday and resumed."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.app.web import Parts
from bot.core import Bot
from bot.reply import Action, Reply
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.surveys import SurveyStore
from bot.storage.teams import TeamStore
from jobs.clock import SurveyClock
from jobs.config import Team
from jobs.setup_form import read_team
from jobs.teams import TeamDirectory
from knowledge.base import KnowledgeBase
from tests.fake_slack import TEAM, FakeSlack
from tests.test_survey_slack import Running, buttons, slack_server, survey_post

ADMIN = "U0ADMIN001"
MEMBERS = ["U0MEM00001", "U0MEM00002", "U0MEM00003", "U0MEM00004"]
LONDON = ZoneInfo("Europe/London")
FUNCTIONS = frozenset({"reporting", "risk_management", "governance", "planning"})
GOOD = {
    "members": "U0MEM00001,U0MEM00002",
    "digest_channel": "C0DIGEST02",
    "services": "reporting,governance",
    "schedule": "0 9 * * mon",
    "timezone": "Europe/London",
    "open_hours": "72",
    "reminder_after_hours": "48",
    "min_responses": "3",
}


# -- the form's rules -------------------------------------------------------------------------------


def test_a_good_form_is_a_team() -> None:
    team, errors = read_team(GOOD, "slack", "delivery", FUNCTIONS)
    assert errors == {}
    assert team is not None and team.members == ("U0MEM00001", "U0MEM00002")
    assert team.survey.min_responses == 3 and team.survey.reminder_after_hours == 48


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("schedule", "0 9 31 2 *", "never fires"),
        ("schedule", "0 9 * * *", "more than once a week"),
        ("schedule", "every monday", "not a cron schedule"),
        ("timezone", "Mars/Base", "Unknown time zone"),
        ("min_responses", "2", "At least 3"),
        ("min_responses", "3.5", "whole number"),
        ("open_hours", "0", "More than 0"),
        ("reminder_after_hours", "80", "fewer hours than the survey is open"),
        ("services", "", "at least one service"),
        ("services", "reporting,astrology", "Not a service here: astrology"),
        ("members", "bob", "Not a Slack user id: bob"),
        ("digest_channel", "", "where the digest is posted"),
        ("digest_channel", "#general", "Not a Slack channel id"),
    ],
)
def test_each_bad_field_is_refused_with_its_reason(field: str, value: str, reason: str) -> None:
    team, errors = read_team({**GOOD, field: value}, "slack", "delivery", FUNCTIONS)
    assert team is None
    assert reason.lower() in errors[field].lower(), errors


def test_every_bad_field_is_named_at_once() -> None:
    bad = {**GOOD, "schedule": "0 9 31 2 *", "timezone": "Nowhere", "min_responses": "1", "services": ""}
    _, errors = read_team(bad, "slack", "bad id!", FUNCTIONS)
    assert set(errors) == {"id", "schedule", "timezone", "min_responses", "services"}


def test_nobody_to_ask_is_refused_and_a_channel_alone_will_do() -> None:
    _, errors = read_team({**GOOD, "members": ""}, "slack", "d", FUNCTIONS)
    assert "otherwise nobody is" in errors["members"]
    team, errors = read_team(
        {**GOOD, "members": "", "members_from_channel": "C0PEOPLE01"}, "slack", "d", FUNCTIONS
    )
    assert errors == {} and team is not None and team.members_from_channel == "C0PEOPLE01"


def test_slack_mentions_and_prefixed_ids_are_read_as_people() -> None:
    team, _ = read_team(
        {**GOOD, "members": "<@U0MEM00001|ann>, slack:U0MEM00002 U0MEM00001"}, "slack", "d", FUNCTIONS
    )
    assert team is not None and team.members == ("U0MEM00001", "U0MEM00002")


def test_an_empty_reminder_means_none() -> None:
    team, _ = read_team({**GOOD, "reminder_after_hours": ""}, "slack", "d", FUNCTIONS)
    assert team is not None and team.survey.reminder_after_hours is None


# -- stored teams, on SQLite and PostgreSQL -----------------------------------------------------------


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    with Storage(database_url) as migrated:
        migrated.upgrade()
        yield migrated


@pytest.fixture
def directory(storage: Storage, tmp_path: Path) -> Iterator[TeamDirectory]:
    config = tmp_path / "pmo-bot.yaml"
    config.write_text(
        "teams:\n  - {id: filed, platform: slack, members: [U0FILE0001], digest_channel: C0FILE0001, "
        "services: [reporting]}\n",
        encoding="utf-8",
    )
    yield TeamDirectory(config, FUNCTIONS, store=TeamStore(storage))


def _save(directory: TeamDirectory, team_id: str, **changes: str) -> str:
    team, errors = read_team({**GOOD, **changes}, "slack", team_id, FUNCTIONS)
    assert team is not None, errors
    assert directory.store is not None
    data = team.model_dump(mode="json", exclude={"id"})
    return directory.store.save(team_id, data, "slack:U0ADMIN001", datetime.now(UTC), {"x": [1, 2]})


def test_chat_teams_join_the_file_teams_and_the_file_wins(directory: TeamDirectory) -> None:
    assert _save(directory, "chatty") == "created"
    assert _save(directory, "filed", digest_channel="C0OTHER001") == "created"  # shadowed
    directory.refresh()
    ids = [t.id for t in directory.load().teams]
    assert ids == ["filed", "chatty"]
    filed = directory.team("filed")
    assert filed.digest_channel == "C0FILE0001"  # the file's, not chat's
    assert directory.state("filed").source == "file" and directory.state("chatty").source == "chat"
    assert _save(directory, "chatty", min_responses="4") == "edited"
    directory.refresh()
    assert directory.team("chatty").survey.min_responses == 4


def test_pause_and_resume_skip_the_runs_due_between(directory: TeamDirectory) -> None:
    store = directory.store
    assert store is not None
    paused = datetime(2026, 12, 18, 12, tzinfo=UTC)
    assert store.set_paused("filed", True, "slack:U0ADMIN001", paused)
    assert not store.set_paused("filed", True, "slack:U0ADMIN001", paused)  # already paused
    directory.refresh()
    assert directory.state("filed").paused
    assert directory.skips("filed", paused + timedelta(days=3))
    assert not directory.skips("filed", paused - timedelta(days=3))
    resumed = paused + timedelta(days=4)
    assert store.set_paused("filed", False, "slack:U0ADMIN001", resumed)
    directory.refresh()
    assert not directory.state("filed").paused
    assert directory.skips("filed", paused + timedelta(days=3))  # fell in the pause: stays skipped
    assert not directory.skips("filed", resumed + timedelta(days=6))
    assert [c.action for c in store.changes("filed")] == ["paused", "resumed"]


def test_a_stored_team_this_build_cannot_run_is_left_out(directory: TeamDirectory, storage: Storage) -> None:
    _save(directory, "chatty")
    narrower = TeamDirectory(directory.path, {"reporting"}, store=TeamStore(storage))
    narrower.refresh()  # "governance" is unknown to it
    assert [t.id for t in narrower.load().teams] == ["filed"]


# -- from Slack, end to end -----------------------------------------------------------------------------


class Now:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Slack:
    """The served app and its fake Slack (``tests.test_survey_slack``), with time injected."""

    run: Running
    now: Now

    @property
    def fake(self) -> FakeSlack:
        return self.run.fake

    @property
    def storage(self) -> Storage:
        return self.run.storage

    @property
    def parts(self) -> Parts:
        assert self.run.parts is not None
        return self.run.parts

    async def cli(self, *args: str) -> tuple[int, str, str]:
        return await self.run.cli(*args)

    async def post(self, body: str, content_type: str) -> aiohttp.ClientResponse:
        return await self.run.post(body, content_type)

    async def command(self, user: str, text: str) -> str:
        """The answer to ``/pmo text`` as Slack gets it: "" when it opened a form instead."""
        return json.dumps(await self.run.command(user, text))

    async def submit(self, user: str, metadata: str, values: dict[str, str]) -> tuple[int, str]:
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": user},
            "api_app_id": "A0APP",
            "trigger_id": "t-submit",
            "view": {
                "id": "V0FORM0001",
                "type": "modal",
                "callback_id": "pmo:form",
                "private_metadata": metadata,
                "state": {"values": slack_state(values)},
            },
        }
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        response = await self.post(body, "application/x-www-form-urlencoded")
        return response.status, await response.text()

    async def tick(self, at: datetime) -> None:
        self.now.at = at
        survey = self.parts.survey
        assert survey is not None
        clock = SurveyClock(survey.surveys, survey.sender, on_close=survey.digest_on_close)
        await clock.tick()
        await survey.sender.send_due()

    def teams(self) -> list[tuple[str, bool]]:
        with self.storage.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, definition IS NOT NULL FROM survey_teams ORDER BY id"
            )
            return [(r[0], bool(r[1])) for r in rows]

    def runs(self, team_id: str) -> list[str]:
        with self.storage.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT period_key FROM survey_runs ORDER BY id")
            return [r[0] for r in rows if r[0].startswith(f"{team_id}/")]


def slack_state(values: dict[str, str]) -> dict[str, Any]:
    """Form values as Slack's view_submission carries them, by the element the modal used."""
    state: dict[str, Any] = {}
    for key, value in values.items():
        if key == "members":
            element = {"type": "multi_users_select", "selected_users": [v for v in value.split(",") if v]}
        elif key in ("digest_channel", "members_from_channel"):
            element = {"type": "conversations_select", "selected_conversation": value or None}
        elif key == "services":
            options = [{"value": v, "text": {"type": "plain_text", "text": v}} for v in value.split(",") if v]
            element = {"type": "multi_static_select", "selected_options": options}
        elif key in ("open_hours", "reminder_after_hours", "min_responses"):
            element = {"type": "number_input", "value": value or None}
        else:
            element = {"type": "plain_text_input", "value": value or None}
        state[key] = {key: element}
    return state


FILE_TEAM = (
    "teams:\n  - {id: t, name: File team, platform: slack, members: [U0FILE0001], "
    "digest_channel: C0DIGEST01, services: [reporting]}\n"
)


@pytest.fixture
async def slack(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Slack]:
    async with slack_server(kb, tmp_path, FILE_TEAM) as run:
        run.fake.channels.update({"C0DIGEST02": True, "C0NOTIN001": False, "C0CHAN0001": True})
        survey = run.parts.survey if run.parts is not None else None
        assert survey is not None and survey.desk.setup is not None
        # Time is injected where the survey parts read it: the schedule is weekly.
        now = Now(datetime(2026, 12, 11, 12, tzinfo=LONDON))
        survey.surveys.now = survey.sender.now = survey.desk.setup.now = now
        yield Slack(run, now)


def opened_form(fake: FakeSlack) -> dict[str, Any]:
    (call,) = fake.of("views.open")[-1:]
    view = call.body["view"]
    return json.loads(view) if isinstance(view, str) else view


async def test_an_admin_sets_up_a_team_from_slack_and_its_survey_runs_to_a_digest(slack: Slack) -> None:
    fake = slack.fake
    # A non-admin is refused, and no form opens.
    assert "Only PMO admins can do that" in await slack.command(MEMBERS[0], "survey setup")
    assert fake.of("views.open") == []

    # The admin's command opens the form at once (the command's own answer is empty).
    assert await slack.command(ADMIN, "survey setup") == "{}"
    view = opened_form(fake)
    assert view["callback_id"] == "pmo:form" and view["submit"]["text"] == "Save"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["members"]["element"]["type"] == "multi_users_select"
    assert blocks["digest_channel"]["element"]["type"] == "conversations_select"
    assert blocks["digest_channel"]["element"]["initial_conversation"] == "C0CHAN0001"  # where it was asked
    assert len(blocks["services"]["element"]["options"]) >= 20
    assert "pmo-bot.yaml (t)" in json.dumps(view["blocks"][0])  # the file wins, and the form says so
    metadata = view["private_metadata"]

    # Bad input is refused in the form, field by field, and nothing is saved.
    form = {"id": "newteam", "name": "New PMO", **GOOD, "members": ",".join(MEMBERS)}
    status, body = await slack.submit(
        ADMIN, metadata, {**form, "schedule": "0 9 31 2 *", "min_responses": "2"}
    )
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"schedule", "min_responses"}
    assert "never fires" in answer["errors"]["schedule"]
    for channel, reason in (("C0NOPE0001", "No channel C0NOPE0001"), ("C0NOTIN001", "not in C0NOTIN001")):
        status, body = await slack.submit(ADMIN, metadata, {**form, "digest_channel": channel})
        assert reason in json.loads(body)["errors"]["digest_channel"]
    status, body = await slack.submit(ADMIN, metadata, {**form, "id": "t"})
    assert "takes precedence" in json.loads(body)["errors"]["id"]
    assert slack.teams() == []

    # A forged submit from a non-admin saves nothing either, and says why.
    posts = len(fake.of("chat.postMessage"))
    status, body = await slack.submit(MEMBERS[0], metadata, form)
    assert status == 200 and slack.teams() == []
    refusal = (await fake.wait_for("chat.postMessage", posts + 1))[posts]
    assert refusal.body["channel"] == MEMBERS[0] and "Only PMO admins" in refusal.body["text"]

    # A good one closes the form and is saved; the admin gets a note of it.
    posts = len(fake.of("chat.postMessage"))
    status, body = await slack.submit(ADMIN, metadata, form)
    assert status == 200 and "errors" not in body
    assert slack.teams() == [("newteam", True)]
    note = json.dumps([c.body for c in (await fake.wait_for("chat.postMessage", posts + 1))[posts:]])
    assert "New PMO set up" in note and "Monday 14 December at 09:00" in note

    listed = await slack.command(ADMIN, "survey list")
    assert "newteam (New PMO)" in listed and "set up in chat" in listed and "teams file" in listed
    assert "set up in the teams file" in await slack.command(ADMIN, "survey setup t")
    # The operator's CLI knows the team too (a process of its own, reading the database).
    code, out, err = await slack.cli("survey", "status", "--team", "newteam", "--json")
    assert code == 0 and json.loads(out)["run"] is None, err
    preview = await slack.command(ADMIN, "survey preview newteam")
    assert "Preview for New PMO" in preview and "weekly PMO pulse" in preview

    # Its schedule opens the survey on Monday at 09:00 London time, to each member.
    await slack.tick(datetime(2026, 12, 14, 9, 0, 30, tzinfo=LONDON))
    assert slack.runs("newteam") == ["newteam/2026-W51"]
    for user in MEMBERS[:3]:
        button = buttons(survey_post(fake, user)["blocks"])[("reporting", "4")]
        await slack.run.click(user, button, slack.fake.response_url(f"click-{user}"))
    store = SurveyStore(slack.storage)
    run = store.latest_run("newteam")
    assert run is not None and len(store.respondents(run.id)) == 3

    # It closes 72 hours later and the digest is posted to the channel chosen in the form.
    await slack.tick(datetime(2026, 12, 17, 9, 1, tzinfo=LONDON))
    digests = [c.body for c in fake.of("chat.postMessage") if c.body.get("channel") == "C0DIGEST02"]
    assert len(digests) == 1 and "New PMO" in json.dumps(digests[0])


async def test_a_paused_team_skips_its_holiday_and_resume_brings_it_back(slack: Slack) -> None:
    await slack.command(ADMIN, "survey setup")
    metadata = opened_form(slack.fake)["private_metadata"]
    await slack.submit(ADMIN, metadata, {"id": "hols", **GOOD})
    await slack.tick(datetime(2026, 12, 14, 9, 0, 30, tzinfo=LONDON))
    assert slack.runs("hols") == ["hols/2026-W51"]

    slack.now.at = datetime(2026, 12, 18, 17, tzinfo=LONDON)
    assert "hols paused" in await slack.command(ADMIN, "survey pause hols")
    assert "was already paused" in await slack.command(ADMIN, "survey pause hols")
    assert "paused" in await slack.command(ADMIN, "survey list")
    await slack.tick(datetime(2026, 12, 21, 9, 0, 30, tzinfo=LONDON))  # the holiday week
    assert slack.runs("hols") == ["hols/2026-W51"]

    slack.now.at = datetime(2026, 12, 22, 10, tzinfo=LONDON)
    resumed = await slack.command(ADMIN, "survey resume hols")
    assert "hols resumed" in resumed and "Monday 28 December at 09:00" in resumed
    await slack.tick(datetime(2026, 12, 22, 10, 0, 30, tzinfo=LONDON))  # not caught up late
    assert slack.runs("hols") == ["hols/2026-W51"]
    await slack.tick(datetime(2026, 12, 28, 9, 0, 30, tzinfo=LONDON))
    assert slack.runs("hols") == ["hols/2026-W51", "hols/2026-W53"]

    # An edit, then the trail: every change, who made it and when.
    await slack.command(ADMIN, "survey setup hols")
    edit = opened_form(slack.fake)
    assert edit["title"]["text"] == "Edit hols"
    assert "id" not in {b.get("block_id") for b in edit["blocks"]}  # the id is not changed
    status, body = await slack.submit(ADMIN, edit["private_metadata"], {**GOOD, "min_responses": "4"})
    assert status == 200 and "errors" not in body
    history = await slack.command(ADMIN, "survey history hols")
    lines = [line.lstrip("• ") for line in texts(json.loads(history)["blocks"]) if " by slack:" in line]
    assert [line.split(": ", 1)[1].split(" by ")[0] for line in lines] == [
        "created",
        "paused",
        "resumed",
        "edited (minimum answers for scores)",
    ]
    assert all(line.endswith(f"by slack:{ADMIN}") for line in lines)
    assert lines[1].startswith("18 Dec 2026 17:00")


def texts(node: object) -> list[str]:
    """Every line of text in blocks, in order."""
    if isinstance(node, dict):
        own = node.get("text")
        lines = own.splitlines() if isinstance(own, str) else []
        rest = [v for k, v in node.items() if k != "text" or not isinstance(v, str)]
        return lines + [line for value in rest for line in texts(value)]
    if isinstance(node, list):
        return [line for value in node for line in texts(value)]
    return []


def test_the_team_model_keeps_a_stored_definition_whole() -> None:
    team, _ = read_team(GOOD, "slack", "d", FUNCTIONS)
    assert team is not None
    again = Team.model_validate({**team.model_dump(mode="json", exclude={"id"}), "id": "d"})
    assert again == team


# -- from Teams, end to end -------------------------------------------------------------------------

NEW_CHANNEL = "19:newchan0a1b2c@thread.tacv2"


async def test_an_admin_sets_up_a_team_from_teams_cards_and_its_digest_posts(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    from tests.test_abuse import FAY, Clock, say, teams
    from tests.test_survey_teams import ANN, BOB, inputs, send_data, text_of

    async with teams(kb, tmp_path, Clock()) as stack:
        survey = stack.parts.survey
        assert survey is not None and survey.desk.setup is not None
        now = Now(datetime(2026, 12, 11, 12, tzinfo=LONDON))
        survey.surveys.now = survey.sender.now = survey.desk.setup.now = now

        assert "Only PMO admins can do that" in text_of((await say(stack, ANN, "/pmo survey setup")).body)

        card = (await say(stack, FAY, "/pmo survey setup")).body
        fields = inputs(card)
        assert {"id", "members", "digest_channel", "services", "schedule", "min_responses"} <= set(fields)
        assert (
            fields["services"]["isMultiSelect"] is True and fields["min_responses"]["type"] == "Input.Number"
        )
        assert "pmo-bot.yaml (t)" in text_of(card)  # the file wins, and the card says so
        data = send_data(card)
        form = {
            **GOOD,
            "id": "teamsnew",
            "members": f"{ANN.id}, {BOB.id}, {FAY.id}",
            "digest_channel": NEW_CHANNEL,
            "min_responses": "2",
        }

        async def submit(**values: str) -> str:
            before = len(stack.fake.sent)
            assert await stack.post(stack.activity(FAY, value={**data, **values})) == 201
            (reply,) = (await stack.fake.wait_for(before + 1))[before:]
            return text_of(reply.body)

        # Bad input comes back in the card with each reason, and nothing is saved.
        refused = await submit(**form)
        assert "Not saved yet" in refused and "At least 3" in refused
        refused = await submit(**{**form, "min_responses": "3"})
        assert "pmo-bot has not been added where" in refused  # the channel the bot is not in
        with stack.storage.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM survey_teams").scalar() == 0

        await stack.add_to_team(NEW_CHANNEL)
        saved = await submit(**{**form, "min_responses": "3"})
        assert "teamsnew set up" in saved and "Monday 14 December at 09:00" in saved

        # The schedule opens it; three answer; it closes and the digest goes to the new channel.
        now.at = datetime(2026, 12, 14, 9, 0, 30, tzinfo=LONDON)
        clock = SurveyClock(survey.surveys, survey.sender, on_close=survey.digest_on_close)
        await clock.tick()
        await survey.sender.send_due()
        store = SurveyStore(stack.storage)
        run = store.latest_run("teamsnew")
        assert run is not None and run.period_key == "teamsnew/2026-W51"
        for person in (ANN, BOB, FAY):
            ref = store.message_ref(run.id, "invite", person.id)
            assert ref is not None
            answer = {"pmo": Action("survey_submit", {"run": str(run.id)}).encode(), "q:reporting": "4"}
            assert (
                await stack.post(stack.activity(person, value=answer, replyToId=ref.rsplit("/", 1)[1])) == 201
            )
        assert len(store.respondents(run.id)) == 3
        before = len(stack.fake.sent)
        now.at = datetime(2026, 12, 17, 9, 1, tzinfo=LONDON)
        await clock.tick()
        posted = [
            s.body["activity"]
            for s in stack.fake.sent[before:]
            if s.path == "/v3/conversations" and s.body["channelData"]["channel"]["id"] == NEW_CHANNEL
        ]
        assert len(posted) == 1 and "answered 3" in text_of(posted[0])


def test_the_web_chat_sets_up_teams_only_on_its_own_machine(kb: KnowledgeBase, tmp_path: Path) -> None:
    from bot.app.surveys import build_surveys
    from bot.turn import Turn

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with Storage(url) as storage:
        storage.upgrade()
        settings = Settings.model_validate({"DATABASE_URL": url, "PMO_CONFIG": str(tmp_path / "none.yaml")})
        bot = Bot(kb)
        bot.surveys = build_surveys(settings, kb, storage, {}).desk
        remote = Turn("web", "cookie1", "cookie1")  # behind PMO_WEB_TOKEN, or on another address
        here = Turn("web", "cookie2", "cookie2", operator=True)
        assert (
            bot.handle_text("/pmo survey setup", remote).title
            == "Survey commands are for Slack and Teams admins"
        )
        form = bot.handle_text("/pmo survey setup", here).form
        assert form is not None and "platform" in [i.key for i in form.inputs]
        values = {
            **GOOD,
            "id": "webbed",
            "platform": "teams",
            "members": "29:1ann-aad",
            "digest_channel": "19:webdigest@thread.tacv2",
        }
        refused = bot.handle_action(Action("team_setup", values), remote)
        assert refused.form is None and TeamStore(storage).all() == []
        saved = bot.handle_action(Action("team_setup", values), here)
        assert saved.title == "webbed set up"
        [change] = TeamStore(storage).changes("webbed")
        assert change.by == "the web chat on the bot's own machine"
        # Opening a real team's survey stays out of the web chat, even its own machine's.
        assert (
            bot.handle_text("/pmo survey open webbed", here).title
            == "Survey commands are for Slack and Teams admins"
        )


def test_the_set_up_modal_passes_slack_s_own_checks(kb: KnowledgeBase, tmp_path: Path) -> None:
    from slack_sdk.models.views import View

    from adapters.slack.blocks import modal_errors, render_modal
    from jobs.setup_form import setup_form

    filled = Team.model_validate({"id": "d", "platform": "slack", "members": ["U0MEM00001"],
                                  "digest_channel": "C0DIGEST02", "services": ["reporting"]})  # fmt: skip
    for team in (None, filled):
        form = setup_form(kb, "slack", team, {}, {}, "Europe/London", "A note.", "d" if team else "")
        view = render_modal(Reply("Set up", form=form), json.dumps({"a": form.submit.encode()}))
        View(**view).validate_json()
        assert len(view["blocks"]) <= 100
        assert all(
            len(o["text"]["text"]) <= 75
            for b in view["blocks"]
            for o in b.get("element", {}).get("options", [])
        )
    refused = setup_form(kb, "slack", None, {}, {"schedule": "x" * 400, "nowhere": "y"}, "UTC", "", "")
    errors = modal_errors(refused)
    assert (
        set(errors) == {"schedule", "id"} and len(errors["schedule"]) <= 150
    )  # unknown keys: the first field


# -- what a review found ----------------------------------------------------------------------------


def test_a_second_first_save_of_one_id_writes_nothing(directory: TeamDirectory) -> None:
    store = directory.store
    assert store is not None
    data = {
        "platform": "slack",
        "members": ["U0MEM00001"],
        "digest_channel": "C0D",
        "services": ["reporting"],
    }
    now = datetime.now(UTC)
    assert store.save("dup", data, "slack:U0A", now, {}, new=True) == "created"
    assert store.save("dup", {**data, "members": ["U0MEM00002"]}, "slack:U0B", now, {}, new=True) == "exists"
    stored = store.get("dup")
    assert stored is not None and stored.definition == data
    assert [c.by for c in store.changes("dup")] == ["slack:U0A"]


def test_remove_hidden_and_invalid_teams_are_said_not_lost(kb: KnowledgeBase, tmp_path: Path) -> None:
    from bot.app.surveys import build_surveys
    from bot.turn import Turn

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = tmp_path / "pmo-bot.yaml"
    config.write_text(FILE_TEAM, encoding="utf-8")
    admin = Turn("slack", "U0ADMIN001", "D0ADMIN001")
    with Storage(url) as storage:
        storage.upgrade()
        settings = Settings.model_validate(
            {"DATABASE_URL": url, "PMO_CONFIG": str(config), "PMO_ADMINS": "slack:U0ADMIN001"}
        )
        bot = Bot(kb)
        parts = build_surveys(settings, kb, storage, {})
        bot.surveys = parts.desk
        store = TeamStore(storage)
        now = datetime.now(UTC)

        # A team of the file's id saved from chat (before the file named it) is listed, not run.
        store.save("t", {"platform": "slack", "members": ["U0X00001"], "digest_channel": "C0D",
                         "services": ["reporting"]}, "slack:U0ADMIN001", now, {})  # fmt: skip
        # One saved with a service this build lacks.
        store.save("odd", {"platform": "slack", "members": ["U0X00001"], "digest_channel": "C0D",
                           "services": ["astrology"]}, "slack:U0ADMIN001", now, {})  # fmt: skip
        parts.surveys.teams.refresh()  # as another process's saves are read within seconds
        listed = " ".join(bot.handle_text("/pmo survey list", admin).sections[0].bullets)
        assert "t · set up in chat, not run: the teams file names it too" in listed
        assert "odd · set up in chat, not valid here" in listed and "astrology" in listed
        edit = bot.handle_text("/pmo survey setup odd", admin)
        assert edit.form is not None and "this build cannot run it" in edit.sections[0].text
        assert dict(edit.form.submit.slots) == {"editing": "odd", "platform": "slack"}

        # Saving a team whose id is paused says so; an unchanged edit writes nothing.
        store.set_paused("new", True, "slack:U0ADMIN001", now)
        parts.surveys.teams.refresh()
        values = {**GOOD, "id": "new"}
        saved = bot.handle_action(Action("team_setup", {"editing": "", **values}), admin)
        assert "It is paused" in saved.sections[0].text and "none while paused" in str(saved.sections)
        again = bot.handle_action(Action("team_setup", {**values, "editing": "new"}), admin)
        assert again.title == "new unchanged"
        assert [c.action for c in store.changes("new")] == ["paused", "created"]

        # Removed from chat: no longer listed or run; its trail says so.
        gone = bot.handle_text("/pmo survey remove new", admin)
        assert gone.title == "new removed", gone
        assert "new ·" not in " ".join(bot.handle_text("/pmo survey list", admin).sections[0].bullets)
        assert [c.action for c in store.changes("new")][-1] == "removed"
        assert bot.handle_text("/pmo survey remove new", admin).title == "No such team"
        # The file's own team is not removed from chat; the chat copy it hid is.
        store.remove("t", "slack:U0ADMIN001", now)
        parts.surveys.teams.refresh()
        assert bot.handle_text("/pmo survey remove t", admin).title == "t is set up in the teams file"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("members", "alice@contoso.com", "Not a Teams user id"),
        ("members", "Bob.Smith", "Not a Teams user id"),
        ("digest_channel", "C0DIGEST02", "Not a Teams conversation id"),
    ],
)
def test_teams_ids_are_checked_too(field: str, value: str, reason: str) -> None:
    good = {**GOOD, "members": "29:1ann-aad", "digest_channel": "19:abc@thread.tacv2"}
    team, errors = read_team({**good, field: value}, "teams", "d", FUNCTIONS)
    assert team is None and reason in errors[field]
    team, errors = read_team(good, "teams", "d", FUNCTIONS)
    assert errors == {} and team is not None


async def test_a_set_up_asked_in_a_dm_offers_a_button_that_opens_the_form(slack: Slack) -> None:
    fake = slack.fake
    before = len(fake.of("chat.postMessage"))
    dm = fake.dm_channel(ADMIN)
    event = {"type": "message", "channel": dm, "channel_type": "im", "user": ADMIN,
             "text": "/pmo survey setup", "ts": "5.1", "team": TEAM}  # fmt: skip
    envelope = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev0SETUP01", "event": event}
    assert (await slack.post(json.dumps(envelope), "application/json")).status == 200
    posted = (await fake.wait_for("chat.postMessage", before + 1))[before]
    [button] = [
        e
        for block in posted.body["blocks"]
        for e in block.get("elements") or []
        if e.get("text", {}).get("text") == "Open the set-up form"
    ]
    assert fake.of("views.open") == []
    await slack.run.click(ADMIN, button, fake.response_url("open-form"))
    await fake.wait_for("views.open", 1)
    view = opened_form(fake)
    assert view["title"]["text"] == "Set up a team" and view["submit"]["text"] == "Save"
