"""``Storage``: the one door to the database. Nothing outside ``bot.storage`` writes SQL.

Each call is one short transaction on a pooled connection, safe to call from several threads
(``asyncio.to_thread``) and from several processes sharing the database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import Insert

from bot.storage.engine import make_engine
from bot.storage.errors import StorageError, cannot_open, failed, redact
from bot.storage.migrate import run_upgrade
from bot.storage.models import EVENT_ID_LENGTH, SOURCE_LENGTH, ConversationRef, ProcessedEvent


class Storage:
    """The bot's database, from a SQLAlchemy URL (``DATABASE_URL``).

    Nothing connects until the first call. Every database failure comes out as StorageError with
    a one-line message; a programming error (a naive datetime, an empty id) as ValueError.
    """

    def __init__(self, url: str) -> None:
        self._raw_url = url
        self.url = redact(url)
        try:
            self._engine: Engine = make_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as error:
            # The original error may quote the URL, password and all; the message says enough.
            raise cannot_open(url, error) from None

    @property
    def engine(self) -> Engine:
        """For the other modules of ``bot.storage`` only."""
        return self._engine

    def upgrade(self) -> None:
        """Applies every pending migration; a no-op when there is none, safe from several processes."""
        with self._connection() as connection:
            try:
                run_upgrade(connection)
            except CommandError as error:
                # Typically a database migrated by a newer pmo-bot than this one.
                raise StorageError(f"cannot upgrade the database at {self.url}: {error}") from None

    def claim_event(self, event_id: str, source: str = "slack", now: datetime | None = None) -> bool:
        """True the first time ``event_id`` is seen, False for a repeat (a platform's retry).

        Atomic across threads, processes and restarts: the database's primary key decides.
        """
        if not 0 < len(event_id) <= EVENT_ID_LENGTH:
            raise ValueError(f"an event id has 1 to {EVENT_ID_LENGTH} characters, not {len(event_id)}")
        if not 0 < len(source) <= SOURCE_LENGTH:
            raise ValueError(f"an event source has 1 to {SOURCE_LENGTH} characters, not {len(source)}")
        received_at = datetime.now(UTC) if now is None else aware(now)
        statement = self._insert_new({"event_id": event_id, "source": source, "received_at": received_at})
        with self._transaction() as connection:
            return connection.execute(statement).rowcount == 1

    def forget_events_before(self, cutoff: datetime) -> int:
        """Deletes the events received before ``cutoff``; returns how many."""
        statement = delete(ProcessedEvent).where(ProcessedEvent.received_at < aware(cutoff))
        with self._transaction() as connection:
            return connection.execute(statement).rowcount

    def save_reference(
        self,
        platform: str,
        key: str,
        kind: str,
        reference: str,
        tenant_id: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Stores (or refreshes) where ``key`` can be reached; saving marks it active again."""
        values = {
            "platform": platform,
            "key": key,
            "kind": kind,
            "reference": reference,
            "tenant_id": tenant_id,
            "active": True,
            "updated_at": datetime.now(UTC) if now is None else aware(now),
        }
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(ConversationRef).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["platform", "key"],
            set_={
                k: statement.excluded[k] for k in ("kind", "reference", "tenant_id", "active", "updated_at")
            },
        )
        with self._transaction() as connection:
            connection.execute(statement)

    def reference(self, platform: str, key: str) -> ConversationRefRow | None:
        """The stored reference for ``key``, or None; inactive ones are returned too."""
        statement = select(ConversationRef).where(
            ConversationRef.platform == platform, ConversationRef.key == key
        )
        with self._transaction() as connection:
            row = connection.execute(statement).mappings().first()
        if row is None:
            return None
        return ConversationRefRow(
            row["platform"], row["key"], row["kind"], row["reference"], row["tenant_id"], bool(row["active"])
        )

    def mark_inactive(self, platform: str, key: str) -> None:
        statement = (
            update(ConversationRef)
            .where(ConversationRef.platform == platform, ConversationRef.key == key)
            .values(active=False)
        )
        with self._transaction() as connection:
            connection.execute(statement)

    def health(self) -> bool:
        """True when the database answers, False when it cannot be reached or fails."""
        try:
            with self._transaction() as connection:
                return connection.execute(select(1)).scalar_one() == 1
        except StorageError:
            return False

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Storage:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Storage({self.url!r})"

    def _insert_new(self, event: dict[str, object]) -> Insert:
        # ON CONFLICT DO NOTHING, not a SELECT then an INSERT: two deliveries racing in different
        # processes must not both see "new".
        # SQLAlchemy keeps an INSERT's rowcount only when asked, and psycopg forgets it once the
        # cursor closes: without the option every claim on PostgreSQL would read as a repeat.
        if self._engine.dialect.name == "postgresql":
            statement: Insert = postgresql.insert(ProcessedEvent).values(event).on_conflict_do_nothing()
        else:
            statement = sqlite.insert(ProcessedEvent).values(event).on_conflict_do_nothing()
        return statement.execution_options(preserve_rowcount=True)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        try:
            connection = self._engine.connect()
        except SQLAlchemyError as error:
            raise cannot_open(self._raw_url, error) from None
        try:
            yield connection
        except SQLAlchemyError as error:
            raise failed(self._raw_url, error) from error
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._connection() as connection, connection.begin():
            yield connection

    def transaction(self) -> contextlib.AbstractContextManager[Connection]:
        """One transaction, for the other modules of ``bot.storage`` only."""
        return self._transaction()


@dataclass(frozen=True)
class ConversationRefRow:
    platform: str
    key: str
    kind: str
    reference: str
    tenant_id: str | None
    active: bool


def aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"pass an aware datetime (with a time zone), not {moment.isoformat()}")
    return moment


def upgrade(url: str) -> None:
    """Applies every pending migration to the database at ``url`` (``pmo-bot db upgrade``)."""
    with Storage(url) as storage:
        storage.upgrade()
