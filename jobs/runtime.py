"""Putting the survey parts together from settings: used by ``serve``, ``clock`` and the CLI."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.ports import Courier
from bot.settings import Settings
from bot.storage import Storage
from bot.storage.surveys import SurveyStore
from jobs.config import TeamsConfig
from jobs.desk import SurveyDesk
from jobs.pacing import Limits, Pacer
from jobs.sender import Sender, SenderSettings
from jobs.surveys import Surveys
from knowledge.base import KnowledgeBase

SECRET_NAME = "survey_response_key"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SurveyParts:
    store: SurveyStore
    surveys: Surveys
    sender: Sender
    desk: SurveyDesk


def build_surveys(
    settings: Settings, kb: KnowledgeBase, storage: Storage, couriers: Mapping[str, Courier]
) -> SurveyParts:
    store = SurveyStore(storage)
    teams = TeamsConfig(settings.pmo_config, kb.functions.keys())
    configured = settings.pmo_response_secret
    secret = configured.get_secret_value() if configured is not None else store.secret(SECRET_NAME)
    surveys = Surveys(store, teams, kb, couriers, secret.encode(), utc_now, settings.pmo_timezone)
    pacer = Pacer(
        Limits(slack_workspace=settings.pmo_slack_rate, teams_tenant=settings.pmo_teams_rate), time.monotonic
    )
    sender = Sender(
        store, couriers, surveys.message, pacer, utc_now, SenderSettings(lease_s=settings.pmo_outbox_lease_s)
    )
    return SurveyParts(store, surveys, sender, SurveyDesk(surveys, settings.admins))
