"""Survey tables: runs, the outbox of messages, anonymous answers. Only SQL here; the rules of a
survey live in ``jobs``. Each method is one transaction.

``SurveyStore`` is the one door; its parts live in ``survey_runs``, ``outbox`` and ``answers``, and
the values they share in ``survey_rows``.
"""

from __future__ import annotations

from bot.storage.answers import AnswerStore
from bot.storage.outbox import OutboxStore
from bot.storage.survey_rows import (
    CANCELLED,
    FAILED,
    FINAL,
    INACTIVE,
    PENDING,
    SENDING,
    SENT,
    UNCHECKED,
    UNKNOWN,
    Message,
    Recipient,
    Run,
    RunClosed,
    aware_from_db,
)
from bot.storage.survey_runs import RunStore

__all__ = [
    "CANCELLED",
    "FAILED",
    "FINAL",
    "INACTIVE",
    "PENDING",
    "SENDING",
    "SENT",
    "UNCHECKED",
    "UNKNOWN",
    "Message",
    "Recipient",
    "Run",
    "RunClosed",
    "SurveyStore",
    "aware_from_db",
]


class SurveyStore(RunStore, OutboxStore, AnswerStore):
    """Runs, the outbox and answers of pulse surveys, over one database."""
