"""Who said something, and where: what the core needs to know of a message or a click.

Adapters fill one in from their platform's payload; the core and the survey desk read its fields
instead of taking apart a string key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    """``platform`` is "slack", "teams", "web", "cli" or "terminal". ``user`` is the platform's own
    id of the person ("U123"), "" where unknown. ``conversation`` is where it was said (a Slack
    channel or DM, a Teams conversation with its thread); ``channel`` is the channel a digest
    channel is compared with ("" outside a channel). ``workspace`` is the Slack workspace.
    ``shared`` is True where others read the answer (a Slack mention, a Teams channel or group
    chat), so nothing personal is shown there. ``operator`` is True for the person at the machine
    that runs the bot (the web chat served on a loopback address alone): they can edit its teams
    file and database anyway, so they may set up teams from the web chat."""

    platform: str
    user: str = ""
    conversation: str = ""
    channel: str = ""
    workspace: str = ""
    shared: bool = False
    operator: bool = False

    @classmethod
    def local(cls, conversation: str = "default", platform: str = "cli") -> Turn:
        """A turn on this machine (the terminal, ``ask``, tests): one person, known by no id."""
        return cls(platform, conversation=conversation)

    @property
    def person(self) -> str | None:
        """The platform-qualified id ("slack:U123") that PMO_ADMINS and survey members use."""
        return f"{self.platform}:{self.user}" if self.user else None

    @property
    def key(self) -> str:
        """The key of this conversation's memory: one person's thread of follow-ups."""
        return f"{self.platform}:{self.workspace}:{self.conversation}:{self.user}"


LOCAL = Turn.local()
