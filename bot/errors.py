"""The bot's own errors. Each carries a one-line message fit to show a user as it is.

    PmoBotError
    ├── ReviewError          a file that cannot be reviewed as a register (bad, empty, too big ...)
    ├── ConfigError          a setting or configuration file that cannot be used
    ├── SurveyError          a survey request refused for the surveys' state or the way it was asked
    │                        (already closed, none open, no digest yet, name the team ...)
    └── DeliveryError        a platform would not take a message (after its retries)

``knowledge.base.KnowledgeBaseError`` stands apart, since the knowledge package does not depend on
the bot.
"""

from __future__ import annotations


class PmoBotError(Exception):
    """Base of the bot's errors; ``str(error)`` is a complete sentence for the user."""


class ReviewError(PmoBotError):
    """The file cannot be reviewed as a register."""


class ConfigError(PmoBotError):
    """A setting or a configuration file cannot be used."""


class SurveyError(PmoBotError):
    """A survey request that cannot be done as asked: the survey's state does not allow it, or the
    request needs more (the team's name, a running server). Nothing is wrong with the settings."""


class DeliveryError(PmoBotError):
    """A platform refused a message for a reason other than the person being gone or a rate limit."""
