"""Survey runs: opening (with the outbox rows of its invitations), reminding, closing, finding."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from bot.storage.db import aware
from bot.storage.models import AppSecret, OutboxMessage, SurveyComment, SurveyResponse, SurveyRun
from bot.storage.survey_rows import (
    CANCELLED,
    INSERT_SLICE,
    PENDING,
    SENT,
    Recipient,
    Run,
    StoreBase,
    queued_row,
    run_from_row,
    unique_recipients,
)


class RunStore(StoreBase):
    # -- secrets  ----------------------------------------------------------------------------

    def secret(self, name: str, default: str | None = None) -> str:
        """The stored value called ``name``; when missing, ``default`` (or a new random secret) is
        stored first, once, whoever asks first."""
        value = default if default is not None else secrets.token_hex(32)
        statement = self._insert(AppSecret).values(name=name, value=value)
        with self.storage.transaction() as connection:
            connection.execute(statement.on_conflict_do_nothing())
            value = connection.execute(select(AppSecret.value).where(AppSecret.name == name)).scalar_one()
        return str(value)

    # -- runs -------------------------------------------------------------------------------

    def open_run(
        self,
        team_id: str,
        period_key: str,
        platform: str,
        services: Sequence[str],
        opened_at: datetime,
        remind_at: datetime | None,
        closes_at: datetime,
        recipients: Iterable[Recipient],
    ) -> tuple[Run, bool]:
        """The run of ``period_key`` and True when this call made it (with an invitation queued
        for each recipient, in the same transaction), or the existing run and False."""
        values = {
            "team_id": team_id,
            "period_key": period_key,
            "platform": platform,
            "services": json.dumps(list(services)),
            "state": "open",
            "opened_at": aware(opened_at),
            "remind_at": remind_at,
            "closes_at": aware(closes_at),
        }
        insert = self._insert(SurveyRun).values(values).on_conflict_do_nothing()
        with self.storage.transaction() as connection:
            created = connection.execute(insert.execution_options(preserve_rowcount=True)).rowcount == 1
            row = (
                connection.execute(select(SurveyRun).where(SurveyRun.period_key == period_key))
                .mappings()
                .one()
            )
            if created:
                rows = [
                    queued_row(row["id"], "invite", r, opened_at, platform)
                    for r in unique_recipients(recipients, platform)
                ]
                self._insert_rows(connection, rows)
        return run_from_row(row), created

    def run(self, run_id: int) -> Run | None:
        with self.storage.transaction() as connection:
            row = connection.execute(select(SurveyRun).where(SurveyRun.id == run_id)).mappings().first()
        return None if row is None else run_from_row(row)

    def run_for_period(self, period_key: str) -> Run | None:
        statement = select(SurveyRun).where(SurveyRun.period_key == period_key)
        with self.storage.transaction() as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else run_from_row(row)

    def latest_run(self, team_id: str, state: str | None = None) -> Run | None:
        statement = select(SurveyRun).where(SurveyRun.team_id == team_id)
        if state is not None:
            statement = statement.where(SurveyRun.state == state)
        statement = statement.order_by(SurveyRun.opened_at.desc(), SurveyRun.id.desc()).limit(1)
        with self.storage.transaction() as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else run_from_row(row)

    def open_runs(self) -> list[Run]:
        statement = select(SurveyRun).where(SurveyRun.state == "open").order_by(SurveyRun.id)
        with self.storage.transaction() as connection:
            return [run_from_row(r) for r in connection.execute(statement).mappings()]

    def invited_runs(self, platform: str, recipient: str, state: str = "open") -> list[Run]:
        """The runs (newest first) that invited ``recipient`` on ``platform``."""
        statement = (
            select(SurveyRun)
            .join(OutboxMessage, OutboxMessage.run_id == SurveyRun.id)
            .where(
                OutboxMessage.platform == platform,
                SurveyRun.state == state,
                OutboxMessage.kind == "invite",
                OutboxMessage.recipient == recipient,
            )
            .order_by(SurveyRun.opened_at.desc())
        )
        with self.storage.transaction() as connection:
            return [run_from_row(r) for r in connection.execute(statement).mappings()]

    def is_invited(self, run_id: int, recipient: str, platform: str | None = None) -> bool:
        statement = select(func.count()).where(
            OutboxMessage.run_id == run_id,
            OutboxMessage.kind == "invite",
            OutboxMessage.recipient == recipient,
        )
        if platform is not None:
            statement = statement.where(OutboxMessage.platform == platform)
        with self.storage.transaction() as connection:
            return int(connection.execute(statement).scalar_one()) > 0

    def queue_reminders(self, run_id: int, recipients: Iterable[Recipient], now: datetime) -> int:
        """Queues a reminder for each recipient (once per run and person); marks the run reminded.
        Returns how many were queued now."""
        run = self.run(run_id)
        default = run.platform if run is not None else ""
        rows = [
            queued_row(run_id, "reminder", r, now, default) for r in unique_recipients(recipients, default)
        ]
        with self.storage.transaction() as connection:
            queued = self._insert_rows(connection, rows)
            # The first reminder's time stays: a crashed sender's reminders are looked for from it.
            connection.execute(
                update(SurveyRun)
                .where(SurveyRun.id == run_id, SurveyRun.reminded_at.is_(None))
                .values(reminded_at=aware(now))
            )
        return queued

    def _insert_rows(self, connection: Any, rows: list[dict[str, Any]]) -> int:
        """Outbox rows in slices: PostgreSQL takes at most 65,535 parameters a statement (about
        9,000 rows), and a team can be bigger."""
        inserted = 0
        for start in range(0, len(rows), INSERT_SLICE):
            insert = (
                self._insert(OutboxMessage)
                .values(rows[start : start + INSERT_SLICE])
                .on_conflict_do_nothing()
            )
            inserted += connection.execute(insert.execution_options(preserve_rowcount=True)).rowcount
        return inserted

    def close_run(self, run_id: int, now: datetime) -> bool:
        """Closes an open run (True), cancelling messages not yet sent; False when already closed."""
        with self.storage.transaction() as connection:
            closed = connection.execute(
                update(SurveyRun)
                .where(SurveyRun.id == run_id, SurveyRun.state == "open")
                .values(state="closed", closed_at=aware(now))
                .execution_options(preserve_rowcount=True)
            ).rowcount
            if closed:
                connection.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.run_id == run_id, OutboxMessage.state == PENDING)
                    .values(state=CANCELLED)
                )
        return bool(closed)

    def invite_delivered(self, run_id: int, recipients: Iterable[Recipient], now: datetime) -> int:
        """Invitations recorded as already delivered, for a platform where the person fetches the
        survey themselves (the web chat): nothing is queued for a sender. Returns how many are new."""
        rows = [{**queued_row(run_id, "invite", r, now, r.platform), "state": SENT} for r in recipients]
        with self.storage.transaction() as connection:
            return self._insert_rows(connection, rows)

    def forget_run(self, run_id: int) -> None:
        """Deletes a run with its messages and answers, in one transaction (the demo's "start again")."""
        with self.storage.transaction() as connection:
            for table in (SurveyComment, SurveyResponse, OutboxMessage):
                connection.execute(delete(table).where(table.run_id == run_id))
            connection.execute(delete(SurveyRun).where(SurveyRun.id == run_id))
