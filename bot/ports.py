"""The ports between the core and the rest.

Outbound: how jobs (surveys, digests) reach people and channels without knowing the platform; each
chat adapter offers it. Inbound: what the core hands survey and demo turns to (``jobs`` implements
them; the assembly in ``bot.app`` plugs them in). Nothing here imports a platform SDK."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.reply import Action, Reply
from bot.turn import Turn

# sent: delivered. unknown: the platform cannot reach this person yet (Teams: the app is not
# installed for them). inactive: the person blocked or removed the bot; do not try again.
Delivery = Literal["sent", "unknown", "inactive"]


@dataclass(frozen=True)
class Outcome:
    """What one attempt to deliver a message came to.

    ``retry`` means a passing failure (rate limit, server error, network): try again, after
    ``retry_after`` seconds when the platform said so. ``failed`` is a permanent refusal of this
    message. ``halt`` is a refusal of the bot itself (bad credentials, a missing scope, the
    platform unreachable): stop sending until it is fixed. ``ref`` is the platform's id of the
    message sent.
    """

    status: Literal["sent", "unknown", "inactive", "retry", "failed", "halt"]
    ref: str = ""
    retry_after: float | None = None
    rate_limited: bool = False
    error: str = ""


class Outbound(Protocol):
    platform: str

    async def post_report(
        self, channel_id: str, reply: Reply, image: bytes | None, image_name: str, marker: str = ""
    ) -> Delivery:
        """Post ``reply`` to a channel with an optional PNG (``image``, named ``image_name``) shown
        with it: a digest and its chart. ``marker`` tags it where the platform keeps such tags.

        The reply must carry the figures on its own: a chart the platform cannot take is logged and
        left out, and the delivery still counts as "sent" (Slack: the file is uploaded after the
        message; Teams: the chart is shown inline in the card)."""
        ...


class Courier(Outbound, Protocol):
    """What the survey sender needs of a platform: one attempt at a time, so that pacing and
    retries are decided in one place, and a way to find a message a crashed sender may have sent."""

    async def deliver(self, user_id: str, reply: Reply, marker: str) -> Outcome:
        """One attempt to send ``reply`` to a person, tagged with ``marker`` where the platform
        keeps such tags (Slack message metadata)."""
        ...

    async def find_delivery(self, user_id: str, marker: str, since: datetime) -> str | None:
        """The id of a message tagged ``marker`` sent to the person since ``since``, or None.
        Raises NotImplementedError where the platform cannot tell (Teams)."""
        ...

    async def find_report(self, channel_id: str, marker: str, since: datetime) -> str | None:
        """Where a report tagged ``marker`` was posted in the channel since ``since``, or None.
        Raises NotImplementedError where the platform cannot tell (Teams)."""
        ...

    async def check_channel(self, channel_id: str, post: bool) -> str:
        """Why the bot cannot use the channel (read its members; with ``post``, post in it), or ""
        when it can or the platform cannot tell. For refusing a team's set-up before it is saved."""
        ...

    async def members_of(self, channel_id: str) -> list[str]:
        """The people in a channel (Slack) or team (Teams), bots excluded where the platform says."""
        ...

    async def workspace_of(self, user_id: str) -> str:
        """The pacing key for messages to this person (a Slack workspace, a Teams tenant)."""
        ...


class ChatSurveys(Protocol):
    """Surveys as chat sees them (``jobs.desk.SurveyDesk``): the core hands survey turns to it."""

    def answer(self, action: Action, turn: Turn) -> Reply: ...

    def pending(self, turn: Turn) -> Reply: ...

    def admin(self, command: str, team_id: str, turn: Turn) -> Reply: ...

    def digest(self, team_id: str, turn: Turn) -> Reply: ...

    def home(self, turn: Turn, digest: str = "") -> list[Reply]:
        """What the Slack App Home shows of surveys to this person: their open surveys, then the
        latest digest of each of their teams they may see, in summary. With ``digest`` (a team id),
        that team's full digest alone, under the same rule."""
        ...


class DemoTeam(Protocol):
    """The made-up team the web chat lets anyone try a survey and its digest with (``jobs.demo``)."""

    def pulse(self, user: str) -> Reply: ...

    def close(self) -> Reply: ...

    def digest(self) -> Reply: ...

    def restart(self, user: str) -> Reply: ...


class ContextStore(Protocol):
    """Where conversations' last turns are kept when several web processes answer one person
    (``bot.storage.context``): a follow-up is understood whichever process it reaches."""

    def load(self, key: str) -> tuple[dict[str, object], float] | None: ...

    def save(self, key: str, data: dict[str, object], at: float) -> None: ...
