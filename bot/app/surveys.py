"""Putting the survey parts together from settings: used by ``serve``, ``clock`` and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import ConfigError, DeliveryError
from bot.ports import Courier
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.surveys import Run, SurveyStore
from jobs import demo as demo_team
from jobs.config import TeamsConfig
from jobs.desk import SurveyDesk
from jobs.digest import Digests
from jobs.pacing import Limits, Pacer
from jobs.sender import Sender, SenderSettings
from jobs.surveys import Surveys
from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)
SECRET_NAME = "survey_response_key"
FINGERPRINT_NAME = "survey_response_key_fingerprint"


def response_key(settings: Settings, store: SurveyStore) -> bytes:
    """The key of the hash that stands for a person in answers: ``PMO_RESPONSE_SECRET``, or else
    one made and kept in the database (then a copy of the database alone can link answers to
    people, so production should set it). Every process must use the same key, or one person
    would count twice: the first key's fingerprint is kept, and a different key is refused."""
    configured = settings.pmo_response_secret
    if configured is None:
        log.info("PMO_RESPONSE_SECRET is not set: survey answers are keyed with a key kept in the database")
        key = store.secret(SECRET_NAME).encode()
    else:
        key = configured.get_secret_value().encode()
    fingerprint = hashlib.sha256(b"pmo-bot response key\x00" + key).hexdigest()[:32]
    if store.secret(FINGERPRINT_NAME, fingerprint) != fingerprint:
        raise ConfigError(
            "PMO_RESPONSE_SECRET is not the key this database's survey answers were made with"
            + (" (it is unset here)" if configured is None else "")
            + ": use the same value in every process"
        )
    return key


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SurveyParts:
    store: SurveyStore
    surveys: Surveys
    sender: Sender
    desk: SurveyDesk
    digests: Digests
    demo: demo_team.Demo | None = None

    async def digest_on_close(self, run: Run) -> None:
        """When a run closes (on time, or by hand from chat): its digest to the team's channel."""
        try:
            # A team gone from the file, or the demo's (in a process where it is off): nowhere to post.
            team = self.surveys.teams.find(run.team_id)
            if team is not None and team.digest_channel:
                closed = await asyncio.to_thread(self.store.run, run.id)
                log.info(await self.post_digest(run.team_id, closed))
        except Exception:
            log.exception("posting a digest failed", extra={"team": run.team_id, "period": run.period_key})

    async def post_digest(self, team_id: str, run: Run | None = None) -> str:
        """Posts the digest of the team's latest closed run (or ``run``) to its digest channel;
        returns a line saying what was posted where."""
        from jobs.chart import chart_png

        team = self.surveys.teams.team(team_id)
        if not team.digest_channel:
            raise ConfigError(f"team {team_id} has no digest_channel in {self.surveys.teams.path}")
        digest = self.digests.build(team_id, run)
        courier = self.surveys.courier(team.platform)
        image = await asyncio.to_thread(chart_png, digest)
        name = f"pmo-pulse-{digest.period_key.replace('/', '-')}.png"
        delivery = await courier.post_report(team.digest_channel, self.digests.reply(digest), image, name)
        if delivery == "unknown":
            raise DeliveryError(
                f"the bot cannot post in {team.digest_channel} yet: add the app to that channel first"
            )
        if delivery == "inactive":
            raise DeliveryError(f"the bot was removed from {team.digest_channel}, or cannot reach it")
        counts = f"{digest.answered} of {digest.invited} answered"
        return f"Posted the digest of {digest.period_key} to {team.digest_channel} ({counts})."


def build_surveys(
    settings: Settings, kb: KnowledgeBase, storage: Storage, couriers: Mapping[str, Courier]
) -> SurveyParts:
    store = SurveyStore(storage)
    extra = (demo_team.TEAM,) if settings.demo_enabled else ()
    teams = TeamsConfig(settings.pmo_config, kb.functions.keys(), extra)
    secret = response_key(settings, store)
    surveys = Surveys(store, teams, kb, couriers, secret, utc_now, settings.pmo_timezone)
    pacer = Pacer(
        Limits(slack_workspace=settings.pmo_slack_rate, teams_tenant=settings.pmo_teams_rate), time.monotonic
    )
    sender = Sender(
        store,
        couriers,
        surveys.message,
        pacer,
        utc_now,
        SenderSettings(lease_s=settings.pmo_outbox_lease_s),
        wanted=surveys.wanted,
    )
    digests = Digests(store, teams, kb)
    desk = SurveyDesk(surveys, settings.admins, digests=digests)
    demo = None
    if settings.demo_enabled:
        demo = demo_team.Demo(surveys, digests, utc_now)
    return SurveyParts(store, surveys, sender, desk, digests, demo)
