"""Survey tables: runs, the outbox of messages, anonymous answers. Only SQL here; the rules of a
survey live in ``jobs``.

Each method is one transaction. Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
senders share an outbox without waiting on each other; SQLite has one writer at a time, and a
claim is a single UPDATE, so two senders never take the same row there either.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.db import Storage, aware
from bot.storage.models import AppSecret, OutboxMessage, SurveyComment, SurveyResponse, SurveyRun

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


class SurveyStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._dialect = storage.engine.dialect.name

    # -- secrets ----------------------------------------------------------------------------

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
                    _queued(row["id"], "invite", r, opened_at, platform)
                    for r in _unique(recipients, platform)
                ]
                self._insert_rows(connection, rows)
        return _run(row), created

    def run(self, run_id: int) -> Run | None:
        with self.storage.transaction() as connection:
            row = connection.execute(select(SurveyRun).where(SurveyRun.id == run_id)).mappings().first()
        return None if row is None else _run(row)

    def run_for_period(self, period_key: str) -> Run | None:
        statement = select(SurveyRun).where(SurveyRun.period_key == period_key)
        with self.storage.transaction() as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else _run(row)

    def latest_run(self, team_id: str, state: str | None = None) -> Run | None:
        statement = select(SurveyRun).where(SurveyRun.team_id == team_id)
        if state is not None:
            statement = statement.where(SurveyRun.state == state)
        statement = statement.order_by(SurveyRun.opened_at.desc(), SurveyRun.id.desc()).limit(1)
        with self.storage.transaction() as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else _run(row)

    def open_runs(self) -> list[Run]:
        statement = select(SurveyRun).where(SurveyRun.state == "open").order_by(SurveyRun.id)
        with self.storage.transaction() as connection:
            return [_run(r) for r in connection.execute(statement).mappings()]

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
            return [_run(r) for r in connection.execute(statement).mappings()]

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
        rows = [_queued(run_id, "reminder", r, now, default) for r in _unique(recipients, default)]
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
        rows = [{**_queued(run_id, "invite", r, now, r.platform), "state": SENT} for r in recipients]
        with self.storage.transaction() as connection:
            return self._insert_rows(connection, rows)

    def forget_run(self, run_id: int) -> None:
        """Deletes a run with its messages and answers, in one transaction (the demo's "start again")."""
        with self.storage.transaction() as connection:
            for table in (SurveyComment, SurveyResponse, OutboxMessage):
                connection.execute(delete(table).where(table.run_id == run_id))
            connection.execute(delete(SurveyRun).where(SurveyRun.id == run_id))

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
        statement = update(OutboxMessage).values(values).returning(*_MESSAGE_COLUMNS)
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
        return sorted((_message(r) for r in rows), key=lambda m: m.id)

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
            select(*_MESSAGE_COLUMNS)
            .where(OutboxMessage.run_id == run_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        with self.storage.transaction() as connection:
            return [_message(r) for r in connection.execute(statement).mappings()]

    def message_ref(self, run_id: int, kind: str, recipient: str) -> str | None:
        statement = select(OutboxMessage.message_ref).where(
            OutboxMessage.run_id == run_id, OutboxMessage.kind == kind, OutboxMessage.recipient == recipient
        )
        with self.storage.transaction() as connection:
            return connection.execute(statement).scalar_one_or_none()

    # -- answers ----------------------------------------------------------------------------

    def record_answer(
        self, run_id: int, respondent: str, ratings: dict[str, int | None], comment: str | None = None
    ) -> None:
        """Stores (or changes) a respondent's ratings and, unless None, comment (empty: removed),
        in one transaction and only while the run is open: ``RunClosed`` otherwise, so that a late
        answer is never half-kept."""
        with self.storage.transaction() as connection:
            self._check_open(connection, run_id)
            for function_id, score in ratings.items():
                values = {
                    "run_id": run_id,
                    "respondent": respondent,
                    "function_id": function_id,
                    "score": score,
                }
                statement = self._insert(SurveyResponse).values(values)
                statement = statement.on_conflict_do_update(
                    index_elements=["run_id", "respondent", "function_id"],
                    set_={"score": statement.excluded.score},
                )
                connection.execute(statement)
            if comment is not None:
                self._write_comment(connection, run_id, respondent, comment)

    def record_ratings(self, run_id: int, respondent: str, ratings: dict[str, int | None]) -> None:
        self.record_answer(run_id, respondent, ratings)

    def record_comment(self, run_id: int, respondent: str, text: str) -> None:
        self.record_answer(run_id, respondent, {}, text)

    def _write_comment(self, connection: Any, run_id: int, respondent: str, text: str) -> None:
        mine = and_(SurveyComment.run_id == run_id, SurveyComment.respondent == respondent)
        if not text:
            connection.execute(delete(SurveyComment).where(mine))
            return
        statement = self._insert(SurveyComment).values(run_id=run_id, respondent=respondent, text=text)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["run_id", "respondent"], set_={"text": statement.excluded.text}
            )
        )

    def answers_of(self, run_id: int, respondent: str) -> tuple[dict[str, int | None], str]:
        """One respondent's own ratings and comment, to show them what was recorded."""
        with self.storage.transaction() as connection:
            ratings = {
                f: s
                for f, s in connection.execute(
                    select(SurveyResponse.function_id, SurveyResponse.score).where(
                        SurveyResponse.run_id == run_id, SurveyResponse.respondent == respondent
                    )
                )
            }
            comment = connection.execute(
                select(SurveyComment.text).where(
                    SurveyComment.run_id == run_id, SurveyComment.respondent == respondent
                )
            ).scalar_one_or_none()
        return ratings, comment or ""

    def respondents(self, run_id: int) -> set[str]:
        """The keyed hashes of everyone who rated at least one service or left a comment."""
        ratings = select(SurveyResponse.respondent).where(SurveyResponse.run_id == run_id)
        comments = select(SurveyComment.respondent).where(SurveyComment.run_id == run_id)
        with self.storage.transaction() as connection:
            return {r for (r,) in connection.execute(ratings.union(comments))}

    # -- aggregates (for digests): counted in the database, never answer by answer in Python --------

    def score_counts(self, run_ids: Sequence[int]) -> dict[int, dict[str, dict[int | None, int]]]:
        """run → function → score (None: "didn't use it") → how many gave it."""
        statement = (
            select(SurveyResponse.run_id, SurveyResponse.function_id, SurveyResponse.score, func.count())
            .where(SurveyResponse.run_id.in_(list(run_ids)))
            .group_by(SurveyResponse.run_id, SurveyResponse.function_id, SurveyResponse.score)
        )
        out: dict[int, dict[str, dict[int | None, int]]] = {run_id: {} for run_id in run_ids}
        with self.storage.transaction() as connection:
            for run_id, function_id, score, count in connection.execute(statement):
                out[int(run_id)].setdefault(function_id, {})[score] = int(count)
        return out

    def answered_count(self, run_id: int) -> int:
        """How many people answered (a rating or a comment), counted in the database."""
        ratings = select(SurveyResponse.respondent).where(SurveyResponse.run_id == run_id)
        comments = select(SurveyComment.respondent).where(SurveyComment.run_id == run_id)
        both = ratings.union(comments).subquery()
        with self.storage.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(both)).scalar_one())

    def reached_count(self, run_id: int) -> int:
        """How many people a message of the run reached."""
        statement = select(func.count(func.distinct(OutboxMessage.recipient))).where(
            OutboxMessage.run_id == run_id, OutboxMessage.state == SENT
        )
        with self.storage.transaction() as connection:
            return int(connection.execute(statement).scalar_one())

    def comments(self, run_id: int) -> list[str]:
        statement = select(SurveyComment.text).where(SurveyComment.run_id == run_id)
        with self.storage.transaction() as connection:
            return [text for (text,) in connection.execute(statement)]

    def runs_before(self, team_id: str, run: Run, limit: int) -> list[Run]:
        """The team's closed runs opened before ``run``, newest first."""
        statement = (
            select(SurveyRun)
            .where(
                SurveyRun.team_id == team_id,
                SurveyRun.state == "closed",
                SurveyRun.opened_at < aware(run.opened_at),
            )
            .order_by(SurveyRun.opened_at.desc())
            .limit(limit)
        )
        with self.storage.transaction() as connection:
            return [_run(r) for r in connection.execute(statement).mappings()]

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


_MESSAGE_COLUMNS = (
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


def _queued(run_id: int, kind: str, recipient: Recipient, now: datetime, platform: str) -> dict[str, Any]:
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


def _unique(recipients: Iterable[Recipient], platform: str) -> list[Recipient]:
    """Each person once, on their platform (the run's when they name none)."""
    seen: dict[tuple[str, str], Recipient] = {}
    for r in recipients:
        r = r if r.platform else Recipient(r.user, r.workspace, platform)
        seen.setdefault((r.platform, r.user), r)
    return list(seen.values())


def _run(row: Any) -> Run:
    return Run(
        id=int(row["id"]),
        team_id=row["team_id"],
        period_key=row["period_key"],
        platform=row["platform"],
        services=tuple(json.loads(row["services"])),
        state=row["state"],
        opened_at=aware_from_db(row["opened_at"]),
        remind_at=_maybe(row["remind_at"]),
        closes_at=aware_from_db(row["closes_at"]),
        reminded_at=_maybe(row["reminded_at"]),
        closed_at=_maybe(row["closed_at"]),
    )


def _message(row: Any) -> Message:
    return Message(
        id=int(row["id"]),
        run_id=int(row["run_id"]),
        kind=row["kind"],
        recipient=row["recipient"],
        workspace=row["workspace"],
        state=row["state"],
        attempts=int(row["attempts"]),
        message_ref=row["message_ref"],
        lease_until=_maybe(row["lease_until"]),
        error=row["error"],
        platform=row["platform"],
    )


def _maybe(value: datetime | None) -> datetime | None:
    return None if value is None else aware_from_db(value)


def aware_from_db(value: datetime) -> datetime:
    """Values read with plain SELECTs of a column pass through UtcDateTime; aggregates (MIN) do not."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
