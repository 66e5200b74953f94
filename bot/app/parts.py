"""The parts a process is made of: settings, storage, the core bot, the platform adapters that have
credentials, and the survey runtime over them. ``serve``, ``clock``, ``worker`` and the operator
commands each build what they need from here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core import Bot
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from adapters.teams.app import TeamsAdapter
    from bot.app.surveys import SurveyParts
    from bot.ports import Courier
    from bot.storage import Storage


@dataclass
class Parts:
    settings: Settings
    bot: Bot
    storage: Storage | None
    slack: SlackAdapter | None = None
    teams: TeamsAdapter | None = None
    survey: SurveyParts | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def build_slack(parts: Parts, sending_only: bool = False) -> SlackAdapter | None:
    """The Slack adapter when Slack is configured; ``sending_only`` (the CLI, the clock) needs the
    bot token alone, since nothing is received."""
    settings = parts.settings
    if not (settings.slack_http_enabled or (sending_only and settings.slack_bot_token is not None)):
        return None
    from adapters.slack.app import SlackAdapter

    assert settings.slack_bot_token is not None
    # Sending only, nothing arrives to be verified; the verifier still wants a secret.
    secret = (
        settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else "not-used-when-only-sending"
    )
    storage = parts.storage

    async def claim(event_id: str) -> bool:
        if storage is None:
            return True
        return await asyncio.to_thread(storage.claim_event, event_id, "slack")

    return SlackAdapter(
        parts.bot,
        settings.slack_bot_token.get_secret_value(),
        secret,
        settings.slack_api_url,
        claim_event=claim,
    )


def build_teams(parts: Parts) -> TeamsAdapter:
    from adapters.teams.app import BotCredentials, TeamsAdapter

    settings = parts.settings
    password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
    credentials = BotCredentials(
        APP_ID=settings.microsoft_app_id or "",
        APP_PASSWORD=password,
        # Azure creates single-tenant bots now; without an app id the adapter runs in local mode.
        APP_TYPE=settings.microsoft_app_type
        or ("SingleTenant" if settings.microsoft_app_id else "MultiTenant"),
        APP_TENANTID=settings.microsoft_app_tenant_id or "",
    )
    return TeamsAdapter(parts.bot, credentials, parts.storage)


def couriers(parts: Parts) -> dict[str, Courier]:
    found: dict[str, Courier] = {}
    if parts.slack is not None:
        found["slack"] = parts.slack
    if parts.teams is not None:
        found["teams"] = parts.teams
    return found


def attach_surveys(parts: Parts) -> SurveyParts | None:
    """Survey parts over the adapters built so far; the core answers survey turns through them."""
    if parts.storage is None:
        return None
    from bot.app.surveys import build_surveys

    parts.survey = build_surveys(parts.settings, parts.bot.kb, parts.storage, couriers(parts))
    parts.bot.surveys = parts.survey.desk
    return parts.survey
