"""One team, members on Slack and on Teams: one survey reaches each on their platform, and one
digest counts them all. Real adapters against the fake Slack and the fake connector on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from adapters.slack.app import SlackAdapter
from adapters.teams.app import BotCredentials, TeamsAdapter
from bot.core import Bot
from bot.reply import Action
from bot.storage import Storage
from bot.storage.surveys import SurveyStore
from jobs.config import TeamsFile
from jobs.digest import Digests
from jobs.pacing import Limits, Pacer
from jobs.sender import Sender
from jobs.surveys import Surveys
from knowledge.base import KnowledgeBase
from tests.fake_connector import FakeConnector
from tests.fake_slack import BOT_TOKEN, FakeSlack

TEAMS_PEOPLE = ("29:teams-ann", "29:teams-bob")


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeSlack, FakeConnector]]:
    slack, connector = FakeSlack(), FakeConnector()
    await slack.start()
    await connector.start()
    yield slack, connector
    await slack.stop()
    await connector.stop()


def installed(storage: Storage, user: str, service_url: str) -> None:
    """A stored conversation reference, as the Teams adapter keeps one when someone installs the app."""
    reference = ConversationReference(
        conversation=ConversationAccount(id=f"a:{user}", conversation_type="personal"),
        user=ChannelAccount(id=user),
        bot=ChannelAccount(id="28:pmo-bot"),
        channel_id="msteams",
        service_url=service_url,
    )
    storage.save_reference("teams", user, "user", json.dumps(reference.serialize()), "tenant-1")


async def test_one_survey_spans_slack_and_teams_and_one_digest_counts_both(
    fakes: tuple[FakeSlack, FakeConnector], kb: KnowledgeBase, tmp_path: Path
) -> None:
    fake_slack, connector = fakes
    config = tmp_path / "pmo-bot.yaml"
    config.write_text(
        "teams:\n  - id: mix\n    platform: slack\n"
        f"    members: [U0SLACK001, U0SLACK002, teams:{TEAMS_PEOPLE[0]}, teams:{TEAMS_PEOPLE[1]}]\n"
        "    services: [reporting]\n    survey: {min_responses: 3}\n",
        encoding="utf-8",
    )
    with Storage(f"sqlite:///{tmp_path / 'bot.db'}") as storage:
        storage.upgrade()
        for person in TEAMS_PEOPLE:
            installed(storage, person, connector.service_url)
        bot = Bot(kb)
        slack = SlackAdapter(bot, BOT_TOKEN, "secret", fake_slack.api_url)
        teams_adapter = TeamsAdapter(bot, BotCredentials(), storage)
        store = SurveyStore(storage)
        teams = TeamsFile(config, kb.functions.keys())
        surveys = Surveys(
            store, teams, kb, {"slack": slack, "teams": teams_adapter}, b"k" * 32, lambda: datetime.now(UTC)
        )
        opened = await surveys.open("mix")
        assert opened.created and opened.invited == 4
        sender = Sender(
            store,
            surveys.couriers,
            surveys.message,
            Pacer(Limits(), time.monotonic),
            lambda: datetime.now(UTC),
        )
        assert await sender.drain() == 4
        await slack.close()
        assert sorted(c.body["channel"] for c in fake_slack.of("chat.postMessage")) == [
            "U0SLACK001",
            "U0SLACK002",
        ]
        assert sorted(p.conversation for p in connector.posts()) == [f"a:{p}" for p in TEAMS_PEOPLE]

        run = opened.run
        pick = Action("survey_answer", {"run": str(run.id), "q": "reporting", "v": "5"})
        assert "Recorded" in str(surveys.answer(pick, "slack:U0SLACK001"))
        assert "Recorded" in str(surveys.answer(pick, "slack:U0SLACK002"))
        card = Action("survey_submit", {"run": str(run.id), "q:reporting": "2"})
        assert "Recorded" in str(surveys.answer(card, f"teams:{TEAMS_PEOPLE[0]}"))
        # The same id on the other platform is somebody else, and was not invited.
        assert "sent to someone else" in str(surveys.answer(pick, f"slack:{TEAMS_PEOPLE[1]}"))
        surveys.close("mix")

        digest = Digests(store, teams, kb).build("mix")
        assert (digest.answered, digest.invited) == (3, 4)
        assert digest.scores[0].mean == 4.0  # (5 + 5 + 2) / 3
