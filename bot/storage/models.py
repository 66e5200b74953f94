"""The tables, as typed declarative models. Migrations, not ``create_all``, create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
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


class ConversationContext(Base):
    """A conversation's last turn as plain data (JSON), for follow-ups across web processes.

    ``at`` is the time of the turn in seconds since the epoch, the clock the core keeps it by.
    """

    __tablename__ = "conversation_context"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text())
    at: Mapped[float] = mapped_column(Float(), index=True)


class AppSecret(Base):
    """Keys the bot makes for itself when none is configured (the survey response key)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class SurveyRun(Base):
    """One team's pulse survey for one period. ``period_key`` is unique, so that however many
    clocks or restarts there are, a period's run opens once."""

    __tablename__ = "survey_runs"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(64), index=True)
    period_key: Mapped[str] = mapped_column(String(128), unique=True)
    platform: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    services: Mapped[str] = mapped_column(Text())  # JSON list of function ids, as asked
    state: Mapped[str] = mapped_column(String(16))  # open | closed
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    remind_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The digest, posted once by whichever process claims it (see bot.storage.digests).
    digest_claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    digest_lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    digest_posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    digest_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)


class OutboxMessage(Base):
    """One message to one person (an invitation or a reminder), from queued to delivered.

    A sender claims a row (state "sending", with a lease), sends it, and records the platform's
    message id. A row still "sending" after its lease is one whose sender died mid-send: it is
    checked against the platform before it is sent again.
    """

    __tablename__ = "survey_outbox"
    __table_args__ = (
        UniqueConstraint("run_id", "kind", "recipient"),
        Index("ix_survey_outbox_due", "state", "due_at"),
        Index("ix_survey_outbox_recipient", "recipient"),  # "/pmo survey": what waits for me
        # A digest's count of who was reached; without it SQLite searches ix_survey_outbox_due by
        # state alone, every sent message of every run.
        Index("ix_survey_outbox_run_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # invite | reminder
    recipient: Mapped[str] = mapped_column(String(255))
    # The recipient's platform: one team's survey can reach people on Slack and on Teams.
    platform: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    workspace: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    message_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SurveyResponse(Base):
    """One rating. ``respondent`` is a keyed hash of the person and the run: the table alone
    names nobody, and there is deliberately no time column to line answers up with deliveries."""

    __tablename__ = "survey_responses"

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id", ondelete="CASCADE"), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    function_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[int | None] = mapped_column(Integer(), nullable=True)  # None: "didn't use it"


class SurveyComment(Base):
    __tablename__ = "survey_comments"

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id", ondelete="CASCADE"), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text())


class SurveyTeam(Base):
    """A team set up from chat (``definition``, JSON of the team as the teams file would hold it),
    or only the state of a team named in the teams file (``definition`` is null): paused or not.

    ``paused_at`` is the last pause's start and ``resumed_at`` the last resume: the team is paused
    while the first is later than the second, and a run whose time fell between them is skipped,
    not opened late."""

    __tablename__ = "survey_teams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[str | None] = mapped_column(Text(), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(255))


class SurveyTeamChange(Base):
    """The audit trail of team changes made from chat: who, when, what."""

    __tablename__ = "survey_team_changes"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text())
