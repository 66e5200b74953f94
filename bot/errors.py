"""The bot's own errors. Each carries a one-line message fit to show a user as it is.

    PmoBotError
    ├── ReviewError          a file that cannot be reviewed as a register (bad, empty, too big ...)
    ├── ConfigError          a setting or configuration file that cannot be used
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


class DeliveryError(PmoBotError):
    """A platform refused a message for a reason other than the person being gone or a rate limit."""
