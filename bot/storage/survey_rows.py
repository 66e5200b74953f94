"""What the survey tables hold, as values: runs, outbox messages and recipients, the outbox states,
and the base the survey stores share (the dialect's INSERT, the open-run check)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.db import Storage, aware
from bot.storage.models import OutboxMessage, SurveyRun

# Outbox states. "sending" is claimed; the rest after it are final.
PENDING, SENDING = "pending", "sending"
SENT, UNKNOWN, INACTIVE, FAILED, CANCELLED = "sent", "unknown", "inactive", "failed", "cancelled"
# A stranded message whose delivery could not be checked, however often asked: not sent again, so
# that nobody gets it twice; it may or may not have arrived.
UNCHECKED = "unchecked"
FINAL = (SENT, UNKNOWN, INACTIVE, FAILED, CANCELLED, UNCHECKED)
ERROR_LENGTH = 255
INSERT_SLICE = 1000


@dataclass(frozen=True)
class Run:
    id: int
    team_id: str
    period_key: str
    platform: str
    services: tuple[str, ...]
    state: str
    opened_at: datetime
    remind_at: datetime | None
    closes_at: datetime
    reminded_at: datetime | None
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class Message:
    id: int
    run_id: int
    kind: str
    recipient: str
    workspace: str
    state: str
    attempts: int
    platform: str
    message_ref: str | None
    lease_until: datetime | None
    error: str | None = None
    # Claimed after its sender died mid-send: it may have been delivered already.
    stranded: bool = False


@dataclass(frozen=True)
class Recipient:
    user: str
    workspace: str
    platform: str = ""  # "": the run's platform


class StoreBase:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._dialect = storage.engine.dialect.name

    def _check_open(self, connection: Any, run_id: int) -> None:
        query = select(SurveyRun.state, SurveyRun.closed_at).where(SurveyRun.id == run_id)
        if self._dialect == "postgresql":
            # Held until the answer is written: a close waits for it, so none lands after one.
            query = query.with_for_update(read=True)
        row = connection.execute(query).first()
        if row is None or row[0] != "open":
            raise RunClosed(aware_from_db(row[1]) if row is not None and row[1] is not None else None)

    def _insert(self, table: Any) -> Any:
        # Any: the two dialects' Insert classes share the ON CONFLICT methods but no base class.
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        return insert(table)


class RunClosed(Exception):
    """An answer arrived after its run closed (``closed_at`` when known)."""

    def __init__(self, closed_at: datetime | None) -> None:
        super().__init__("the survey is closed")
        self.closed_at = closed_at


MESSAGE_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.run_id,
    OutboxMessage.kind,
    OutboxMessage.recipient,
    OutboxMessage.workspace,
    OutboxMessage.state,
    OutboxMessage.attempts,
    OutboxMessage.message_ref,
    OutboxMessage.lease_until,
    OutboxMessage.error,
    OutboxMessage.platform,
)


def queued_row(run_id: int, kind: str, recipient: Recipient, now: datetime, platform: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "kind": kind,
        "recipient": recipient.user,
        "platform": recipient.platform or platform,
        "workspace": recipient.workspace,
        "state": PENDING,
        "attempts": 0,
        "due_at": aware(now),
    }


def unique_recipients(recipients: Iterable[Recipient], platform: str) -> list[Recipient]:
    """Each person once, on their platform (the run's when they name none)."""
    seen: dict[tuple[str, str], Recipient] = {}
    for r in recipients:
        r = r if r.platform else Recipient(r.user, r.workspace, platform)
        seen.setdefault((r.platform, r.user), r)
    return list(seen.values())


def run_from_row(row: Any) -> Run:
    return Run(
        id=int(row["id"]),
        team_id=row["team_id"],
        period_key=row["period_key"],
        platform=row["platform"],
        services=tuple(json.loads(row["services"])),
        state=row["state"],
        opened_at=aware_from_db(row["opened_at"]),
        remind_at=maybe_from_db(row["remind_at"]),
        closes_at=aware_from_db(row["closes_at"]),
        reminded_at=maybe_from_db(row["reminded_at"]),
        closed_at=maybe_from_db(row["closed_at"]),
    )


def message_from_row(row: Any) -> Message:
    return Message(
        id=int(row["id"]),
        run_id=int(row["run_id"]),
        kind=row["kind"],
        recipient=row["recipient"],
        workspace=row["workspace"],
        state=row["state"],
        attempts=int(row["attempts"]),
        message_ref=row["message_ref"],
        lease_until=maybe_from_db(row["lease_until"]),
        error=row["error"],
        platform=row["platform"],
    )


def maybe_from_db(value: datetime | None) -> datetime | None:
    return None if value is None else aware_from_db(value)


def aware_from_db(value: datetime) -> datetime:
    """Values read with plain SELECTs of a column pass through UtcDateTime; aggregates (MIN) do not."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
