"""The Microsoft Teams adapter: botbuilder's CloudAdapter translating Teams to the core, and replies
back to Adaptive Cards.

botbuilder-python is end-of-life (4.17.1 is its final release). It is used here, and only here,
behind the same small interface the Slack adapter offers, so that a move to the Microsoft 365
Agents SDK touches this package alone. The work is split by role: :mod:`adapters.teams.inbound`
receives activities, :mod:`adapters.teams.courier` sends (replies, surveys, digests).
:class:`TeamsAdapter` puts them together behind one object: the courier the survey jobs are handed,
with the HTTP door in front.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from adapters.teams.courier import TeamsCourier
from adapters.teams.inbound import TeamsInbound
from bot.core import Bot
from bot.errors import ConfigError
from bot.storage import Storage


@dataclass(frozen=True)
class BotCredentials:
    """The Bot Framework app's credentials, as ConfigurationBotFrameworkAuthentication reads them:
    as attributes, since handed a dict it would silently switch authentication off."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"  # with no APP_ID this means local mode: no authentication
    APP_TENANTID: str = ""


class TeamsAdapter(TeamsCourier):
    def __init__(self, bot: Bot, credentials: BotCredentials, storage: Storage | None = None) -> None:
        _check(credentials)
        super().__init__(
            CloudAdapter(ConfigurationBotFrameworkAuthentication(credentials)), credentials.APP_ID, storage
        )
        self.bot = bot
        self.credentials = credentials
        self.inbound = TeamsInbound(bot, self, storage)

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /api/messages``: every activity Teams sends."""
        return await self.inbound.handle(request)


def _check(credentials: BotCredentials) -> None:
    """Name every missing Teams setting at once, by its environment variable."""
    kind = credentials.APP_TYPE.lower()
    if kind not in ("multitenant", "singletenant", "userassignedmsi"):
        raise ConfigError(
            "MICROSOFT_APP_TYPE must be SingleTenant, MultiTenant or UserAssignedMSI, "
            f"not {credentials.APP_TYPE}"
        )
    needed = []
    if credentials.APP_ID and kind != "userassignedmsi" and not credentials.APP_PASSWORD:
        needed.append("MICROSOFT_APP_PASSWORD")
    if credentials.APP_ID and kind in ("singletenant", "userassignedmsi") and not credentials.APP_TENANTID:
        needed.append("MICROSOFT_APP_TENANT_ID")
    if kind == "userassignedmsi" and not credentials.APP_ID:
        needed.append("MICROSOFT_APP_ID")
    if needed:
        raise ConfigError(f"Teams needs {' and '.join(needed)} as well as MICROSOFT_APP_ID")


__all__ = ["BotCredentials", "TeamsAdapter"]
