"""Conversation context in the database: a follow-up ("and for a manager?") is understood by
whichever web process it reaches."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.db import Storage
from bot.storage.models import ConversationContext


def key_hash(key: str) -> str:
    # The key holds platform ids of people and channels; the table keeps none of them.
    return hashlib.sha256(b"pmo-bot conversation\x00" + key.encode()).hexdigest()


class ContextStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def load(self, key: str) -> tuple[dict[str, object], float] | None:
        """The conversation's saved context and its time, or None."""
        statement = select(ConversationContext.data, ConversationContext.at).where(
            ConversationContext.key_hash == key_hash(key)
        )
        with self.storage.transaction() as connection:
            row = connection.execute(statement).first()
        if row is None:
            return None
        try:
            data = json.loads(row.data)
        except ValueError:
            return None
        return (data, float(row.at)) if isinstance(data, dict) else None

    def save(self, key: str, data: dict[str, object], at: float) -> None:
        values = {"key_hash": key_hash(key), "data": json.dumps(data, separators=(",", ":")), "at": at}
        dialect = postgresql if self.storage.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(ConversationContext).values(**values)
        # The last turn wins: two processes answering one person's two quick messages race here,
        # and either outcome is a sensible context.
        upsert = insert.on_conflict_do_update(
            index_elements=[ConversationContext.key_hash], set_={"data": values["data"], "at": at}
        )
        with self.storage.transaction() as connection:
            connection.execute(upsert)

    def forget_before(self, at: float) -> int:
        """Deletes contexts last touched before ``at``; returns how many."""
        statement = delete(ConversationContext).where(ConversationContext.at < at)
        with self.storage.transaction() as connection:
            return connection.execute(statement).rowcount
