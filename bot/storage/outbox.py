"""The outbox: claiming messages under a lease, settling them, and counting what is left.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several senders share an outbox without
waiting on each other; SQLite has one writer at a time, and a claim is a single UPDATE, so two
senders never take the same row there either."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from bot.storage.db import aware
from bot.storage.models import OutboxMessage
from bot.storage.survey_rows import (
    ERROR_LENGTH,
    FINAL,
    MESSAGE_COLUMNS,
    PENDING,
    SENDING,
    SENT,
    Message,
    Recipient,
    StoreBase,
    aware_from_db,
    message_from_row,
)


class OutboxStore(StoreBase):
    # -- the outbox -------------------------------------------------------------------------

    def claim(
        self, worker: str, now: datetime, lease_until: datetime, limit: int, platforms: Sequence[str]
    ) -> list[Message]:
        """Takes up to ``limit`` messages that are due, of runs on ``platforms``, for ``worker``,
        until ``lease_until``."""
        due = and_(OutboxMessage.state == PENDING, OutboxMessage.due_at <= aware(now))
        return self._claim(due, worker, lease_until, limit, platforms, count_attempt=True)

    def claim_stranded(
        self, worker: str, now: datetime, lease_until: datetime, limit: int, platforms: Sequence[str]
    ) -> list[Message]:
        """Takes messages whose sender's lease ran out mid-send (the process died): the caller must
        find out whether they were delivered before sending them again."""
        stranded = and_(OutboxMessage.state == SENDING, OutboxMessage.lease_until < aware(now))
        # Each check counts as an attempt, so that one that can never succeed ends.
        claimed = self._claim(stranded, worker, lease_until, limit, platforms, count_attempt=True)
        return [dataclasses.replace(m, stranded=True) for m in claimed]

    def _claim(
        self,
        condition: Any,
        worker: str,
        lease_until: datetime,
        limit: int,
        platforms: Sequence[str],
        count_attempt: bool,
    ) -> list[Message]:
        if not platforms:
            return []
        condition = and_(condition, OutboxMessage.platform.in_(list(platforms)))
        chosen = select(OutboxMessage.id).where(condition).order_by(OutboxMessage.id).limit(limit)
        values: dict[str, Any] = {"state": SENDING, "claimed_by": worker, "lease_until": aware(lease_until)}
        if count_attempt:
            values["attempts"] = OutboxMessage.attempts + 1
        statement = update(OutboxMessage).values(values).returning(*MESSAGE_COLUMNS)
        with self.storage.transaction() as connection:
            if self._dialect == "postgresql":
                # The ids first, locked, then the update: PostgreSQL may run a LIMIT ... SKIP LOCKED
                # subquery again for each row of the outer UPDATE, each run skipping the rows just
                # updated, and so claim every due row instead of ``limit``.
                ids = list(connection.execute(chosen.with_for_update(skip_locked=True)).scalars())
                if not ids:
                    return []
                statement = statement.where(OutboxMessage.id.in_(ids), condition)
            else:
                statement = statement.where(OutboxMessage.id.in_(chosen.scalar_subquery()), condition)
            rows = connection.execute(statement).mappings().all()
        return sorted((message_from_row(r) for r in rows), key=lambda m: m.id)

    def renew(self, message_id: int, worker: str, lease_until: datetime) -> bool:
        """Extends a claim still held; False when another sender has taken the message since."""
        return self._settle(message_id, worker, lease_until=aware(lease_until))

    def finish(
        self, message_id: int, worker: str, state: str, now: datetime, ref: str | None = None, error: str = ""
    ) -> bool:
        """Records the outcome of a send; False when the claim was lost (nothing is written)."""
        if state not in FINAL:
            raise ValueError(f"not a final state: {state}")
        return self._settle(
            message_id,
            worker,
            state=state,
            message_ref=ref,
            error=error[:ERROR_LENGTH] or None,
            sent_at=aware(now) if state == SENT else None,
            lease_until=None,
        )

    def retry_later(self, message_id: int, worker: str, due_at: datetime, error: str) -> bool:
        """Puts a message back in the queue, due at ``due_at``."""
        return self._settle(
            message_id,
            worker,
            state=PENDING,
            due_at=aware(due_at),
            error=error[:ERROR_LENGTH],
            lease_until=None,
        )

    def _settle(self, message_id: int, worker: str, **values: Any) -> bool:
        statement = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.claimed_by == worker,
                OutboxMessage.state == SENDING,
            )
            .values(**values)
            .execution_options(preserve_rowcount=True)
        )
        with self.storage.transaction() as connection:
            return connection.execute(statement).rowcount == 1

    def hurry(self, run_id: int, now: datetime) -> int:
        """Makes a run's queued messages due now (an operator resuming after fixing a problem)."""
        statement = (
            update(OutboxMessage)
            .where(
                OutboxMessage.run_id == run_id,
                OutboxMessage.state == PENDING,
                OutboxMessage.due_at > aware(now),
            )
            .values(due_at=aware(now))
            .execution_options(preserve_rowcount=True)
        )
        with self.storage.transaction() as connection:
            return int(connection.execute(statement).rowcount)

    def work_left(self, run_id: int | None = None, platforms: Sequence[str] | None = None) -> int:
        """Messages queued or being sent (of one run, or of all runs on ``platforms``)."""
        statement = select(func.count()).where(OutboxMessage.state.in_((PENDING, SENDING)))
        if run_id is not None:
            statement = statement.where(OutboxMessage.run_id == run_id)
        if platforms is not None:
            statement = statement.where(OutboxMessage.platform.in_(list(platforms)))
        with self.storage.transaction() as connection:
            return int(connection.execute(statement).scalar_one())

    def next_due(self) -> datetime | None:
        """When the earliest queued message falls due, or the earliest lease runs out."""
        with self.storage.transaction() as connection:
            pending = connection.execute(
                select(func.min(OutboxMessage.due_at)).where(OutboxMessage.state == PENDING)
            ).scalar_one()
            leased = connection.execute(
                select(func.min(OutboxMessage.lease_until)).where(OutboxMessage.state == SENDING)
            ).scalar_one()
        moments = [aware_from_db(m) for m in (pending, leased) if m is not None]
        return min(moments) if moments else None

    def delivery_counts(self, run_id: int) -> dict[tuple[str, str], int]:
        """(kind, state) → number of messages, for a run."""
        statement = (
            select(OutboxMessage.kind, OutboxMessage.state, func.count())
            .where(OutboxMessage.run_id == run_id)
            .group_by(OutboxMessage.kind, OutboxMessage.state)
        )
        with self.storage.transaction() as connection:
            return {(k, s): int(n) for k, s, n in connection.execute(statement)}

    def recipients(self, run_id: int, kind: str = "invite") -> list[Recipient]:
        statement = (
            select(OutboxMessage.recipient, OutboxMessage.workspace, OutboxMessage.platform)
            .where(OutboxMessage.run_id == run_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        with self.storage.transaction() as connection:
            return [Recipient(u, w, p) for u, w, p in connection.execute(statement)]

    def messages(self, run_id: int, kind: str) -> list[Message]:
        statement = (
            select(*MESSAGE_COLUMNS)
            .where(OutboxMessage.run_id == run_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        with self.storage.transaction() as connection:
            return [message_from_row(r) for r in connection.execute(statement).mappings()]

    def message_ref(self, run_id: int, kind: str, recipient: str) -> str | None:
        statement = select(OutboxMessage.message_ref).where(
            OutboxMessage.run_id == run_id, OutboxMessage.kind == kind, OutboxMessage.recipient == recipient
        )
        with self.storage.transaction() as connection:
            return connection.execute(statement).scalar_one_or_none()
