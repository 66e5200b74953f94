"""Putting the survey parts together from settings: used by ``serve``, ``clock`` and the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import ConfigError, DeliveryError, PmoBotError
from bot.ports import Courier
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.digests import DigestLedger
from bot.storage.surveys import Run, SurveyStore
from bot.storage.teams import TeamStore
from jobs import demo as demo_team
from jobs.desk import SurveyDesk
from jobs.digest import Digests
from jobs.pacing import Limits, Pacer
from jobs.sender import Sender, SenderSettings
from jobs.setup import TeamSetup
from jobs.surveys import Surveys
from jobs.teams import TeamDirectory
from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)
SECRET_NAME = "survey_response_key"
# A digest's poster holds it this long: far longer than rendering and posting one takes.
DIGEST_LEASE = dt.timedelta(minutes=2)
# Digests of runs closed longer ago than this are not posted late: the news is stale.
DIGEST_CATCH_UP = dt.timedelta(days=2)
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
    ledger: DigestLedger
    demo: demo_team.Demo | None = None
    clock_tick_s: float = 60.0

    async def digest_on_close(self, run: Run) -> None:
        """When a run closes (on time, or by hand from chat), or the clock finds a digest nobody
        posted: the digest to the team's channel, once, however many processes try."""
        try:
            line = await self.post_digest_once(run)
            if line:
                log.info(line)
        except Exception:
            log.exception("posting a digest failed", extra={"team": run.team_id, "period": run.period_key})

    async def post_due_digests(self) -> None:
        """Digests of runs closed lately that nobody posted (their poster died): posted now."""
        now = utc_now()
        for run_id in await asyncio.to_thread(self.ledger.due, now, now - DIGEST_CATCH_UP):
            run = await asyncio.to_thread(self.store.run, run_id)
            if run is not None:
                await self.digest_on_close(run)

    async def post_digest_once(self, run: Run) -> str:
        """Claims the run's digest and posts it; "" when it is posted already or another process
        is posting it. A claim left by a process that died is first looked for in the channel."""
        team = self.surveys.teams.find(run.team_id)
        now = utc_now()
        worker = self.sender.worker
        claim = await asyncio.to_thread(self.ledger.claim, run.id, worker, now, now + DIGEST_LEASE)
        if claim is None:
            return ""
        if team is None or not team.digest_channel:
            # A team gone from the file, or one without a channel: nowhere to post, ever.
            await asyncio.to_thread(self.ledger.posted, run.id, worker, now, "not posted: no digest channel")
            return ""
        marker = f"pmo-digest-{run.id}"
        if claim.kind == "stranded":
            since = (run.closed_at or run.opened_at) - dt.timedelta(minutes=5)
            try:
                found = await self.surveys.courier(team.platform).find_report(
                    team.digest_channel, marker, since
                )
            except NotImplementedError:
                found = None  # Teams cannot be asked: posting again is the lesser harm than none
            if found is not None:
                await asyncio.to_thread(self.ledger.posted, run.id, worker, utc_now(), found)
                return f"The digest of {run.period_key} was posted before its poster stopped ({found})."
        closed = await asyncio.to_thread(self.store.run, run.id)
        try:
            line = await self.post_digest(run.team_id, closed, marker)
        except PmoBotError as exc:
            # Refused for good (the bot is not in the channel): recorded, so that it is not retried
            # every minute; `pmo-bot digest --post` posts it once the channel is fixed.
            await asyncio.to_thread(self.ledger.posted, run.id, worker, utc_now(), f"not posted: {exc}")
            raise
        await asyncio.to_thread(self.ledger.posted, run.id, worker, utc_now(), team.digest_channel)
        return line

    async def post_digest(self, team_id: str, run: Run | None = None, marker: str = "") -> str:
        """Posts the digest of the team's latest closed run (or ``run``) to its digest channel;
        returns a line saying what was posted where."""
        from jobs.chart import chart_png

        team = self.surveys.teams.team(team_id)
        if not team.digest_channel:
            raise ConfigError(f"team {team_id} has no digest_channel in {self.surveys.teams.path}")
        digest = await asyncio.to_thread(self.digests.build, team_id, run)
        courier = self.surveys.courier(team.platform)
        image = await asyncio.to_thread(chart_png, digest)
        name = f"pmo-pulse-{digest.period_key.replace('/', '-')}.png"
        reply = self.digests.reply(digest)
        delivery = await courier.post_report(team.digest_channel, reply, image, name, marker)
        if delivery == "unknown":
            raise DeliveryError(
                f"the bot cannot post in {team.digest_channel} yet: add the app to that channel first"
            )
        if delivery == "inactive":
            raise DeliveryError(f"the bot was removed from {team.digest_channel}, or cannot reach it")
        # The counts are in the digest itself, and in what `survey close` says before this line.
        return f"Posted the digest of {digest.period_key} to {team.digest_channel}."


def build_surveys(
    settings: Settings, kb: KnowledgeBase, storage: Storage, couriers: Mapping[str, Courier]
) -> SurveyParts:
    store = SurveyStore(storage)
    extra = (demo_team.TEAM,) if settings.demo_enabled else ()
    team_store = TeamStore(storage)
    teams = TeamDirectory(settings.pmo_config, kb.functions.keys(), extra, team_store)
    teams.refresh()
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
    desk.setup = TeamSetup(surveys, teams, team_store, desk.check_channel, utc_now)
    demo = None
    if settings.demo_enabled:
        demo = demo_team.Demo(surveys, digests, utc_now)
    ledger = DigestLedger(storage)
    return SurveyParts(store, surveys, sender, desk, digests, ledger, demo, settings.pmo_clock_tick_s)
