"""The tables, as typed declarative models. Migrations, not ``create_all``, create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Dialect, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

EVENT_ID_LENGTH = 128
SOURCE_LENGTH = 16


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC.

    SQLite keeps no offset, so values are converted to UTC on the way in (so that text comparison
    is time order) and marked UTC on the way out. Naive datetimes are refused: their meaning
    depends on the machine's time zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored: {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Named constraints let Alembic's batch mode rebuild SQLite tables and drop them by name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class ProcessedEvent(Base):
    """A platform event already handled: platforms retry deliveries, and a retry must do nothing."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH), primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ConversationRef(Base):
    """Where the bot can reach a person (``kind`` "user") or a channel or team ("channel") later.

    ``reference`` is the platform's own serialised reference (JSON); ``active`` turns false when the
    platform says the bot was blocked or removed, so that nobody is messaged against their wish.
    """

    __tablename__ = "conversation_refs"

    platform: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reference: Mapped[str] = mapped_column(Text())
    active: Mapped[bool] = mapped_column(Boolean())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
