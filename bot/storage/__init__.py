"""Storage: the bot's database behind one module (SQLAlchemy; schema changes by Alembic migrations).

SQLite is the embedded default (``sqlite:///pmo-bot.db``), PostgreSQL the store when scaled out
(``postgresql+psycopg://...``). Nothing outside this package writes SQL.
"""

from __future__ import annotations

from bot.storage.db import ConversationRefRow, Storage, upgrade
from bot.storage.errors import StorageError

__all__ = ["ConversationRefRow", "Storage", "StorageError", "upgrade"]
